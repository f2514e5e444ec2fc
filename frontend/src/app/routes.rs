//! The switch: each [`Route`] to its page in `features`, behind its guard. The only
//! place that knows every feature.

use yew::prelude::*;

use crate::app::guard::Guard;
use crate::features;
use crate::i18n::{t, tf, Msg};
use crate::ui::route::Route;
use crate::ui::router::use_location;

fn page(route: &Route) -> Html {
    match route.clone() {
        Route::Landing => html! { <features::landing::Landing /> },
        Route::Login => html! { <features::auth::Login /> },
        Route::Register => html! { <features::auth::Register /> },
        Route::ForgotPassword => html! { <features::auth::ForgotPassword /> },
        Route::ResetPassword => html! { <features::auth::ResetPassword /> },
        Route::Dashboard => html! { <features::dashboard::Dashboard /> },
        Route::Tasks => html! { <features::tasks::TaskList /> },
        Route::NewTask => html! { <features::tasks::NewTaskWizard /> },
        Route::TaskDetail { id } => features::tasks::task_detail(&id),
        Route::Analytics => html! { <features::analytics::Analytics /> },
        Route::Reports => html! { <features::analytics::Reports /> },
        Route::Settings => features::settings::settings_index(),
        Route::SettingsProfile => html! { <features::settings::ProfileSettings /> },
        Route::SettingsSecurity => html! { <features::settings::SecuritySettings /> },
        Route::Admin => html! { <features::admin::AdminOverview /> },
        Route::AdminUsers => html! { <features::admin::AdminUsers /> },
        Route::AdminSystem => html! { <features::admin::AdminSystem /> },
        Route::NotFound => features::not_found(),
    }
}

/// The name of a route's page, for `document.title`.
fn title(route: &Route) -> Msg {
    match route {
        Route::Landing => Msg::TitleLanding,
        Route::Login => Msg::NavSignIn,
        Route::Register => Msg::NavCreateAccount,
        Route::ForgotPassword => Msg::TitleForgotPassword,
        Route::ResetPassword => Msg::TitleResetPassword,
        Route::Dashboard => Msg::NavDashboard,
        Route::Tasks => Msg::NavTasks,
        Route::NewTask => Msg::TasksNew,
        Route::TaskDetail { .. } => Msg::TitleTask,
        Route::Analytics => Msg::NavAnalytics,
        Route::Reports => Msg::NavReports,
        Route::Settings => Msg::NavSettings,
        Route::SettingsProfile => Msg::TitleProfile,
        Route::SettingsSecurity => Msg::TitleSecurity,
        Route::Admin => Msg::NavAdmin,
        Route::AdminUsers => Msg::TitleUsers,
        Route::AdminSystem => Msg::TitleSystem,
        Route::NotFound => Msg::NotfoundTitle,
    }
}

/// The page at the current address, behind its guard.
#[function_component(CurrentPage)]
pub fn current_page() -> Html {
    let route = use_location().route;
    // Rendered again on each change of language (the root keys this component by it).
    gloo::utils::document().set_title(&tf(Msg::TitlePage, &[("page", t(title(&route)))]));
    let access = route.access();
    let content = page(&route);
    html! { <Guard {access}>{ content }</Guard> }
}
