use std::collections::BTreeMap;
use std::rc::Rc;

use domain::{ExecutionLog, LogLevel, Task, TaskExecution, TaskStatus};
use gloo::timers::callback::Timeout;
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::ui::badge::priority_badge_view;
use crate::ui::badge::progress_bar_view;
use crate::ui::badge::state_badge_view;
use crate::ui::badge::status_badge_view;
use crate::ui::column_titles;
use crate::ui::feedback::empty_view;
use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::event_value;
use crate::ui::hooks::use_effect_on;
use crate::ui::remote_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router;
use crate::ui::term;
use crate::ui::{datetime_view, time_view, DownloadLink};

use crate::api::decode::FromJson;
use crate::api::error::AppError;
use crate::api::realtime::{Binding, Change, Feed};
use crate::api::{executions, tasks};
use crate::state::use_app;
use crate::ui::format;
use crate::ui::hooks::{
    paused_note_view, use_action, use_catch_up, use_coalesced, use_load, use_realtime, Errors,
    Remote,
};
use crate::ui::run_text;

/// The delay before the `n`-th poll of an unfinished task: 1 s, 2 s, … up to 5 s. A pending
/// task that is due sooner (`due_in_ms` until its `run_after` / `scheduled_at`) is looked at
/// just after it is due, and one that is overdue every second, so its start is seen at once.
pub fn poll_delay_ms(n: u32, due_in_ms: Option<i64>) -> u32 {
    let backoff = (1000 + n.saturating_mul(1000)).min(5000);
    match due_in_ms {
        Some(ms) if ms <= 0 => 1000,
        Some(ms) => u32::try_from(ms.saturating_add(250)).map_or(backoff, |d| d.min(backoff)),
        None => backoff,
    }
}

/// The file a finished task produced in the `reports` bucket: `(bucket, path)` from its
/// result (`{"bucket": "reports", "path": "…"}`).
pub fn produced_file(task: &Task) -> Option<(String, String)> {
    let result = task.result.as_ref()?;
    let path = result
        .get("path")
        .or_else(|| result.get("storagePath"))
        .and_then(Value::as_str)?;
    let bucket = result
        .get("bucket")
        .and_then(Value::as_str)
        .unwrap_or("reports");
    (bucket == "reports" && !path.is_empty()).then(|| (bucket.to_owned(), path.to_owned()))
}

/// The newer of the loaded task and the one a change brought (by `updated_at`).
pub(crate) fn newest(loaded: &Rc<Task>, live: Option<&Rc<Task>>) -> Rc<Task> {
    match live {
        Some(live) if live.id == loaded.id && live.updated_at >= loaded.updated_at => live.clone(),
        _ => loaded.clone(),
    }
}

/// The loaded log lines with the ones changes brought (lines of task `id` at `level` and
/// above), in insertion order (by id), each once.
pub(crate) fn merged_logs(
    loaded: &Rc<Vec<ExecutionLog>>,
    live: &BTreeMap<i64, ExecutionLog>,
    id: Uuid,
    level: LogLevel,
) -> Rc<Vec<ExecutionLog>> {
    let mut extra = live
        .values()
        .filter(|l| l.task_id == id && l.level >= level)
        .peekable();
    if extra.peek().is_none() {
        return loaded.clone();
    }
    let mut lines = BTreeMap::new();
    for line in loaded.iter().chain(extra) {
        lines.insert(line.id, line.clone());
    }
    Rc::new(lines.into_values().collect())
}

/// One task: fields, progress, attempts, log; live while it runs (`id` from the URL).
pub fn task_detail(id: &str) -> Html {
    match id.parse::<Uuid>() {
        Ok(id) => html! { <TaskView {id} /> },
        Err(_) => html! {
            <section class="page narrow">
                <h1>{ th(Msg::TaskNotFound) }</h1>
                { error_view(AppError::NotFound, None) }
                { route_link(Route::Tasks, "", t(Msg::TaskBack)) }
            </section>
        },
    }
}

#[derive(Properties, PartialEq)]
struct TaskViewProps {
    id: Uuid,
}

#[function_component(TaskView)]
fn task_view(props: &TaskViewProps) -> Html {
    let ctx = use_app();
    let id = props.id;
    let level = use_state(|| LogLevel::Debug);
    let task = use_load(id, |api, id| async move { tasks::get(&api, id).await });
    let attempts = use_load(
        id,
        |api, id| async move { executions::list(&api, id).await },
    );
    let logs = use_load((id, *level), |api, (id, level)| async move {
        executions::logs(&api, id, level, 500).await
    });
    let running = use_action(Errors::Notified);
    let polls = use_state(u32::default);

    // Changes as they are committed: the task's row and new log lines are shown as they
    // come, an attempt's change reads the attempts again.
    let live_task = use_mut_ref(|| None::<Rc<Task>>);
    let live_logs = use_mut_ref(BTreeMap::<i64, ExecutionLog>::new);
    let redraw = use_force_update();
    let reload_attempts = use_coalesced(attempts.reload.clone(), 100);
    let on_change = {
        let (live_task, live_logs, reload_task) =
            (live_task.clone(), live_logs.clone(), task.reload.clone());
        Callback::from(move |change: Change| match change.table.as_str() {
            "tasks" => match Task::from_json(&change.record) {
                Ok(t) if !change.is_delete() => {
                    *live_task.borrow_mut() = Some(Rc::new(t));
                    redraw.force_update();
                }
                _ => reload_task.emit(()),
            },
            "execution_logs" => {
                if let Ok(line) = ExecutionLog::from_json(&change.record) {
                    live_logs.borrow_mut().insert(line.id, line);
                    redraw.force_update();
                }
            }
            _ => reload_attempts.emit(()),
        })
    };
    let feed = use_realtime(
        vec![
            Binding::new("tasks", format!("id=eq.{id}")),
            Binding::new("task_executions", format!("task_id=eq.{id}")),
            Binding::new("execution_logs", format!("task_id=eq.{id}")),
        ],
        on_change,
    );
    {
        let reloads = (
            task.reload.clone(),
            attempts.reload.clone(),
            logs.reload.clone(),
        );
        use_catch_up(
            feed,
            Callback::from(move |()| {
                reloads.0.emit(());
                reloads.1.emit(());
                reloads.2.emit(());
            }),
        );
    }

    // Polling only while changes do not come live: while pending or running, backing off
    // from 1 s to 5 s; and after a cancel until the worker has closed the attempt (its
    // final log lines come then).
    let current = task
        .state
        .ready()
        .map(|loaded| newest(loaded, live_task.borrow().as_ref()));
    let attempt_open = attempts.state.ready().is_some_and(|list| {
        list.iter()
            .any(|e| e.status == domain::ExecutionStatus::Running)
    });
    let active = current.as_ref().is_some_and(|t| !t.status.is_terminal()) || attempt_open;
    let polling = active && feed != Feed::Live;
    let updated_at = current.as_ref().map(|t| t.updated_at);
    // When a pending task may start: a retry's backoff, or its schedule.
    let due_at = current
        .as_ref()
        .filter(|t| t.status == TaskStatus::Pending)
        .and_then(|t| t.run_after.or(t.scheduled_at));
    {
        let polls = polls.clone();
        use_effect_on(updated_at, move |_| polls.set(0));
    }
    {
        let reloads = (
            task.reload.clone(),
            attempts.reload.clone(),
            logs.reload.clone(),
        );
        let polls = polls.clone();
        use_effect_on((polling, *polls, due_at), move |(polling, n, due_at)| {
            let n = *n;
            let due_in = due_at.map(|at| (at - format::now()).num_milliseconds());
            let timer = polling.then(|| {
                Timeout::new(poll_delay_ms(n, due_in), move || {
                    reloads.0.emit(());
                    reloads.1.emit(());
                    reloads.2.emit(());
                    polls.set(n + 1);
                })
            });
            move || drop(timer)
        });
    }

    let run = |action: &'static str| {
        let (ctx, running, reload, reload_attempts) = (
            ctx.clone(),
            running.clone(),
            task.reload.clone(),
            attempts.reload.clone(),
        );
        Callback::from(move |_| {
            if running.busy() {
                return;
            }
            let (ctx, reload, reload_attempts) =
                (ctx.clone(), reload.clone(), reload_attempts.clone());
            running.run(async move {
                let result = match action {
                    "cancel" => tasks::cancel(&ctx.api, id).await,
                    _ => tasks::retry(&ctx.api, id).await,
                };
                reload.emit(());
                reload_attempts.emit(());
                match result {
                    Ok(_) if action == "cancel" => ctx.notify(t(Msg::TaskCancelled)),
                    Ok(_) => ctx.notify(t(Msg::TaskQueued)),
                    Err(e) => return Err(e),
                }
                Ok(())
            });
        })
    };
    let clone = { Callback::from(move |_| router::push(&format!("/tasks/new?from={id}"))) };
    let on_level = {
        let level = level.clone();
        Callback::from(move |e: Event| {
            level.set(event_value(&e).parse().unwrap_or(LogLevel::Debug))
        })
    };

    let task_view = match &task.state {
        Remote::Loading => {
            return html! { <section class="page">{ loading_view(t(Msg::TaskLoading)) }</section> }
        }
        Remote::Failed(error) => {
            return html! {
                <section class="page narrow">
                    <h1>{ th(Msg::TitleTask) }</h1>
                    { error_view(error.clone(), Some(task.reload.clone())) }
                    { route_link(Route::Tasks, "", t(Msg::TaskBack)) }
                </section>
            }
        }
        Remote::Ready(loaded) => newest(loaded, live_task.borrow().as_ref()),
    };
    let shown: &Task = &task_view;
    let logs_state = match &logs.state {
        Remote::Ready(rows) => Remote::Ready(merged_logs(rows, &live_logs.borrow(), id, *level)),
        other => other.clone(),
    };
    let file = produced_file(shown);
    let view_attempts = Callback::from(|rows: Rc<Vec<TaskExecution>>| {
        if rows.is_empty() {
            return empty_view(
                t(Msg::TaskNoAttempts),
                html! { <p>{ th(Msg::TaskPickUp) }</p> },
            );
        }
        html! {
            <div class="table-wrap"><table class="table">
                <thead><tr>
                    { column_titles(&[t(Msg::TaskAttempt), t(Msg::CommonStatus), t(Msg::TaskWorker), t(Msg::TaskStarted), t(Msg::TaskDuration), t(Msg::TaskError)]) }
                </tr></thead>
                <tbody>{ for rows.iter().map(|e| html! {
                    <tr key={e.id.to_string()}>
                        <td>{ e.attempt }</td>
                        <td>{ state_badge_view(e.status.as_str(), label(e.status)) }</td>
                        <td>{ e.worker_id.clone().unwrap_or_default() }</td>
                        <td>{ datetime_view(&e.started_at) }</td>
                        <td>{ e.duration_ms.map(format::duration_ms).unwrap_or_else(|| "—".into()) }</td>
                        <td>{ e.error_message.as_deref().map(|english| run_text::say(e.error_text.as_ref(), english)).unwrap_or_default() }</td>
                    </tr>
                }) }</tbody>
            </table></div>
        }
    });
    let view_logs = Callback::from(|rows: Rc<Vec<ExecutionLog>>| {
        if rows.is_empty() {
            return empty_view(t(Msg::TaskNoLogs), Html::default());
        }
        html! {
            <ol class="log" aria-live="polite">
                { for rows.iter().map(|line| html! {
                    <li key={line.id} class={format!("level-{}", line.level.as_str())}>
                        { time_view(&line.created_at, format::time_of_day(&line.created_at)) }
                        <span class="level">{ label(line.level) }</span>
                        <span class="message">{ run_text::say(line.message_text.as_ref(), &line.message) }</span>
                    </li>
                }) }
            </ol>
        }
    });
    html! {
        <section class="page">
            <header class="page-head">
                <div>
                    <p class="muted">{ route_link(Route::Tasks, "", t(Msg::TaskBackShort)) }</p>
                    <h1>{ shown.title.clone() }</h1>
                </div>
                <div class="actions">
                    if matches!(shown.status, TaskStatus::Pending | TaskStatus::Running) {
                        { crate::ui::button("button danger", t(Msg::CommonCancel), running.busy(), run("cancel")) }
                    }
                    if matches!(shown.status, TaskStatus::Failed | TaskStatus::Cancelled) {
                        { crate::ui::button("button", t(Msg::TaskRetry), running.busy(), run("retry")) }
                    }
                    if let Some((bucket, path)) = file {
                        <DownloadLink bucket={bucket} name={path.rsplit('/').next().unwrap_or("report").to_owned()}
                            path={path.clone()} label={t(Msg::TaskDownload)} class="button" />
                    }
                    { crate::ui::button("button secondary", t(Msg::TaskClone), false, clone) }
                </div>
            </header>
            <div class="card">
                <div class="status-line">
                    { status_badge_view(shown.status) }
                    { priority_badge_view(shown.priority) }
                    if active { <span class="live" aria-live="polite">{ th(Msg::TaskLive) }</span> }
                </div>
                { paused_note_view(feed) }
                { progress_bar_view(shown.progress) }
                if let Some(error) = run_text::task_error(shown) {
                    <p class="alert error">{ error }</p>
                }
                <dl class="fields">
                    { term(t(Msg::CommonType), html! { { label(shown.task_type) } }) }
                    if let Some(d) = &shown.description { { term(t(Msg::TaskDescription), html! { { d.clone() } }) } }
                    { term(t(Msg::CommonCreated), datetime_view(&shown.created_at)) }
                    if let Some(at) = &shown.scheduled_at { { term(t(Msg::TaskScheduled), datetime_view(at)) } }
                    if let Some(at) = &shown.started_at { { term(t(Msg::TaskStarted), datetime_view(at)) } }
                    if let Some(at) = &shown.completed_at { { term(t(Msg::TaskFinished), datetime_view(at)) } }
                    { term(t(Msg::TaskAttempts), html! { { tf(Msg::TaskAttemptsOf, &[("n", &shown.attempts.to_string()), ("max", &shown.max_attempts.to_string())]) } }) }
                    if let Some(r) = &shown.recurrence { { term(t(Msg::TaskRepeats), html! { <code>{ r.clone() }</code> }) } }
                    { term(t(Msg::TaskParameters), html! { <pre>{ serde_json::to_string_pretty(&shown.parameters).unwrap_or_default() }</pre> }) }
                    if let Some(result) = &shown.result { { term(t(Msg::TaskResult), html! { <pre>{ serde_json::to_string_pretty(result).unwrap_or_default() }</pre> }) } }
                </dl>
            </div>
            <h2>{ th(Msg::TaskAttempts) }</h2>
            { remote_view(attempts.state.clone(), view_attempts, attempts.reload.clone(), t(Msg::CommonLoading)) }
            <div class="section-head">
                <h2>{ th(Msg::TaskLog) }</h2>
                <div class="field inline">
                    <label for="log-level">{ th(Msg::TaskShow) }</label>
                    <select id="log-level" onchange={on_level}>
                        { for LogLevel::ALL.iter().map(|l| html! {
                            <option value={l.as_str()} selected={*l == *level}>{ tf(Msg::TaskAndAbove, &[("level", label(l))]) }</option>
                        }) }
                    </select>
                </div>
            </div>
            { remote_view(logs_state, view_logs, logs.reload.clone(), t(Msg::CommonLoading)) }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn polling_backs_off_to_five_seconds() {
        let delays: Vec<u32> = (0..7).map(|n| poll_delay_ms(n, None)).collect();
        assert_eq!(delays, [1000, 2000, 3000, 4000, 5000, 5000, 5000]);
    }

    #[wasm_bindgen_test]
    fn a_pending_task_is_looked_at_just_after_it_is_due() {
        // Due in 1.5 s while the back-off would wait 4 s: 1.75 s.
        assert_eq!(poll_delay_ms(3, Some(1500)), 1750);
        // Due later than the back-off: the back-off.
        assert_eq!(poll_delay_ms(0, Some(60_000)), 1000);
        assert_eq!(poll_delay_ms(6, Some(60_000)), 5000);
        // Overdue (the worker takes it any moment): every second, whatever the back-off.
        assert_eq!(poll_delay_ms(6, Some(-200)), 1000);
        assert_eq!(poll_delay_ms(6, Some(0)), 1000);
    }

    #[wasm_bindgen_test]
    fn finds_the_produced_file() {
        let mut task: Task = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "user_id": "22222222-2222-4222-8222-222222222222",
            "title": "R", "type": "analytics_report", "status": "completed", "priority": "low",
            "progress": 100, "created_at": "2024-04-01T06:00:00Z", "updated_at": "2024-04-01T06:00:00Z",
            "attempts": 1, "max_attempts": 3,
            "result": {"reportId": "x", "bucket": "reports", "path": "2222/7d6f/report.pdf"}
        }))
        .expect("task");
        assert_eq!(
            produced_file(&task),
            Some(("reports".into(), "2222/7d6f/report.pdf".into()))
        );
        task.result = Some(json!({"imported": 3, "bucket": "imports", "path": "2222/events.csv"}));
        assert_eq!(produced_file(&task), None);
        task.result = None;
        assert_eq!(produced_file(&task), None);
    }
}
