//! Routes, the switch, the layouts around pages, and the guards.

use gloo::timers::callback::Timeout;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::feedback::error_view;
use crate::components::feedback::loading_view;
use crate::components::layout::{AppLayout, PublicLayout};
use crate::components::route_link;
use crate::hooks::use_effect_on;

use crate::config::{self, Config};
use crate::error::AppError;
use crate::guard::{decide, Access, Decision};
use crate::hooks::use_session;
use crate::pages;
use crate::router::{self, use_location, Router};
use crate::services::auth::{self, parse_fragment, FragmentTokens};
use crate::services::http::Api;
use crate::services::profiles;
use crate::session::{now_secs, refresh_delay_ms};
use crate::state::{Action, AppContext, AppState, Notice};

/// Every page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The landing page.
    Landing,
    /// Sign in.
    Login,
    /// Create an account.
    Register,
    /// Ask for a recovery mail.
    ForgotPassword,
    /// Choose a new password (from the recovery mail).
    ResetPassword,
    /// Metrics and recent tasks.
    Dashboard,
    /// The task list.
    Tasks,
    /// The creation wizard.
    NewTask,
    /// One task.
    TaskDetail {
        /// The task id.
        id: String,
    },
    /// Charts.
    Analytics,
    /// Generated reports.
    Reports,
    /// Settings index.
    Settings,
    /// Profile settings.
    SettingsProfile,
    /// Password, MFA, sessions.
    SettingsSecurity,
    /// Admin overview.
    Admin,
    /// Users.
    AdminUsers,
    /// Workers, queue, failures, settings.
    AdminSystem,
    /// Anything else.
    NotFound,
}

/// The routes without parameters, in [`Route::recognize`]'s search order.
const FIXED: [Route; 17] = [
    Route::Landing,
    Route::Login,
    Route::Register,
    Route::ForgotPassword,
    Route::ResetPassword,
    Route::Dashboard,
    Route::Tasks,
    Route::NewTask,
    Route::Analytics,
    Route::Reports,
    Route::Settings,
    Route::SettingsProfile,
    Route::SettingsSecurity,
    Route::Admin,
    Route::AdminUsers,
    Route::AdminSystem,
    Route::NotFound,
];

impl Route {
    /// The page at `path` (no query): [`Route::NotFound`] for anything unknown. One
    /// trailing slash is ignored (`/tasks/` is `/tasks`).
    pub fn recognize(path: &str) -> Self {
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() && !trimmed.ends_with('/') => trimmed,
            _ => path,
        };
        if let Some(id) = path.strip_prefix("/tasks/") {
            if !id.is_empty() && id != "new" && !id.contains('/') {
                return Self::TaskDetail { id: id.to_owned() };
            }
        }
        FIXED
            .into_iter()
            .find(|route| route.fixed_path() == path)
            .unwrap_or(Self::NotFound)
    }

    /// The address of the page (`/tasks/<id>`).
    pub fn to_path(&self) -> String {
        match self {
            Self::TaskDetail { id } => format!("/tasks/{id}"),
            route => route.fixed_path().to_owned(),
        }
    }

    fn fixed_path(&self) -> &'static str {
        match self {
            Self::Landing => "/",
            Self::Login => "/auth/login",
            Self::Register => "/auth/register",
            Self::ForgotPassword => "/auth/forgot-password",
            Self::ResetPassword => "/auth/reset-password",
            Self::Dashboard => "/dashboard",
            Self::Tasks => "/tasks",
            Self::NewTask => "/tasks/new",
            Self::TaskDetail { .. } => "/tasks/:id",
            Self::Analytics => "/analytics",
            Self::Reports => "/analytics/reports",
            Self::Settings => "/settings",
            Self::SettingsProfile => "/settings/profile",
            Self::SettingsSecurity => "/settings/security",
            Self::Admin => "/admin",
            Self::AdminUsers => "/admin/users",
            Self::AdminSystem => "/admin/system",
            Self::NotFound => "/404",
        }
    }

    /// What the route requires.
    pub fn access(&self) -> Access {
        match self {
            Self::Landing
            | Self::Login
            | Self::Register
            | Self::ForgotPassword
            | Self::ResetPassword
            | Self::NotFound => Access::Public,
            Self::Admin | Self::AdminUsers | Self::AdminSystem => Access::Admin,
            _ => Access::SignedIn,
        }
    }

    /// The navigation section the route belongs to.
    pub fn section(&self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Tasks | Self::NewTask | Self::TaskDetail { .. } => "tasks",
            Self::Analytics | Self::Reports => "analytics",
            Self::Settings | Self::SettingsProfile | Self::SettingsSecurity => "settings",
            Self::Admin | Self::AdminUsers | Self::AdminSystem => "admin",
            _ => "",
        }
    }
}

fn page(route: &Route) -> Html {
    match route.clone() {
        Route::Landing => html! { <pages::landing::Landing /> },
        Route::Login => html! { <pages::auth::Login /> },
        Route::Register => html! { <pages::auth::Register /> },
        Route::ForgotPassword => html! { <pages::auth::ForgotPassword /> },
        Route::ResetPassword => html! { <pages::auth::ResetPassword /> },
        Route::Dashboard => html! { <pages::dashboard::Dashboard /> },
        Route::Tasks => html! { <pages::tasks::TaskList /> },
        Route::NewTask => html! { <pages::tasks::NewTaskWizard /> },
        Route::TaskDetail { id } => pages::tasks::task_detail(&id),
        Route::Analytics => html! { <pages::analytics::Analytics /> },
        Route::Reports => html! { <pages::analytics::Reports /> },
        Route::Settings => pages::settings::settings_index(),
        Route::SettingsProfile => html! { <pages::settings::ProfileSettings /> },
        Route::SettingsSecurity => html! { <pages::settings::SecuritySettings /> },
        Route::Admin => html! { <pages::admin::AdminOverview /> },
        Route::AdminUsers => html! { <pages::admin::AdminUsers /> },
        Route::AdminSystem => html! { <pages::admin::AdminSystem /> },
        Route::NotFound => pages::not_found(),
    }
}

/// The page at the current address, behind its guard.
#[function_component(CurrentPage)]
fn current_page() -> Html {
    let route = use_location().route;
    let access = route.access();
    let content = page(&route);
    html! { <Guard {access}>{ content }</Guard> }
}

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
            html! { <PublicLayout>{ loading_view("Taking you to sign in…") }</PublicLayout> }
        }
        Decision::NeedsCode(_) => {
            html! { <PublicLayout>{ loading_view("Asking for your two-step code…") }</PublicLayout> }
        }
        Decision::Wait => {
            html! { <AppLayout>{ loading_view("Checking your access…") }</AppLayout> }
        }
        Decision::Forbidden => html! {
            <AppLayout>
                <section class="page narrow">
                    <h1>{ "Administrators only" }</h1>
                    <div class="alert error" role="alert">
                        <p>{ "This page is for administrators. Your account doesn't have access to it." }</p>
                        if let Some(error) = &state.profile_error {
                            <p>{ format!("(Your profile could not be loaded: {error})") }</p>
                        }
                    </div>
                    { route_link(Route::Dashboard, "button", "Back to the dashboard") }
                </section>
            </AppLayout>
        },
    }
}

/// The app: loads `/config.json`, then runs [`Root`].
#[function_component(App)]
pub fn app() -> Html {
    let config = use_state(|| None::<Result<Config, AppError>>);
    {
        let config = config.clone();
        use_effect_on((), move |_| {
            spawn_local(async move { config.set(Some(config::load().await)) });
        });
    }
    match &*config {
        None => loading_view("Starting Taskdeck…"),
        Some(Err(error)) => html! {
            <main class="main"><section class="page narrow">
                <h1>{ "Taskdeck can't start" }</h1>
                { error_view(error.clone(), None) }
            </section></main>
        },
        Some(Ok(config)) => html! { <Root config={config.clone()} /> },
    }
}

/// Props of [`Root`].
#[derive(Properties, PartialEq)]
pub struct RootProps {
    /// Where Supabase is.
    pub config: Config,
}

/// Holds the client and the global state; loads the profile, keeps the session fresh
/// and applies the theme.
#[function_component(Root)]
pub fn root(props: &RootProps) -> Html {
    let api = use_memo(props.config.clone(), |config| {
        Api::new(config.clone(), &config::origin())
    });
    let api: Api = (*api).clone();
    let state = use_reducer(|| AppState {
        session: api.session(),
        ..AppState::default()
    });
    // Before any page shows: take a session from a link's fragment, or read again the
    // user of a kept `aal1` session (factors may have been added on another device), so
    // that the guard judges the session by its user's factors as they are now.
    let starting = use_state(|| arrival(&api).is_some());
    {
        let (api, starting, dispatcher) = (api.clone(), starting.clone(), state.dispatcher());
        use_effect_on((), move |_| {
            if let Some(arrival) = arrival(&api) {
                spawn_local(async move {
                    arrive(&api, arrival, dispatcher).await;
                    starting.set(false);
                });
            }
        });
    }
    {
        let dispatcher = state.dispatcher();
        use_effect_on(api.clone(), move |api| {
            api.on_session_change(Callback::from(move |session| {
                dispatcher.dispatch(Action::SetSession(session));
            }));
        });
    }
    // Load the profile of whoever signs in (not before the code of two-step sign-in:
    // no data is asked for with a session that still needs it).
    {
        let dispatcher = state.dispatcher();
        let api = api.clone();
        let user_id = state
            .session
            .as_ref()
            .filter(|_| state.signed_in())
            .map(|s| s.user.id);
        use_effect_on(user_id, move |user_id| {
            if let Some(user_id) = *user_id {
                spawn_local(async move {
                    match profiles::get(&api, user_id).await {
                        Ok(profile) => dispatcher.dispatch(Action::ProfileLoaded(profile)),
                        Err(error) => dispatcher.dispatch(Action::ProfileFailed(error)),
                    }
                    if let Ok(text) = crate::services::admin::maintenance_banner(&api).await {
                        dispatcher.dispatch(Action::Banner(text));
                    }
                });
            }
        });
    }
    // Refresh the session shortly before it expires, even when idle.
    {
        let api = api.clone();
        let expires_at = state.session.as_ref().map(|s| s.expires_at);
        use_effect_on(expires_at, move |expires_at| {
            let timeout = expires_at.map(|at| {
                Timeout::new(refresh_delay_ms(at, now_secs()), move || {
                    spawn_local(async move {
                        let _ = api.refresh().await;
                    });
                })
            });
            move || drop(timeout)
        });
    }
    // Theme on <html data-theme>.
    use_effect_on(state.theme, |theme| {
        if let Some(html) = gloo::utils::document().document_element() {
            let _ = html.set_attribute("data-theme", theme.as_str());
        }
    });
    if *starting {
        return loading_view("Signing you in…");
    }
    let context = AppContext {
        state: state.clone(),
        api,
    };
    html! {
        <ContextProvider<AppContext> context={context}>
            <Router><CurrentPage /></Router>
        </ContextProvider<AppContext>>
    }
}

/// What the app must settle before its first page.
enum Arrival {
    /// `#access_token=…` from a mailed link (recovery, magic link) or a social provider.
    Link(FragmentTokens),
    /// A kept session below `aal2`: its user's factors are read again.
    Kept,
}

fn arrival(api: &Api) -> Option<Arrival> {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    match parse_fragment(&hash) {
        Some(tokens) if tokens.error.is_none() => Some(Arrival::Link(tokens)),
        _ => api
            .session()
            .filter(|session| !session.is_aal2())
            .map(|_| Arrival::Kept),
    }
}

/// Settles `arrival`. A link's session is kept and its tokens leave the address bar: a
/// recovery link goes on to the new-password page, any other link to the page it points
/// at, or the dashboard when that is a public page. The guard then sends a session that
/// needs its two-step code to the code step.
async fn arrive(api: &Api, arrival: Arrival, dispatcher: UseReducerDispatcher<AppState>) {
    match arrival {
        Arrival::Link(tokens) => {
            let here = router::Location::current();
            match auth::session_from_fragment(api, &tokens).await {
                Ok(session) => {
                    api.set_session(Some(session));
                    let to = if tokens.kind.as_deref() == Some("recovery") {
                        Route::ResetPassword.to_path()
                    } else if here.route.access() == Access::Public {
                        Route::Dashboard.to_path()
                    } else {
                        here.full()
                    };
                    router::replace(&to);
                }
                Err(error) => {
                    router::replace(&here.full());
                    dispatcher.dispatch(Action::Notify(Notice {
                        text: format!("That link could not sign you in. {error}"),
                        is_error: true,
                    }));
                }
            }
        }
        Arrival::Kept => {
            // Offline: the kept user stands; the database still checks every request.
            let _ = api.reload_user().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

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
            html! { <pages::auth::Login /> }
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
            session: Some(crate::session::Session {
                access_token: token.into(),
                refresh_token: "r".into(),
                expires_at: now_secs() + 3600,
                user: crate::session::AuthUser {
                    id: uuid::Uuid::nil(),
                    email: Some("mia@example.com".into()),
                    user_metadata: serde_json::Value::Null,
                    app_metadata: serde_json::Value::Null,
                    factors: Some(vec![crate::session::Factor {
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

    /// Renders [`Guarded`] at `path` and hands back what it shows and where it went; the
    /// app is destroyed afterwards (a live guard would follow the next test's address).
    async fn visit(path: &str, token: &'static str) -> (web_sys::Element, router::Location) {
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
        gloo::timers::future::TimeoutFuture::new(30).await;
        let here = router::Location::current();
        let shown = root.clone_node_with_deep(true).expect("a copy");
        app.destroy();
        root.remove();
        router::replace(&before);
        (wasm_bindgen::JsCast::unchecked_into(shown), here)
    }

    #[wasm_bindgen_test]
    async fn the_guard_sends_an_aal1_session_to_the_code_step() {
        let (shown, here) = visit("/tasks?status=failed", AAL1).await;
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
        let (shown, here) = visit("/tasks", AAL2).await;
        assert_eq!(here.full(), "/tasks");
        assert!(shown.query_selector("#secret").ok().flatten().is_some());
    }

    #[wasm_bindgen_test]
    fn every_route_has_its_address_and_back() {
        let task = Route::TaskDetail {
            id: "0b7f6a52-3c1e-4d2a-9f4e-2a1b3c4d5e6f".into(),
        };
        for route in FIXED.into_iter().chain([task]) {
            assert_eq!(Route::recognize(&route.to_path()), route, "{route:?}");
        }
    }

    #[wasm_bindgen_test]
    fn addresses_as_before() {
        assert_eq!(Route::recognize("/"), Route::Landing);
        assert_eq!(Route::recognize("/auth/login"), Route::Login);
        assert_eq!(
            Route::recognize("/auth/reset-password"),
            Route::ResetPassword
        );
        assert_eq!(Route::recognize("/tasks"), Route::Tasks);
        assert_eq!(Route::recognize("/tasks/"), Route::Tasks);
        assert_eq!(Route::recognize("/tasks/new"), Route::NewTask);
        assert_eq!(
            Route::recognize("/tasks/not-a-task"),
            Route::TaskDetail {
                id: "not-a-task".into()
            }
        );
        assert_eq!(Route::recognize("/analytics/reports"), Route::Reports);
        assert_eq!(
            Route::recognize("/settings/security"),
            Route::SettingsSecurity
        );
        assert_eq!(Route::recognize("/admin/system"), Route::AdminSystem);
        assert_eq!(Route::Dashboard.to_path(), "/dashboard");
        assert_eq!(
            Route::TaskDetail { id: "abc".into() }.to_path(),
            "/tasks/abc"
        );
    }

    #[wasm_bindgen_test]
    fn anything_else_is_not_found() {
        for path in [
            "",
            "/nope",
            "/404",
            "/tasks/abc/edit",
            "/tasks//",
            "/admin/users/x",
            "/auth",
            "/dashboard/",
            "//",
        ] {
            let expected = if path == "/dashboard/" {
                Route::Dashboard
            } else {
                Route::NotFound
            };
            assert_eq!(Route::recognize(path), expected, "{path}");
        }
    }
}
