//! The guard around every page: applies [`decide`] with the visitor's session and
//! profile, and shows the page in its layout.

use crate::i18n::th;
use crate::i18n::{t, tf, Msg};
use yew::prelude::*;

use crate::app::layout::{AppLayout, PublicLayout};
use crate::state::access::{decide, Access, Decision};
use crate::state::use_session;
use crate::ui::feedback::loading_view;
use crate::ui::hooks::use_effect_on;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router::{self, use_location};

/// Props of [`Guard`].
#[derive(Properties, PartialEq)]
pub struct GuardProps {
    /// What the page requires.
    pub access: Access,
    /// The page.
    pub children: Html,
}

/// Applies [`decide`]: renders the page in its layout, redirects visitors to sign-in
/// (and back afterwards), or tells non-admins they can't see admin pages.
#[function_component(Guard)]
pub fn guard(props: &GuardProps) -> Html {
    let session = use_session();
    let path = use_location().full();
    let state = session.state();
    let is_admin = match (&state.profile, &state.profile_error) {
        (Some(_), _) => Some(state.is_admin()),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    };
    let decision = decide(props.access, state.visitor(), is_admin, &path);
    {
        let redirect = match &decision {
            Decision::Redirect(url) | Decision::NeedsCode(url) => Some(url.clone()),
            _ => None,
        };
        use_effect_on(redirect, |redirect| {
            if let Some(url) = redirect {
                router::replace(url);
            }
        });
    }
    match decision {
        Decision::Render if props.access == Access::Public => {
            html! { <PublicLayout>{ props.children.clone() }</PublicLayout> }
        }
        Decision::Render => html! { <AppLayout>{ props.children.clone() }</AppLayout> },
        Decision::Redirect(_) => {
            html! { <PublicLayout>{ loading_view(t(Msg::GuardToSignIn)) }</PublicLayout> }
        }
        Decision::NeedsCode(_) => {
            html! { <PublicLayout>{ loading_view(t(Msg::GuardAskingCode)) }</PublicLayout> }
        }
        Decision::Wait => {
            html! { <AppLayout>{ loading_view(t(Msg::GuardChecking)) }</AppLayout> }
        }
        Decision::Forbidden => html! {
            <AppLayout>
                <section class="page narrow">
                    <h1>{ th(Msg::GuardAdminsOnly) }</h1>
                    <div class="alert error" role="alert">
                        <p>{ th(Msg::GuardAdminsOnlyText) }</p>
                        if let Some(error) = &state.profile_error {
                            <p>{ tf(Msg::GuardProfileFailed, &[("error", &error.to_string())]) }</p>
                        }
                    </div>
                    { route_link(Route::Dashboard, "button", t(Msg::GuardBack)) }
                </section>
            </AppLayout>
        },
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::api::config::Config;
    use crate::api::http::Api;
    use crate::api::session::now_secs;
    use crate::features;
    use crate::state::{AppContext, AppState};
    use crate::ui::router::Router;

    /// A page that would ask for data: it must never show for a session that needs its code.
    #[function_component(Secret)]
    fn secret() -> Html {
        html! { <p id="secret">{ "Your tasks" }</p> }
    }

    /// The app's switch with two pages: sign-in (the code step) and [`Secret`] anywhere
    /// else.
    #[function_component(Pages)]
    fn pages() -> Html {
        let route = use_location().route;
        let content = if route == Route::Login {
            html! { <features::auth::Login /> }
        } else {
            html! { <Secret /> }
        };
        let access = if route == Route::Login {
            Access::Public
        } else {
            Access::SignedIn
        };
        html! { <Guard {access}>{ content }</Guard> }
    }

    #[derive(Properties, PartialEq)]
    struct GuardedProps {
        token: &'static str,
    }

    /// [`Pages`] with a session of `token` whose user has a verified TOTP factor.
    #[function_component(Guarded)]
    fn guarded(props: &GuardedProps) -> Html {
        let api = use_memo((), |_| {
            Api::new(
                Config {
                    supabase_url: "http://127.0.0.1:9".into(),
                    supabase_anon_key: "anon".into(),
                },
                "http://127.0.0.1:9",
            )
        });
        let token = props.token;
        let state = use_reducer(move || AppState {
            session: Some(crate::api::session::Session {
                access_token: token.into(),
                refresh_token: "r".into(),
                expires_at: now_secs() + 3600,
                user: crate::api::session::AuthUser {
                    id: uuid::Uuid::nil(),
                    email: Some("mia@example.com".into()),
                    user_metadata: serde_json::Value::Null,
                    app_metadata: serde_json::Value::Null,
                    factors: Some(vec![crate::api::session::Factor {
                        id: "f1".into(),
                        factor_type: "totp".into(),
                        status: "verified".into(),
                        friendly_name: Some("Phone".into()),
                        created_at: None,
                    }]),
                },
            }),
            ..AppState::default()
        });
        let context = AppContext {
            state,
            api: (*api).clone(),
        };
        html! {
            <ContextProvider<AppContext> {context}>
                <Router><Pages /></Router>
            </ContextProvider<AppContext>>
        }
    }

    // {"sub":"x","aal":"aal1"} / {"sub":"x","aal":"aal2"}
    const AAL1: &str = "e30.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMSJ9.s";
    const AAL2: &str = "e30.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMiJ9.s";

    /// Renders [`Guarded`] at `path` until `settled` (a CSS selector) is on the page (at
    /// most 5 s: rendering is asynchronous, and slower while the machine is busy), and
    /// hands back what it shows and where it went; the app is destroyed afterwards (a live
    /// guard would follow the next test's address).
    async fn visit(
        path: &str,
        token: &'static str,
        settled: &str,
    ) -> (web_sys::Element, router::Location) {
        let before = router::Location::current().full();
        router::replace(path);
        let document = gloo::utils::document();
        let root = document.create_element("div").expect("a div");
        document
            .body()
            .expect("a body")
            .append_child(&root)
            .expect("appended");
        let app =
            yew::Renderer::<Guarded>::with_root_and_props(root.clone(), GuardedProps { token })
                .render();
        for _ in 0..500 {
            if root.query_selector(settled).ok().flatten().is_some() {
                break;
            }
            gloo::timers::future::TimeoutFuture::new(10).await;
        }
        let here = router::Location::current();
        let shown = root.clone_node_with_deep(true).expect("a copy");
        app.destroy();
        root.remove();
        router::replace(&before);
        (wasm_bindgen::JsCast::unchecked_into(shown), here)
    }

    #[wasm_bindgen_test]
    async fn the_guard_sends_an_aal1_session_to_the_code_step() {
        let (shown, here) = visit("/tasks?status=failed", AAL1, "#code").await;
        assert_eq!(here.route, Route::Login);
        assert_eq!(here.full(), "/auth/login?next=%2Ftasks%3Fstatus%3Dfailed");
        assert!(shown.query_selector("#secret").ok().flatten().is_none());
        let text = shown.text_content().unwrap_or_default();
        assert!(text.contains("Two-step verification"), "{text}");
        assert!(text.contains("for mia@example.com"), "{text}");
        assert!(shown.query_selector("#code").ok().flatten().is_some());
    }

    #[wasm_bindgen_test]
    async fn the_guard_lets_an_aal2_session_in() {
        let (shown, here) = visit("/tasks", AAL2, "#secret").await;
        assert_eq!(here.full(), "/tasks");
        assert!(shown.query_selector("#secret").ok().flatten().is_some());
    }
}
