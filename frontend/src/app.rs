//! Routes, the switch, the layouts around pages, and the guards.

use gloo::timers::callback::Timeout;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

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
use crate::services::http::Api;
use crate::services::profiles;
use crate::session::{now_secs, refresh_delay_ms};
use crate::state::{Action, AppContext, AppState};

/// Every page of the app.
#[derive(Debug, Clone, PartialEq, Eq, Routable)]
pub enum Route {
    /// The landing page.
    #[at("/")]
    Landing,
    /// Sign in.
    #[at("/auth/login")]
    Login,
    /// Create an account.
    #[at("/auth/register")]
    Register,
    /// Ask for a recovery mail.
    #[at("/auth/forgot-password")]
    ForgotPassword,
    /// Choose a new password (from the recovery mail).
    #[at("/auth/reset-password")]
    ResetPassword,
    /// Metrics and recent tasks.
    #[at("/dashboard")]
    Dashboard,
    /// The task list.
    #[at("/tasks")]
    Tasks,
    /// The creation wizard.
    #[at("/tasks/new")]
    NewTask,
    /// One task.
    #[at("/tasks/:id")]
    TaskDetail {
        /// The task id.
        id: String,
    },
    /// Charts.
    #[at("/analytics")]
    Analytics,
    /// Generated reports.
    #[at("/analytics/reports")]
    Reports,
    /// Settings index.
    #[at("/settings")]
    Settings,
    /// Profile settings.
    #[at("/settings/profile")]
    SettingsProfile,
    /// Password, MFA, sessions.
    #[at("/settings/security")]
    SettingsSecurity,
    /// Admin overview.
    #[at("/admin")]
    Admin,
    /// Users.
    #[at("/admin/users")]
    AdminUsers,
    /// Workers, queue, failures, settings.
    #[at("/admin/system")]
    AdminSystem,
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
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

fn switch(route: Route) -> Html {
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
    let navigator = use_navigator();
    let location = use_location();
    let state = session.state();
    let path = location
        .map(|l| format!("{}{}", l.path(), l.query_str()))
        .unwrap_or_else(|| "/".into());
    let is_admin = match (&state.profile, &state.profile_error) {
        (Some(_), _) => Some(state.is_admin()),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    };
    let decision = decide(props.access, state.signed_in(), is_admin, &path);
    {
        let redirect = matches!(decision, Decision::Redirect(_));
        use_effect_on((redirect, path), move |(redirect, path)| {
            if let (true, Some(navigator)) = (*redirect, navigator) {
                let _ = navigator.replace_with_query(&Route::Login, &[("next", path.as_str())]);
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
            <BrowserRouter>
                <Switch<Route> render={switch} />
            </BrowserRouter>
        </ContextProvider<AppContext>>
    }
}

/// Navigates to a path of this site (`/tasks?status=failed`), as after sign-in.
pub fn go_to_path(navigator: &Navigator, path: &str) {
    let (route_path, query) = path.split_once('?').unwrap_or((path, ""));
    let route = Route::recognize(route_path).unwrap_or(Route::Dashboard);
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                js_sys::decode_uri_component(&s.replace('+', " "))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| s.to_owned())
            };
            (decode(k), decode(v))
        })
        .collect();
    if pairs.is_empty() {
        navigator.push(&route);
    } else {
        let _ = navigator.push_with_query(&route, &pairs);
    }
}
