//! The administrators' pages, in their own module: nothing outside it depends on them,
//! and they use only the shared components and `api::admin`. (Yew has no lazy
//! loading of code: they are in the same wasm, kept lean.) The database refuses every
//! admin call to non-admins anyway; the guard only spares them a page of errors.

mod overview;
mod system;
mod users;

pub use overview::AdminOverview;
pub use system::AdminSystem;
pub use users::AdminUsers;

use yew::prelude::*;

use crate::i18n::{t, Msg};
use crate::ui::route::Route;
use crate::ui::router::{link, use_location};

/// The admin pages' sub-navigation.
#[function_component(AdminNav)]
pub fn admin_nav() -> Html {
    let route = use_location().route;
    let item = |to: Route, label: &'static str| {
        let current = route == to;
        link(
            &to,
            classes!("tab", current.then_some("active")),
            html! { <span aria-current={current.then_some("page")}>{ label }</span> },
        )
    };
    html! {
        <nav class="tabs" aria-label={t(Msg::AdminNav)}>
            { item(Route::Admin, t(Msg::AdminOverview)) }
            { item(Route::AdminUsers, t(Msg::TitleUsers)) }
            { item(Route::AdminSystem, t(Msg::TitleSystem)) }
        </nav>
    }
}
