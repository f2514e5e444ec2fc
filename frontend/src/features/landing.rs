//! `/`: what Taskdeck does, and the way in.

use crate::i18n::th;
use crate::i18n::{t, Msg};
use yew::prelude::*;

use crate::state::use_session;
use crate::ui::route::Route;
use crate::ui::route_link;

/// The landing page.
#[function_component(Landing)]
pub fn landing() -> Html {
    let signed_in = use_session().signed_in();
    let features = [
        (t(Msg::LandingF1Title), t(Msg::LandingF1Text)),
        (t(Msg::LandingF2Title), t(Msg::LandingF2Text)),
        (t(Msg::LandingF3Title), t(Msg::LandingF3Text)),
        (t(Msg::LandingF4Title), t(Msg::LandingF4Text)),
        (t(Msg::LandingF5Title), t(Msg::LandingF5Text)),
        (t(Msg::LandingF6Title), t(Msg::LandingF6Text)),
    ];
    html! {
        <>
            <section class="hero">
                <h1>{ th(Msg::LandingTitle) }</h1>
                <p class="lead">{ th(Msg::LandingLead) }</p>
                <div class="actions">
                    if signed_in {
                        { route_link(Route::Dashboard, "button large", t(Msg::LandingOpenDashboard)) }
                    } else {
                        { route_link(Route::Register, "button large", t(Msg::LandingRegister)) }
                        { route_link(Route::Login, "button secondary large", t(Msg::NavSignIn)) }
                    }
                </div>
            </section>
            <section class="features" aria-labelledby="features-title">
                <h2 id="features-title">{ th(Msg::LandingWhatYouGet) }</h2>
                <ul class="feature-grid">
                    { for features.iter().map(|(title, text)| html! {
                        <li class="card feature"><h3>{ *title }</h3><p>{ *text }</p></li>
                    }) }
                </ul>
            </section>
        </>
    }
}
