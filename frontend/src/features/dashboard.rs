//! `/dashboard`: the last 30 days at a glance, recent tasks, quick actions.

use crate::i18n::th;
use crate::i18n::{t, tf, Msg};
use domain::{DateRange, Metric};
use yew::prelude::*;

use crate::api::{analytics, tasks};
use crate::state::use_session;
use crate::ui::badge::progress_cell_view;
use crate::ui::badge::status_badge_view;
use crate::ui::feedback::empty_view;
use crate::ui::format;
use crate::ui::hooks::use_load;
use crate::ui::metric_card::metric_series_view;
use crate::ui::remote_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::time_view;

/// The metrics of the dashboard cards.
pub const CARD_METRICS: [Metric; 3] = [Metric::Revenue, Metric::Users, Metric::Conversion];

/// The dashboard.
#[function_component(Dashboard)]
pub fn dashboard() -> Html {
    let session = use_session();
    let today = format::today();
    let range = DateRange::last_days(today, 30);
    let metrics = use_load(range, |api, range| async move {
        analytics::metrics(&api, range, &CARD_METRICS).await
    });
    let recent = use_load((), |api, ()| async move { tasks::recent(&api, 6).await });
    let feed = crate::ui::hooks::use_live_reload(
        session
            .user_id()
            .map(|uid| crate::api::realtime::Binding::new("tasks", format!("user_id=eq.{uid}")))
            .into_iter()
            .collect(),
        recent.reload.clone(),
        150,
        5000,
    );
    let name = session
        .profile()
        .and_then(|p| p.name)
        .map(|n| tf(Msg::DashboardWelcomeName, &[("name", &n)]))
        .unwrap_or_else(|| t(Msg::DashboardWelcome).to_owned());
    let view_metrics = Callback::from(|result: std::rc::Rc<domain::AnalyticsResult>| {
        html! {
            <div class="cards">
                { for CARD_METRICS.iter().filter_map(|m| result.series(*m).map(|s| html! {
                    { metric_series_view(*m, s) }
                })) }
            </div>
        }
    });
    let view_recent = Callback::from(|rows: std::rc::Rc<Vec<domain::Task>>| {
        if rows.is_empty() {
            return html! {
                { empty_view(t(Msg::DashboardEmptyTitle), html! { <>
                    <p>{ th(Msg::DashboardEmptyText) }</p>
                    { route_link(Route::NewTask, "button", t(Msg::TasksNew)) }
                </> }) }
            };
        }
        html! {
            <ul class="task-list">
                { for rows.iter().map(|task| html! {
                    <li>
                        { route_link(Route::TaskDetail { id: task.id.to_string() }, "", task.title.clone()) }
                        { status_badge_view(task.status) }
                        { progress_cell_view(task) }
                        <span class="muted">{ time_view(&task.created_at, format::ago(&task.created_at, format::now())) }</span>
                    </li>
                }) }
            </ul>
        }
    });
    html! {
        <section class="page">
            <header class="page-head">
                <h1>{ name }</h1>
                <div class="actions">
                    { route_link(Route::NewTask, "button", t(Msg::TasksNew)) }
                    { route_link(Route::Analytics, "button secondary", t(Msg::NavAnalytics)) }
                    { route_link(Route::Reports, "button secondary", t(Msg::NavReports)) }
                </div>
            </header>
            <h2>{ th(Msg::DashboardLast30) }</h2>
            { remote_view(metrics.state, view_metrics, metrics.reload, t(Msg::DashboardLoadingMetrics)) }
            <div class="section-head">
                <h2>{ th(Msg::DashboardRecent) }</h2>
                { route_link(Route::Tasks, "", t(Msg::DashboardAllTasks)) }
            </div>
            { crate::ui::hooks::paused_note_view(feed) }
            { remote_view(recent.state, view_recent, recent.reload, t(Msg::DashboardLoadingTasks)) }
        </section>
    }
}
