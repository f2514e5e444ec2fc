//! One module per route; the admin pages live in [`admin`] so the rest of the app does
//! not depend on them.

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod dashboard;
pub mod landing;
pub mod settings;
pub mod tasks;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;

/// Any unknown address.
#[function_component(NotFound)]
pub fn not_found() -> Html {
    html! {
        <section class="page narrow">
            <h1>{ "Page not found" }</h1>
            <p>{ "There is nothing at this address. It may have moved, or the link is mistyped." }</p>
            <Link<Route> to={Route::Landing} classes="button">{ "Go to the home page" }</Link<Route>>
        </section>
    }
}
