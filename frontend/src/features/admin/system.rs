use std::rc::Rc;

use domain::{Task, TaskPriority, WorkerHeartbeat};
use gloo::timers::callback::Interval;
use yew::prelude::*;

use super::AdminNav;
use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::ui::column_titles;
use crate::ui::feedback::empty_view;
use crate::ui::hooks::use_effect_on;
use crate::ui::metric_card::metric_view;
use crate::ui::remote_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::{datetime_view, time_view};

use crate::api::admin::{self, worker_offline, Overview, SystemSetting};
use crate::api::tasks;
use crate::state::{use_app, use_session};
use crate::ui::format;
use crate::ui::hooks::{use_action, use_load, Errors};
use crate::ui::run_text;

/// `/admin/system`: workers, queue by priority, recent failures, system settings.
/// Refreshes the workers and the queue every 10 seconds.
#[function_component(AdminSystem)]
pub fn admin_system() -> Html {
    let workers = use_load((), |api, ()| async move { admin::workers(&api).await });
    let overview = use_load((), |api, ()| async move { admin::overview(&api).await });
    let failures = use_load((), |api, ()| async move {
        tasks::recent_failures(&api, 10).await
    });
    let settings = use_load((), |api, ()| async move { admin::settings(&api).await });
    // Queue counts follow every task change, read again at most once a second.
    crate::ui::hooks::use_live_reload(
        vec![crate::api::realtime::Binding::all("tasks")],
        overview.reload.clone(),
        1000,
        10_000,
    );
    {
        let (w, o) = (workers.reload.clone(), overview.reload.clone());
        use_effect_on((), move |_| {
            let interval = Interval::new(10_000, move || {
                w.emit(());
                o.emit(());
            });
            move || drop(interval)
        });
    }
    let view_workers = Callback::from(|rows: Rc<Vec<WorkerHeartbeat>>| {
        if rows.is_empty() {
            return empty_view(
                t(Msg::AdminNoWorker),
                html! { <p>{ th(Msg::AdminStartWorker) }</p> },
            );
        }
        let now = format::now();
        html! {
            <div class="table-wrap"><table class="table">
                <thead><tr>
                    { column_titles(&[t(Msg::TaskWorker), t(Msg::AdminHost), t(Msg::AdminVersion), t(Msg::AdminState), t(Msg::AdminRunning), t(Msg::AdminLastHeartbeat)]) }
                </tr></thead>
                <tbody>{ for rows.iter().map(|w| {
                    let offline = worker_offline(w, now);
                    html! {
                        <tr key={w.id.clone()}>
                            <td><code>{ w.id.clone() }</code></td>
                            <td>{ w.hostname.clone() }</td>
                            <td>{ w.version.clone() }</td>
                            <td>{ if offline { html! { <span class="offline">{ th(Msg::AdminOffline) }</span> } } else { html! { <span class="online">{ w.status.clone() }</span> } } }</td>
                            <td>{ w.running_count }</td>
                            <td>{ time_view(&w.last_heartbeat_at, format::ago(&w.last_heartbeat_at, now)) }</td>
                        </tr>
                    }
                }) }</tbody>
            </table></div>
        }
    });
    let view_queue = Callback::from(|o: Rc<Overview>| {
        html! {
                    <div class="cards">
                        { for TaskPriority::ALL.iter().rev().map(|p| html! {
        { {
                            let pending = Overview::count(&o.queue_by_priority, p.as_str());
                            metric_view(&format!("queue-{}", p.as_str()), label(p), pending.to_string(), pending as f64,
                                html! { <p class="muted">{ th(Msg::AdminPending) }</p> })
                        } }
                        }) }
                    </div>
                }
    });
    let view_failures = Callback::from(|rows: Rc<Vec<Task>>| {
        if rows.is_empty() {
            return empty_view(t(Msg::AdminNoFailures), Html::default());
        }
        html! {
            <ul class="task-list">{ for rows.iter().map(|t| html! {
                <li>
                    { route_link(Route::TaskDetail { id: t.id.to_string() }, "", t.title.clone()) }
                    <span class="muted">{ run_text::task_error(t).unwrap_or_default() }</span>
                    <span class="muted">{ t.completed_at.as_ref().map(datetime_view).unwrap_or_default() }</span>
                </li>
            }) }</ul>
        }
    });
    let reload_settings = settings.reload.clone();
    let view_settings = Callback::from(move |rows: Rc<Vec<SystemSetting>>| {
        if rows.is_empty() {
            return empty_view(t(Msg::AdminNoSettings), Html::default());
        }
        html! {
            <div class="table-wrap"><table class="table">
                <thead><tr>{ column_titles(&[t(Msg::AdminSetting), t(Msg::AdminValueJson)]) }</tr></thead>
                <tbody>{ for rows.iter().map(|s| html! {
                    <SettingRow key={s.key.clone()} setting={s.clone()} on_saved={reload_settings.clone()} />
                }) }</tbody>
            </table></div>
        }
    });
    html! {
        <section class="page">
            <h1>{ th(Msg::TitleSystem) }</h1>
            <AdminNav />
            <h2>{ th(Msg::AdminWorkers) }</h2>
            { remote_view(workers.state, view_workers, workers.reload, t(Msg::CommonLoading)) }
            <h2>{ th(Msg::AdminQueue) }</h2>
            { remote_view(overview.state, view_queue, overview.reload, t(Msg::CommonLoading)) }
            <h2>{ th(Msg::AdminFailures) }</h2>
            { remote_view(failures.state, view_failures, failures.reload, t(Msg::CommonLoading)) }
            <h2>{ th(Msg::NavSettings) }</h2>
            { remote_view(settings.state, view_settings, settings.reload, t(Msg::CommonLoading)) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SettingRowProps {
    setting: SystemSetting,
    on_saved: Callback<()>,
}

#[function_component(SettingRow)]
fn setting_row(props: &SettingRowProps) -> Html {
    let ctx = use_app();
    let me = use_session().user_id();
    let text = use_state(|| props.setting.value.to_string());
    let error = use_state(Option::<String>::default);
    let saving = use_action(Errors::Notified);
    let id = format!("setting-{}", props.setting.key);
    let save = {
        let (ctx, text, error, saving, key, on_saved) = (
            ctx.clone(),
            text.clone(),
            error.clone(),
            saving.clone(),
            props.setting.key.clone(),
            props.on_saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value: serde_json::Value = match crate::api::decode::parse(&text) {
                Ok(v) => v,
                Err(_) => {
                    error.set(Some(t(Msg::AdminMustBeJson).into()));
                    return;
                }
            };
            error.set(None);
            let (ctx, key, on_saved) = (ctx.clone(), key.clone(), on_saved.clone());
            saving.run(async move {
                admin::update_setting(&ctx.api, &key, &value, me).await?;
                // The currency of amounts applies at once, on this page and every other.
                if let (true, Some(code)) = (key == "currency", value.as_str()) {
                    ctx.state
                        .dispatch(crate::state::Action::Currency(code.to_owned()));
                }
                ctx.notify(tf(Msg::AdminSavedKey, &[("key", &key)]));
                on_saved.emit(());
                Ok(())
            });
        })
    };
    html! {
        <tr>
            <td>
                <label for={id.clone()}><code>{ props.setting.key.clone() }</code></label>
                <p class="muted">{ props.setting.description.clone().unwrap_or_default() }</p>
            </td>
            <td>
                <form class="inline" onsubmit={save}>
                    <input id={id} value={(*text).clone()} aria-invalid={error.is_some().then_some("true")}
                        oninput={{ let t = text.clone(); Callback::from(move |e: InputEvent| t.set(crate::ui::field::event_value(&e))) }} />
                    { crate::ui::submit("button secondary", t(Msg::CommonSave), saving.busy()) }
                </form>
                if let Some(e) = &*error { <p class="field-error">{ e.clone() }</p> }
            </td>
        </tr>
    }
}
