//! The switch: each [`Route`] to its page in `features`, behind its guard. The only
//! place that knows every feature.

use yew::prelude::*;

use crate::app::guard::Guard;
use crate::features;
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

/// The page at the current address, behind its guard.
#[function_component(CurrentPage)]
pub fn current_page() -> Html {
    let route = use_location().route;
    let access = route.access();
    let content = page(&route);
    html! { <Guard {access}>{ content }</Guard> }
}
