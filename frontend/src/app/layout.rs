//! The page frames: public (landing, sign-in) and signed-in (navigation, user menu). The
//! admin pages' sub-navigation is theirs (`features::admin`).

use crate::i18n::th;
use crate::i18n::{t, Msg};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::state::Action;
use crate::state::{use_app, use_session};
use crate::ui::hooks::use_effect_on;
use crate::ui::language::LanguageSwitch;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router::{self, link, use_location};

/// Props of the layouts.
#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    /// The page.
    #[prop_or_default]
    pub children: Html,
}

/// The notice banner (confirmations and errors of actions).
#[function_component(NoticeBar)]
pub fn notice_bar() -> Html {
    let ctx = use_app();
    // Confirmations go away by themselves after a while; errors stay until dismissed.
    {
        let state = ctx.state.clone();
        use_effect_on(ctx.state.notice.clone(), move |notice| {
            let timer = notice.as_ref().filter(|n| !n.is_error).map(|_| {
                gloo::timers::callback::Timeout::new(6000, move || state.dispatch(Action::Dismiss))
            });
            move || drop(timer)
        });
    }
    let Some(notice) = ctx.state.notice.clone() else {
        return html! {};
    };
    let dismiss = {
        let state = ctx.state.clone();
        Callback::from(move |_| state.dispatch(Action::Dismiss))
    };
    html! {
        <div class={classes!("notice", notice.is_error.then_some("error"))}
             role={if notice.is_error { "alert" } else { "status" }}>
            <span>{ notice.text }</span>
            <button type="button" class="link" onclick={dismiss} aria-label={t(Msg::CommonDismiss)}>{ "✕" }</button>
        </div>
    }
}

/// For visitors: a slim header with sign-in links.
#[function_component(PublicLayout)]
pub fn public_layout(props: &LayoutProps) -> Html {
    let session = use_session();
    html! {
        <div class="shell public">
            <a class="skip" href="#main">{ th(Msg::LayoutSkip) }</a>
            <header class="topbar">
                { route_link(Route::Landing, "brand", "Taskdeck") }
                <nav aria-label={t(Msg::LayoutAccount)} class="topnav">
                    if session.signed_in() {
                        { route_link(Route::Dashboard, "button", t(Msg::LayoutOpenDashboard)) }
                    } else {
                        { route_link(Route::Login, "", t(Msg::NavSignIn)) }
                        { route_link(Route::Register, "button", t(Msg::NavCreateAccount)) }
                    }
                    <LanguageSwitch id="language-public" />
                </nav>
            </header>
            <NoticeBar />
            <main id="main" class="main">{ props.children.clone() }</main>
            <footer class="footer">{ th(Msg::LayoutFooter) }</footer>
        </div>
    }
}

/// For signed-in users: the navigation and the user menu.
#[function_component(AppLayout)]
pub fn app_layout(props: &LayoutProps) -> Html {
    let session = use_session();
    let route = use_location().route;
    let menu_open = use_state(bool::default);
    let sign_out = {
        let session = session.clone();
        Callback::from(move |_| {
            let session = session.clone();
            spawn_local(async move {
                session.sign_out().await;
                router::push("/");
            });
        })
    };
    let toggle = {
        let menu_open = menu_open.clone();
        Callback::from(move |_| menu_open.set(!*menu_open))
    };
    let active = |section: &str| (route.section() == section).then_some("active");
    let name = session
        .profile()
        .and_then(|p| p.name.clone())
        .or_else(|| session.session().and_then(|s| s.user.email))
        .unwrap_or_default();
    let link = |to: Route, label: &'static str, section: &'static str| {
        let current = active(section);
        link(
            &to,
            classes!("navlink", current),
            html! { <span aria-current={current.map(|_| "page")}>{ label }</span> },
        )
    };
    html! {
        <div class="shell app">
            <a class="skip" href="#main">{ th(Msg::LayoutSkip) }</a>
            <header class="topbar">
                { route_link(Route::Dashboard, "brand", "Taskdeck") }
                <button type="button" class="menu-toggle" aria-expanded={menu_open.to_string()}
                        aria-controls="mainnav" onclick={toggle}>{ th(Msg::LayoutMenu) }</button>
                <nav id="mainnav" aria-label={t(Msg::LayoutMain)} class={classes!("mainnav", (*menu_open).then_some("open"))}>
                    { link(Route::Dashboard, t(Msg::NavDashboard), "dashboard") }
                    { link(Route::Tasks, t(Msg::NavTasks), "tasks") }
                    { link(Route::Analytics, t(Msg::NavAnalytics), "analytics") }
                    { link(Route::Settings, t(Msg::NavSettings), "settings") }
                    if session.is_admin() {
                        { link(Route::Admin, t(Msg::NavAdmin), "admin") }
                    }
                    <LanguageSwitch id="language-header" />
                    <span class="user" title={name.clone()}>{ name }</span>
                    { crate::ui::button("button secondary", t(Msg::NavSignOut), false, sign_out) }
                </nav>
            </header>
            if let Some(banner) = session.state().banner.clone() {
                <div class="banner" role="status">{ banner }</div>
            }
            <NoticeBar />
            <main id="main" class="main">{ props.children.clone() }</main>
        </div>
    }
}
