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

use crate::app::Route;
use crate::components::route_link;

/// Any unknown address (a plain function: no hooks, so no component needed).
pub fn not_found() -> Html {
    html! {
        <section class="page narrow">
            <h1>{ "Page not found" }</h1>
            <p>{ "There is nothing at this address. It may have moved, or the link is mistyped." }</p>
            { route_link(Route::Landing, "button", "Go to the home page") }
        </section>
    }
}
