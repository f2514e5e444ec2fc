//! The pages, one module per area (a page that grows becomes a folder with its own
//! pieces): [`auth`], [`landing`], [`dashboard`], [`tasks`] (list, detail, the creation
//! wizard), [`analytics`], [`settings`], and [`admin`], which nothing else depends on.
//!
//! Features import `ui`, `state` and `api`; never `app` (which shows them) and never one
//! another.

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod dashboard;
pub mod landing;
pub mod settings;
pub mod tasks;

use crate::i18n::th;
use crate::i18n::{t, Msg};
use yew::prelude::*;

use crate::ui::route::Route;
use crate::ui::route_link;

/// Any unknown address (a plain function: no hooks, so no component needed).
pub fn not_found() -> Html {
    html! {
        <section class="page narrow">
            <h1>{ th(Msg::NotfoundTitle) }</h1>
            <p>{ th(Msg::NotfoundText) }</p>
            { route_link(Route::Landing, "button", t(Msg::NotfoundHome)) }
        </section>
    }
}
