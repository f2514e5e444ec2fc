//! `/`: what Taskdeck does, and the way in.

use yew::prelude::*;

use crate::state::use_session;
use crate::ui::route::Route;
use crate::ui::route_link;

/// The landing page.
#[function_component(Landing)]
pub fn landing() -> Html {
    let signed_in = use_session().signed_in();
    let features = [
        ("Automate the busywork", "Schedule reports, exports, CSV imports and web calls; recurring tasks run on a cron schedule."),
        ("Watch every run", "Live progress, each attempt and its log, retries with backoff, cancellation at any time."),
        ("See your numbers", "Revenue, new users, conversion, orders and visits over any period, with trends against the one before."),
        ("Download the reports", "Reports as JSON, CSV, Excel or PDF, kept privately for you and downloaded through short-lived links."),
        ("Secure by default", "Every row is checked by the database for who you are; two-step sign-in with an authenticator app."),
        ("For teams", "Administrators manage people and roles and keep an eye on workers, queues and failures."),
    ];
    html! {
        <>
            <section class="hero">
                <h1>{ "Put your recurring work on autopilot" }</h1>
                <p class="lead">{ "Taskdeck runs your reports, exports and integrations in the background and turns your business events into clear analytics." }</p>
                <div class="actions">
                    if signed_in {
                        { route_link(Route::Dashboard, "button large", "Open your dashboard") }
                    } else {
                        { route_link(Route::Register, "button large", "Create a free account") }
                        { route_link(Route::Login, "button secondary large", "Sign in") }
                    }
                </div>
            </section>
            <section class="features" aria-labelledby="features-title">
                <h2 id="features-title">{ "What you get" }</h2>
                <ul class="feature-grid">
                    { for features.iter().map(|(title, text)| html! {
                        <li class="card feature"><h3>{ *title }</h3><p>{ *text }</p></li>
                    }) }
                </ul>
            </section>
        </>
    }
}
