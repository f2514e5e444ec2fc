//! `/dashboard`: the last 30 days at a glance, recent tasks, quick actions.

use chrono::Utc;
use domain::{DateRange, Metric};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::components::{Empty, MetricCard, ProgressCell, RemoteView, StatusBadge};
use crate::format;
use crate::hooks::{use_load, use_session};
use crate::services::{analytics, tasks};

/// The metrics of the dashboard cards.
pub const CARD_METRICS: [Metric; 3] = [Metric::Revenue, Metric::Users, Metric::Conversion];

/// The dashboard.
#[function_component(Dashboard)]
pub fn dashboard() -> Html {
    let session = use_session();
    let today = Utc::now().date_naive();
    let range = DateRange::last_days(today, 30);
    let metrics = use_load(range, |api, range| async move {
        analytics::metrics(&api, range, &CARD_METRICS).await
    });
    let recent = use_load((), |api, ()| async move { tasks::recent(&api, 6).await });
    let name = session
        .profile()
        .and_then(|p| p.name)
        .map(|n| format!(", {n}"))
        .unwrap_or_default();
    let view_metrics = Callback::from(|result: std::rc::Rc<domain::AnalyticsResult>| {
        html! {
            <div class="cards">
                { for CARD_METRICS.iter().filter_map(|m| result.series(*m).map(|s| html! {
                    <MetricCard metric={*m} series={s.clone()} />
                })) }
            </div>
        }
    });
    let view_recent = Callback::from(|rows: std::rc::Rc<Vec<domain::Task>>| {
        if rows.is_empty() {
            return html! {
                <Empty title="No tasks yet">
                    <p>{ "Create your first task: a report, an export or a web call." }</p>
                    <Link<Route> to={Route::NewTask} classes="button">{ "New task" }</Link<Route>>
                </Empty>
            };
        }
        html! {
            <ul class="task-list">
                { for rows.iter().map(|task| html! {
                    <li>
                        <Link<Route> to={Route::TaskDetail { id: task.id.to_string() }}>{ task.title.clone() }</Link<Route>>
                        <StatusBadge status={task.status} />
                        <ProgressCell task={task.clone()} />
                        <span class="muted">{ format::ago(&task.created_at, format::now()) }</span>
                    </li>
                }) }
            </ul>
        }
    });
    html! {
        <section class="page">
            <header class="page-head">
                <h1>{ format!("Welcome back{name}") }</h1>
                <div class="actions">
                    <Link<Route> to={Route::NewTask} classes="button">{ "New task" }</Link<Route>>
                    <Link<Route> to={Route::Analytics} classes="button secondary">{ "Analytics" }</Link<Route>>
                    <Link<Route> to={Route::Reports} classes="button secondary">{ "Reports" }</Link<Route>>
                </div>
            </header>
            <h2>{ "Last 30 days" }</h2>
            <RemoteView<domain::AnalyticsResult> remote={metrics.state} view={view_metrics}
                on_retry={metrics.reload} label="Loading your metrics…" />
            <div class="section-head">
                <h2>{ "Recent tasks" }</h2>
                <Link<Route> to={Route::Tasks}>{ "All tasks →" }</Link<Route>>
            </div>
            <RemoteView<Vec<domain::Task>> remote={recent.state} view={view_recent}
                on_retry={recent.reload} label="Loading your tasks…" />
        </section>
    }
}
