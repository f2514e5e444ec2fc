//! The site's address table: every page as a [`Route`], its address and back
//! ([`Route::recognize`] / [`Route::to_path`]), what it requires ([`Route::access`]) and its
//! navigation section. Pure data, tested.
//!
//! It lives in `ui`, beside the [`router`](crate::ui::router) that follows the address,
//! rather than in `app`: links in components and pages name their target as a `Route`, and
//! `app` is the only layer that may import `features`. Here everyone below `app` can use it
//! while it imports nothing above `state` ([`Access`] is the guard's pure vocabulary). The
//! table that maps each route to its page (the switch) is `app`'s
//! ([`crate::app::routes`]).

use crate::state::access::Access;

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
