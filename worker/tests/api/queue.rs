//! Claiming, state transitions, retries, rescue, bad input, recurrence — driven with
//! `try_execute_one` so every step is deterministic.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{Datelike, Timelike, Weekday};
use domain::TaskType;
use serde_json::json;
use uuid::Uuid;
use worker::config::Backoff;
use worker::handlers::HandlerRegistry;
use worker::{try_execute_one, Outcome};

use crate::helpers::*;

#[tokio::test]
async fn a_task_goes_from_pending_to_running_to_completed_with_its_execution_and_logs() {
    let app = TestApp::new().await;
    let handler = Succeed::default();
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone()));
    let id = app.task().insert().await;

    let before = task_row(&app.pool, id).await;
    assert_eq!(before.status, "pending");
    assert_eq!(before.attempts, 0);

    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Ran(id));
    let after = task_row(&app.pool, id).await;
    assert_eq!(after.status, "completed");
    assert_eq!(after.attempts, 1);
    assert_eq!(after.progress, 100);
    assert_eq!(after.result, Some(json!({ "ok": true })));
    assert_eq!(after.locked_by, None);
    assert_eq!(after.locked_until, None);
    assert!(after.started_at.is_some() && after.completed_at.is_some());
    assert_eq!(after.error_message, None);

    let executions = executions(&app.pool, id).await;
    assert_eq!(executions.len(), 1);
    let execution = &executions[0];
    assert_eq!(execution.attempt, 1);
    assert_eq!(execution.status, "completed");
    assert_eq!(execution.worker_id.as_deref(), Some(&*deps.worker_id));
    assert!(execution.duration_ms.is_some());
    assert!(execution.completed_at.is_some());
    assert_eq!(execution.result, Some(json!({ "ok": true })));

    let logs = logs(&app.pool, id).await;
    let messages: Vec<&str> = logs.iter().map(|(_, _, m)| m.as_str()).collect();
    // A first attempt's start is its execution row: the log holds its steps and outcome.
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0], "halfway");
    assert!(messages[1].starts_with("Completed in "), "{messages:?}");
    assert_eq!(handler.runs.lock().expect("lock").as_slice(), &[id]);

    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Empty);
    assert_eq!(deps.metrics.completed.get(), 1);
    assert_eq!(deps.metrics.claimed.get(), 1);
}

#[tokio::test]
async fn urgent_tasks_are_claimed_before_low_ones_then_by_age() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let low = app.task().priority("low").insert().await;
    let medium_old = app.task().priority("medium").insert().await;
    let urgent = app.task().priority("urgent").insert().await;
    let high = app.task().priority("high").insert().await;
    // run_after decides among equals: make the second medium task newer.
    let medium_new = app.task().priority("medium").insert().await;
    sqlx::query(
        "update public.tasks set run_after = run_after + interval '1 second' where id = $1",
    )
    .bind(medium_new)
    .execute(&app.pool)
    .await
    .expect("update");
    sqlx::query("update public.tasks set run_after = now() - interval '1 minute' where id <> $1")
        .bind(medium_new)
        .execute(&app.pool)
        .await
        .expect("update");
    sqlx::query("update public.tasks set run_after = now() - interval '2 minutes' where id = $1")
        .bind(medium_old)
        .execute(&app.pool)
        .await
        .expect("update");
    sqlx::query("update public.tasks set run_after = now() - interval '30 seconds' where id = $1")
        .bind(medium_new)
        .execute(&app.pool)
        .await
        .expect("update");

    let order = drain(&deps).await;
    assert_eq!(order, vec![urgent, high, medium_old, medium_new, low]);
}

#[tokio::test]
async fn a_task_scheduled_in_the_future_waits_until_it_is_due() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let later = app.task().scheduled_in(3600.0).insert().await;
    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Empty);
    assert_eq!(task_row(&app.pool, later).await.status, "pending");
    make_due(&app.pool, later).await;
    assert_eq!(
        try_execute_one(&deps).await.expect("run"),
        Outcome::Ran(later)
    );
    assert_eq!(task_row(&app.pool, later).await.status, "completed");
}

#[tokio::test]
async fn a_retryable_failure_backs_off_then_fails_after_max_attempts() {
    let app = TestApp::new().await;
    let handler = Fail::retryable("The server answered 503 Service Unavailable");
    let deps = app
        .deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone()))
        .with_backoff(Backoff {
            base: Duration::from_secs(60),
            cap: Duration::from_secs(600),
        });
    let id = app.task().max_attempts(3).insert().await;

    // Attempt 1: back to pending, due in 30–60 s (equal jitter on a 60 s ceiling).
    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempts, 1);
    assert_eq!(row.locked_by, None);
    assert_eq!(
        row.last_error.as_deref(),
        Some("The server answered 503 Service Unavailable")
    );
    assert!(
        row.run_after_in_secs > 29.0 && row.run_after_in_secs <= 60.5,
        "{}",
        row.run_after_in_secs
    );
    assert_eq!(
        try_execute_one(&deps).await.expect("run"),
        Outcome::Empty,
        "backoff is respected"
    );

    // Attempt 2: the ceiling doubles to 120 s.
    make_due(&app.pool, id).await;
    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "pending");
    assert!(
        row.run_after_in_secs > 59.0 && row.run_after_in_secs <= 120.5,
        "{}",
        row.run_after_in_secs
    );

    // Attempt 3 is the last: failed, in words.
    make_due(&app.pool, id).await;
    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 3);
    assert_eq!(
        row.error_message.as_deref(),
        Some("Gave up after 3 attempts: The server answered 503 Service Unavailable")
    );
    assert!(row.completed_at.is_some());
    assert_eq!(row.locked_by, None);

    let executions = executions(&app.pool, id).await;
    assert_eq!(
        executions.iter().map(|e| e.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(executions.iter().all(|e| e.status == "failed"
        && e.error_message.as_deref() == Some("The server answered 503 Service Unavailable")));
    let logs = logs(&app.pool, id).await;
    assert!(logs.iter().any(|(attempt, level, message)| *attempt == 1
        && level == "warn"
        && message.starts_with(
            "Attempt 1 of 3 failed: The server answered 503 Service Unavailable. Trying again in"
        )));
    assert!(logs.iter().any(|(attempt, level, message)| *attempt == 3
        && level == "error"
        && message.starts_with("Failed: Gave up after 3 attempts")));
    // Each retry's log starts with the attempt, which sets it apart from the earlier ones.
    for attempt in [2, 3] {
        let first = logs
            .iter()
            .find(|(a, _, _)| *a == attempt)
            .expect("a log line of the attempt");
        assert_eq!(first.1, "info");
        assert!(
            first
                .2
                .starts_with(&format!("Attempt {attempt} of 3 started on worker test-")),
            "{logs:?}"
        );
    }
    assert!(!logs
        .iter()
        .any(|(a, _, message)| *a == 1 && message.contains("started on worker")));
    assert_eq!(handler.runs.load(Ordering::SeqCst), 3);
    assert_eq!(deps.metrics.retried.get(), 2);
    assert_eq!(deps.metrics.failed.get(), 1);
}

#[tokio::test]
async fn a_permanent_failure_fails_at_once() {
    let app = TestApp::new().await;
    let deps = app.deps_with(
        HandlerRegistry::empty().with(TaskType::Cleanup, Fail::permanent("The file is empty")),
    );
    let id = app.task().max_attempts(5).insert().await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1);
    assert_eq!(row.error_message.as_deref(), Some("The file is empty"));
}

#[tokio::test]
async fn a_type_without_handler_fails_clearly_and_the_worker_goes_on() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let export = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "tasks", "format": "csv" }),
        )
        .priority("urgent")
        .insert()
        .await;
    let next = app.task().insert().await;
    assert_eq!(drain(&deps).await, vec![export, next]);
    let row = task_row(&app.pool, export).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("This worker has no handler for tasks of type Data export")
    );
    assert_eq!(task_row(&app.pool, next).await.status, "completed");
}

/// Rows the database's own checks would refuse, written with triggers off (a task
/// written before a rule existed, or by hand).
async fn insert_unchecked(app: &TestApp, task_type: &str, parameters: serde_json::Value) -> Uuid {
    let mut tx = app.pool.begin().await.expect("tx");
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("replica");
    if task_type == "mystery" {
        sqlx::query("alter table public.tasks drop constraint tasks_type_check")
            .execute(&mut *tx)
            .await
            .expect("drop check");
    }
    let id = sqlx::query_scalar(
        "insert into public.tasks (user_id, title, type, parameters) values ($1, 'Unchecked', $2, $3) returning id",
    )
    .bind(app.user_id)
    .bind(task_type)
    .bind(parameters)
    .fetch_one(&mut *tx)
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    id
}

#[tokio::test]
async fn bad_parameters_or_an_unknown_type_fail_permanently_with_a_clear_message() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let bad_params = insert_unchecked(
        &app,
        "http_request",
        json!({ "method": "GET", "url": "ftp://x" }),
    )
    .await;
    let unknown = insert_unchecked(&app, "mystery", json!({})).await;
    let ran = drain(&deps).await;
    assert_eq!(ran.len(), 2);

    let row = task_row(&app.pool, bad_params).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.error_message.as_deref(),
        Some("Invalid parameters for this task: url must be an absolute http:// or https:// URL")
    );
    let row = task_row(&app.pool, unknown).await;
    assert_eq!(row.status, "failed");
    let message = row.error_message.expect("message");
    assert!(
        message.starts_with("This task cannot run: unknown task type \"mystery\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_task_whose_worker_died_is_rescued_when_its_lease_expires() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let id = app.task().insert().await;
    // A worker claimed it, started attempt 1, and died: its lease ran out a minute ago.
    sqlx::query(
        "update public.tasks set status = 'running', locked_by = 'dead-worker', attempts = 1,
                locked_until = now() - interval '1 minute', started_at = now() - interval '2 minutes'
          where id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("claim");
    sqlx::query("insert into public.task_executions (task_id, attempt, worker_id) values ($1, 1, 'dead-worker')")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("execution");

    // A live lease is left alone.
    let live = app.task().insert().await;
    sqlx::query(
        "update public.tasks set status = 'running', locked_by = 'live-worker', attempts = 1,
                locked_until = now() + interval '1 minute' where id = $1",
    )
    .bind(live)
    .execute(&app.pool)
    .await
    .expect("claim");

    assert_eq!(drain(&deps).await, vec![id]);
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed");
    assert_eq!(row.attempts, 2);
    let executions = executions(&app.pool, id).await;
    assert_eq!(executions.len(), 2);
    assert_eq!(executions[0].status, "failed");
    assert_eq!(
        executions[0].error_message.as_deref(),
        Some("The worker running it stopped responding")
    );
    assert!(executions[0].completed_at.is_some());
    assert_eq!(executions[1].attempt, 2);
    assert_eq!(executions[1].status, "completed");
    let logs = logs(&app.pool, id).await;
    assert_eq!(
        logs[0],
        (
            2,
            "warn".to_owned(),
            "Rescued: the previous worker's lease expired".to_owned()
        )
    );
    assert_eq!(deps.metrics.rescued.get(), 1);
    assert_eq!(
        task_row(&app.pool, live).await.locked_by.as_deref(),
        Some("live-worker")
    );
}

#[tokio::test]
async fn a_rescued_task_that_used_up_its_attempts_fails() {
    let app = TestApp::new().await;
    let handler = Succeed::default();
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone()));
    let id = app.task().max_attempts(2).insert().await;
    sqlx::query(
        "update public.tasks set status = 'running', locked_by = 'dead-worker', attempts = 2,
                locked_until = now() - interval '1 second' where id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("claim");
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert!(
        row.error_message
            .as_deref()
            .is_some_and(|m| m.starts_with("The task was interrupted 2 times")),
        "{:?}",
        row.error_message
    );
    assert!(
        handler.runs.lock().expect("lock").is_empty(),
        "the handler did not run"
    );
}

#[tokio::test]
async fn a_task_cancelled_while_running_is_never_overwritten_by_its_result() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, CancelledMeanwhile));
    let id = app.task().insert().await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.error_message.as_deref(), Some("Cancelled by you"));
    assert_eq!(row.result, None);
    assert_eq!(
        row.locked_by, None,
        "the lock is cleared so the owner can retry at once"
    );
    let executions = executions(&app.pool, id).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].status, "cancelled");
    assert_eq!(deps.metrics.cancelled.get(), 1);
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_does_not_write_its_result() {
    let app = TestApp::new().await;
    // The handler simulates a long pause: meanwhile another worker took the task over.
    #[derive(Clone)]
    struct TakenOver;
    #[async_trait::async_trait]
    impl worker::handlers::TaskHandler for TakenOver {
        async fn run(
            &self,
            ctx: worker::handlers::HandlerContext,
        ) -> Result<serde_json::Value, worker::TaskError> {
            sqlx::query("update public.tasks set locked_by = 'other-worker' where id = $1")
                .bind(ctx.task.id)
                .execute(&ctx.db)
                .await
                .expect("take over");
            Ok(json!({ "stale": true }))
        }
    }
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, TakenOver));
    let id = app.task().insert().await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "running");
    assert_eq!(row.locked_by.as_deref(), Some("other-worker"));
    assert_eq!(row.result, None);
    let executions = executions(&app.pool, id).await;
    assert_eq!(executions[0].status, "failed");
    assert!(executions[0]
        .error_message
        .as_deref()
        .is_some_and(|m| m.contains("lost its lease")));
}

#[tokio::test]
async fn a_recurring_task_enqueues_its_next_run_once() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let id = app
        .task()
        .recurrence("0 6 * * 1")
        .priority("high")
        .title("Weekly cleanup")
        .kind("cleanup", json!({ "retentionDays": 7 }))
        .insert()
        .await;
    assert_eq!(drain(&deps).await, vec![id]);

    #[derive(sqlx::FromRow, Clone)]
    struct Child {
        title: String,
        #[sqlx(rename = "type")]
        task_type: String,
        parameters: serde_json::Value,
        priority: String,
        recurrence: Option<String>,
        scheduled_at: chrono::DateTime<chrono::Utc>,
        status: String,
        user_id: Uuid,
    }
    let children: Vec<Child> = sqlx::query_as(
        "select title, type, parameters, priority, recurrence, scheduled_at, status, user_id
           from public.tasks where parent_task_id = $1",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .expect("children");
    assert_eq!(children.len(), 1);
    let Child {
        title,
        task_type,
        parameters,
        priority,
        recurrence,
        scheduled_at,
        status,
        user_id: owner,
    } = children[0].clone();
    assert_eq!(title, "Weekly cleanup");
    assert_eq!(task_type, "cleanup");
    assert_eq!(parameters, json!({ "retentionDays": 7 }));
    assert_eq!(priority, "high");
    assert_eq!(recurrence.as_deref(), Some("0 6 * * 1"));
    assert_eq!(status, "pending");
    assert_eq!(owner, app.user_id);
    assert_eq!(scheduled_at.weekday(), Weekday::Mon);
    assert_eq!(
        (
            scheduled_at.hour(),
            scheduled_at.minute(),
            scheduled_at.second()
        ),
        (6, 0, 0)
    );
    assert!(scheduled_at > chrono::Utc::now());
    assert!(scheduled_at < chrono::Utc::now() + chrono::Duration::days(8));
    // Not due yet.
    assert_eq!(try_execute_one(&deps).await.expect("run"), Outcome::Empty);
    let logs = logs(&app.pool, id).await;
    assert!(
        logs.iter()
            .any(|(_, _, m)| m.starts_with("Next run scheduled for ")),
        "{logs:?}"
    );
}

#[tokio::test]
async fn a_recurring_task_that_fails_still_enqueues_its_next_run() {
    let app = TestApp::new().await;
    let deps =
        app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Fail::permanent("nope")));
    let id = app.task().recurrence("*/5 * * * *").insert().await;
    drain(&deps).await;
    assert_eq!(task_row(&app.pool, id).await.status, "failed");
    let next: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select scheduled_at from public.tasks where parent_task_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("child");
    assert_eq!(next.minute() % 5, 0);
    assert_eq!(next.second(), 0);

    // Retried by hand (retry_task) and completing this time: still one next run.
    sqlx::query(
        "update public.tasks set status = 'pending', attempts = 0, run_after = now() where id = $1",
    )
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("retry");
    let succeed =
        app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    assert_eq!(drain(&succeed).await, vec![id]);
    assert_eq!(task_row(&app.pool, id).await.status, "completed");
    let count: i64 =
        sqlx::query_scalar("select count(*) from public.tasks where parent_task_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_panicking_handler_fails_its_task_and_the_worker_goes_on() {
    #[derive(Clone)]
    struct Panics;
    #[async_trait::async_trait]
    impl worker::handlers::TaskHandler for Panics {
        async fn run(
            &self,
            _ctx: worker::handlers::HandlerContext,
        ) -> Result<serde_json::Value, worker::TaskError> {
            panic!("a bug in a handler");
        }
    }
    let app = TestApp::new().await;
    let deps = app.deps_with(
        HandlerRegistry::empty()
            .with(TaskType::Cleanup, Panics)
            .with(TaskType::DataExport, Succeed::default()),
    );
    let bad = app.task().priority("urgent").insert().await;
    let good = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "tasks", "format": "csv" }),
        )
        .insert()
        .await;
    assert_eq!(drain(&deps).await, vec![bad, good]);
    let row = task_row(&app.pool, bad).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("The worker hit an internal error while running this task; the details are in the worker's log")
    );
    assert_eq!(task_row(&app.pool, good).await.status, "completed");
}

#[tokio::test]
async fn a_handler_that_ignores_its_cancellation_is_dropped_after_the_grace_period() {
    #[derive(Clone)]
    struct Stubborn;
    #[async_trait::async_trait]
    impl worker::handlers::TaskHandler for Stubborn {
        async fn run(
            &self,
            _ctx: worker::handlers::HandlerContext,
        ) -> Result<serde_json::Value, worker::TaskError> {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(json!({}))
        }
    }
    let app = TestApp::new().await;
    let mut deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Stubborn));
    deps.cancel_grace = Duration::from_millis(200);
    let id = app.task().insert().await;
    let runner = tokio::spawn({
        let deps = deps.clone();
        async move { try_execute_one(&deps).await }
    });
    wait_for_status(&app.pool, id, "running", Duration::from_secs(10)).await;
    wait_until(
        Duration::from_secs(5),
        "the task to be registered as running",
        || async { (!deps.running.is_empty()).then_some(()) },
    )
    .await;
    cancel_as_owner(&app.pool, id, app.user_id).await;
    // What the heartbeat does every lease/3.
    worker::runner::check_running_tasks(&deps)
        .await
        .expect("heartbeat");
    let outcome = tokio::time::timeout(Duration::from_secs(5), runner)
        .await
        .expect("dropped after the grace period")
        .expect("join")
        .expect("run");
    assert_eq!(outcome, Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.locked_by, None);
    assert_eq!(executions(&app.pool, id).await[0].status, "cancelled");
}

#[tokio::test]
async fn an_attempt_longer_than_the_time_limit_is_stopped_and_fails_clearly() {
    #[derive(Clone)]
    struct Slow;
    #[async_trait::async_trait]
    impl worker::handlers::TaskHandler for Slow {
        async fn run(
            &self,
            _ctx: worker::handlers::HandlerContext,
        ) -> Result<serde_json::Value, worker::TaskError> {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(json!({}))
        }
    }
    let app = TestApp::new().await;
    let deps = app
        .deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Slow))
        .with_task_timeout(Some(Duration::from_millis(300)));
    let id = app.task().max_attempts(2).insert().await;
    let limit_message =
        "The attempt was stopped after 300 ms, the longest an attempt may run (WORKER_TASK_TIMEOUT_SECS)";

    // Attempt 1 of 2: stopped at the limit, retried like a timeout.
    let outcome = tokio::time::timeout(Duration::from_secs(10), try_execute_one(&deps))
        .await
        .expect("stopped at the limit")
        .expect("run");
    assert_eq!(outcome, Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.locked_by, None);
    let executions_now = executions(&app.pool, id).await;
    assert_eq!(executions_now[0].status, "failed");
    assert_eq!(
        executions_now[0].error_message.as_deref(),
        Some(limit_message)
    );
    assert!(executions_now[0].duration_ms.is_some_and(|ms| ms >= 300));

    // Attempt 2 of 2: the last one fails the task, in words.
    make_due(&app.pool, id).await;
    let outcome = tokio::time::timeout(Duration::from_secs(10), try_execute_one(&deps))
        .await
        .expect("stopped at the limit")
        .expect("run");
    assert_eq!(outcome, Outcome::Ran(id));
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some(format!("Gave up after 2 attempts: {limit_message}").as_str())
    );
    let logs = logs(&app.pool, id).await;
    assert!(
        logs.iter().any(|(attempt, level, message)| *attempt == 1
            && level == "warn"
            && message.starts_with(&format!("Attempt 1 of 2 failed: {limit_message}"))),
        "{logs:?}"
    );
    assert_eq!(deps.metrics.failed.get(), 1);
}
