use std::rc::Rc;

use domain::TaskStatus;
use yew::prelude::*;

use super::AdminNav;
use crate::api::admin::{self, Overview};
use crate::i18n::th;
use crate::i18n::{t, tf, Msg};
use crate::ui::badge::status_badge_view;
use crate::ui::column_titles;
use crate::ui::format::number;
use crate::ui::hooks::use_load;
use crate::ui::metric_card::metric_view;
use crate::ui::remote_view;

/// `/admin`: users, tasks by status, failure rate, queue depth, live workers.
#[function_component(AdminOverview)]
pub fn admin_overview() -> Html {
    let loader = use_load((), |api, ()| async move { admin::overview(&api).await });
    let view = Callback::from(|o: Rc<Overview>| {
        let card = |key: &str, label: &str, value: f64, total: String, note: String| {
            metric_view(
                key,
                label,
                total,
                value,
                html! { <p class="muted">{ note }</p> },
            )
        };
        html! {
            <>
                <div class="cards">
                    { card("users", t(Msg::TitleUsers), o.users as f64, number(o.users as f64, 0), tf(Msg::AdminActiveN, &[("n", &o.active_users.to_string())])) }
                    { card("queueDepth", t(Msg::AdminQueueDepth), o.queue_depth as f64, number(o.queue_depth as f64, 0), t(Msg::AdminPendingTasks).into()) }
                    { card("failureRate", t(Msg::AdminFailureRate), o.failure_rate(), format!("{}%", number(o.failure_rate(), 1)),
                        tf(Msg::AdminFailedOf, &[("failed", &o.failed_last24h.to_string()), ("finished", &o.finished_last24h.to_string())])) }
                    { card("liveWorkers", t(Msg::AdminLiveWorkers), o.live_workers as f64, number(o.live_workers as f64, 0), t(Msg::AdminHeartbeat30).into()) }
                </div>
                <h2>{ th(Msg::AdminByStatus) }</h2>
                <div class="table-wrap"><table class="table">
                    <thead><tr>{ column_titles(&[t(Msg::CommonStatus), t(Msg::NavTasks)]) }</tr></thead>
                    <tbody>{ for TaskStatus::ALL.iter().map(|s| html! {
                        <tr>
                            <td>{ status_badge_view(*s) }</td>
                            <td>{ number(Overview::count(&o.tasks_by_status, s.as_str()) as f64, 0) }</td>
                        </tr>
                    }) }</tbody>
                </table></div>
            </>
        }
    });
    html! {
        <section class="page">
            <h1>{ th(Msg::AdminNav) }</h1>
            <AdminNav />
            { remote_view(loader.state, view, loader.reload, t(Msg::AdminLoadingOverview)) }
        </section>
    }
}
