use std::rc::Rc;

use domain::TaskStatus;
use yew::prelude::*;

use crate::components::column_titles;
use crate::components::layout::AdminNav;
use crate::components::remote_view;
use crate::format::number;
use crate::hooks::use_load;
use crate::services::admin::{self, Overview};

/// `/admin`: users, tasks by status, failure rate, queue depth, live workers.
#[function_component(AdminOverview)]
pub fn admin_overview() -> Html {
    let loader = use_load((), |api, ()| async move { admin::overview(&api).await });
    let view = Callback::from(|o: Rc<Overview>| {
        let card = |label: &str, value: String, note: String| {
            html! {
                <div class="card metric">
                    <p class="metric-name">{ label.to_owned() }</p>
                    <p class="metric-total">{ value }</p>
                    <p class="muted">{ note }</p>
                </div>
            }
        };
        html! {
            <>
                <div class="cards">
                    { card("Users", number(o.users as f64, 0), format!("{} active", o.active_users)) }
                    { card("Queue depth", number(o.queue_depth as f64, 0), "pending tasks".into()) }
                    { card("Failure rate (24 h)", format!("{}%", number(o.failure_rate(), 1)),
                        format!("{} failed of {} finished", o.failed_last24h, o.finished_last24h)) }
                    { card("Live workers", number(o.live_workers as f64, 0), "heartbeat within 30 s".into()) }
                </div>
                <h2>{ "Tasks by status" }</h2>
                <div class="table-wrap"><table class="table">
                    <thead><tr>{ column_titles(&["Status", "Tasks"]) }</tr></thead>
                    <tbody>{ for TaskStatus::ALL.iter().map(|s| html! {
                        <tr>
                            <td><span class={classes!("badge", format!("status-{}", s.as_str()))}>{ s.label() }</span></td>
                            <td>{ number(o.tasks_by_status.get(s.as_str()).copied().unwrap_or(0) as f64, 0) }</td>
                        </tr>
                    }) }</tbody>
                </table></div>
            </>
        }
    });
    html! {
        <section class="page">
            <h1>{ "Administration" }</h1>
            <AdminNav />
            { remote_view(loader.state, view, loader.reload, "Loading the overview…") }
        </section>
    }
}
