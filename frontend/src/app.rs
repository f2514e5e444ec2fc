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
use crate::services::http::Api;
use crate::services::profiles;
use crate::session::{now_secs, refresh_delay_ms};
use crate::state::{Action, AppContext, AppState};

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
    let decision = decide(props.access, state.signed_in(), is_admin, &path);
    {
        let redirect = match &decision {
            Decision::Redirect(url) => Some(url.clone()),
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
    {
        let dispatcher = state.dispatcher();
        use_effect_on(api.clone(), move |api| {
            api.on_session_change(Callback::from(move |session| {
                dispatcher.dispatch(Action::SetSession(session));
            }));
        });
    }
    // Load the profile of whoever signs in.
    {
        let dispatcher = state.dispatcher();
        let api = api.clone();
        let user_id = state.session.as_ref().map(|s| s.user.id);
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

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

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
