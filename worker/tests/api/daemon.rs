//! The daemon loop: LISTEN wake-ups, polling, heartbeat cancellation, graceful shutdown,
//! two workers on one database, the workers row and the /health + /metrics endpoint.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use domain::TaskType;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::handlers::HandlerRegistry;
use worker::observability::{self, ObservabilityState};
use worker::runner::{run_with_deps, RunOptions};
use worker::Deps;

use crate::helpers::*;

fn options(concurrency: usize) -> RunOptions {
    RunOptions {
        concurrency,
        batch_size: worker::config::BATCH_SIZE.default_usize(),
        poll_interval: Duration::from_secs(30),
        listen: true,
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    }
}

struct Running {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn start(deps: Deps, options: RunOptions) -> Self {
        let stop = CancellationToken::new();
        let handle = tokio::spawn(run_with_deps(deps, options, stop.clone()));
        Self { stop, handle }
    }

    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("the worker stops")
            .expect("join")
            .expect("run");
    }
}

async fn worker_status(app: &TestApp, id: &str) -> Option<(String, i32)> {
    sqlx::query_as("select status, running_count from public.workers where id = $1")
        .bind(id)
        .fetch_optional(&app.pool)
        .await
        .expect("workers row")
}

#[tokio::test]
async fn a_notification_wakes_the_worker_long_before_the_poll_interval() {
    let app = TestApp::new().await;
    let pool = app.new_pool(6).await;
    let deps = Deps::new(pool, "listener")
        .with_handlers(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let running = Running::start(deps, options(2)); // polls only every 30 s
    wait_until(Duration::from_secs(10), "the workers row", || async {
        worker_status(&app, "listener")
            .await
            .filter(|(s, _)| s == "running")
    })
    .await;
    // The worker LISTENs right after registering: wait until its connection has.
    wait_until(Duration::from_secs(10), "LISTEN to be in place", || async {
        sqlx::query_scalar::<_, i32>(
            "select 1 from pg_stat_activity
              where datname = current_database() and query ilike 'listen%taskdeck_task_queue%'",
        )
        .fetch_optional(&app.pool)
        .await
        .expect("pg_stat_activity")
    })
    .await;
    let started = Instant::now();
    let id = app.task().insert().await;
    wait_for_status(&app.pool, id, "completed", Duration::from_secs(10)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    running.stop().await;
    assert_eq!(
        worker_status(&app, "listener").await,
        Some(("stopped".into(), 0))
    );
}

#[tokio::test]
async fn poll_only_mode_finds_work_without_listen() {
    let app = TestApp::new().await;
    let pool = app.new_pool(6).await;
    let deps = Deps::new(pool, "poller")
        .with_handlers(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    let mut opts = options(2);
    opts.listen = false;
    opts.poll_interval = Duration::from_millis(100);
    let running = Running::start(deps, opts);
    let id = app.task().insert().await;
    wait_for_status(&app.pool, id, "completed", Duration::from_secs(10)).await;
    running.stop().await;
}

#[tokio::test]
async fn cancelling_a_running_task_reaches_its_handler_within_one_heartbeat() {
    let app = TestApp::new().await;
    let pool = app.new_pool(6).await;
    let handler = WaitForCancel::default();
    let deps = Deps::new(pool, "canceller")
        .with_handlers(HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone()))
        .with_lease(Duration::from_secs(3)); // heartbeat every second
    let running = Running::start(deps, options(2));
    let id = app.task().insert().await;
    wait_for_status(&app.pool, id, "running", Duration::from_secs(10)).await;
    tokio::time::timeout(Duration::from_secs(10), handler.started.notified())
        .await
        .expect("handler started");

    let cancelled_at = Instant::now();
    cancel_as_owner(&app.pool, id, app.user_id).await;
    wait_until(
        Duration::from_secs(5),
        "the handler to see its cancellation",
        || async { handler.saw_cancel.load(Ordering::SeqCst).then_some(()) },
    )
    .await;
    // One heartbeat is lease / 3 = 1 s; allow for a busy machine, but stay under the lease.
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(3),
        "{:?}",
        cancelled_at.elapsed()
    );

    let execution = wait_until(
        Duration::from_secs(5),
        "the execution to be cancelled",
        || async {
            executions(&app.pool, id)
                .await
                .pop()
                .filter(|e| e.status == "cancelled")
        },
    )
    .await;
    assert_eq!(
        execution.error_message.as_deref(),
        Some("Cancelled while running")
    );
    let row = wait_until(Duration::from_secs(5), "the lock to be cleared", || async {
        Some(task_row(&app.pool, id).await).filter(|r| r.locked_by.is_none())
    })
    .await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.error_message.as_deref(), Some("Cancelled by you"));
    running.stop().await;
}

#[tokio::test]
async fn shutdown_lets_short_tasks_finish_and_releases_the_rest() {
    let app = TestApp::new().await;
    let pool = app.new_pool(8).await;
    // Long tasks (type cleanup) wait for their token; short ones (data_export) take 300 ms.
    let long = WaitForCancel::default();
    let short = Succeed {
        delay: Duration::from_millis(300),
        ..Succeed::default()
    };
    let deps = Deps::new(pool, "stopping-worker").with_handlers(
        HandlerRegistry::empty()
            .with(TaskType::Cleanup, long.clone())
            .with(TaskType::DataExport, short.clone()),
    );
    let mut opts = options(4);
    opts.shutdown_timeout = Duration::from_secs(2);
    let running = Running::start(deps, opts);
    let long_id = app.task().insert().await;
    let short_id = app
        .task()
        .kind(
            "data_export",
            serde_json::json!({ "dataset": "tasks", "format": "csv" }),
        )
        .insert()
        .await;
    wait_for_status(&app.pool, long_id, "running", Duration::from_secs(10)).await;
    wait_until(
        Duration::from_secs(10),
        "the short task to start",
        || async { (!short.runs.lock().expect("lock").is_empty()).then_some(()) },
    )
    .await;

    let stopped_at = Instant::now();
    running.stop().await;
    let took = stopped_at.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "{took:?}"
    );

    assert_eq!(task_row(&app.pool, short_id).await.status, "completed");
    let row = task_row(&app.pool, long_id).await;
    assert_eq!(row.status, "pending", "released to the queue");
    assert_eq!(row.locked_by, None);
    assert_eq!(row.attempts, 0, "the attempt is given back");
    assert!(row.run_after_in_secs <= 0.5);
    let executions = executions(&app.pool, long_id).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].status, "cancelled");
    assert_eq!(
        executions[0].error_message.as_deref(),
        Some("The worker shut down")
    );
    assert!(long.saw_cancel.load(Ordering::SeqCst));
    assert_eq!(
        worker_status(&app, "stopping-worker").await,
        Some(("stopped".into(), 0))
    );

    // Another worker takes it at once.
    let next = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    assert_eq!(drain(&next).await, vec![long_id]);
    assert_eq!(task_row(&app.pool, long_id).await.status, "completed");
}

#[tokio::test]
async fn two_workers_never_run_the_same_task() {
    let app = TestApp::new().await;
    let handler = Succeed {
        delay: Duration::from_millis(5),
        ..Succeed::default()
    };
    let registry = HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone());
    let a = Running::start(
        Deps::new(app.new_pool(8).await, "worker-a").with_handlers(registry.clone()),
        RunOptions {
            poll_interval: Duration::from_millis(200),
            ..options(4)
        },
    );
    let b = Running::start(
        Deps::new(app.new_pool(8).await, "worker-b").with_handlers(registry),
        RunOptions {
            poll_interval: Duration::from_millis(200),
            ..options(4)
        },
    );
    // 100 tasks in one statement (one notification for all).
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1, 'Task ' || n, 'cleanup', '{}' from generate_series(1, 100) n
         returning id",
    )
    .bind(app.user_id)
    .fetch_all(&app.pool)
    .await
    .expect("insert");
    wait_until(Duration::from_secs(60), "100 completed tasks", || async {
        let done: i64 =
            sqlx::query_scalar("select count(*) from public.tasks where status = 'completed'")
                .fetch_one(&app.pool)
                .await
                .expect("count");
        (done == 100).then_some(())
    })
    .await;
    a.stop().await;
    b.stop().await;

    let runs = handler.runs.lock().expect("lock").clone();
    assert_eq!(runs.len(), 100, "each task ran once");
    assert_eq!(runs.iter().collect::<HashSet<_>>().len(), 100);
    let per_task: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "select task_id, count(*), count(*) filter (where status = 'completed')
           from public.task_executions group by task_id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("executions");
    assert_eq!(per_task.len(), 100);
    assert!(per_task
        .iter()
        .all(|(_, all, completed)| *all == 1 && *completed == 1));
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    assert!(per_task.iter().all(|(id, _, _)| ids.contains(id)));
    let by_worker: Vec<(String, i64)> = sqlx::query_as(
        "select worker_id, count(*) from public.task_executions group by worker_id order by worker_id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("by worker");
    assert_eq!(by_worker.iter().map(|(_, n)| n).sum::<i64>(), 100);
}

#[tokio::test]
async fn the_heartbeat_keeps_the_workers_row_fresh() {
    let app = TestApp::new().await;
    let pool = app.new_pool(6).await;
    let handler = WaitForCancel::default();
    let deps = Deps::new(pool, "beating")
        .with_handlers(HandlerRegistry::empty().with(TaskType::Cleanup, handler.clone()))
        .with_lease(Duration::from_secs(3));
    let running = Running::start(deps, options(3));
    let id = app.task().insert().await;
    wait_for_status(&app.pool, id, "running", Duration::from_secs(10)).await;
    let first: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select locked_until, now() from public.tasks where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("lease");
    let row: (String, String, i32, i32, String) = wait_until(Duration::from_secs(5), "a heartbeat", || async {
        sqlx::query_as(
            "select hostname, version, pid, concurrency, status from public.workers
              where id = 'beating' and running_count = 1 and last_heartbeat_at > now() - interval '2 seconds'",
        )
        .fetch_optional(&app.pool)
        .await
        .expect("row")
    })
    .await;
    assert_eq!(row.1, env!("CARGO_PKG_VERSION"));
    assert_eq!(row.2, i32::try_from(std::process::id()).expect("pid"));
    assert_eq!(row.3, 3);
    assert_eq!(row.4, "running");
    assert!(!row.0.is_empty());
    // The lease is renewed past its first expiry.
    wait_until(Duration::from_secs(5), "a renewed lease", || async {
        let until: chrono::DateTime<chrono::Utc> =
            sqlx::query_scalar("select locked_until from public.tasks where id = $1")
                .bind(id)
                .fetch_one(&app.pool)
                .await
                .expect("lease");
        (until > first.0).then_some(())
    })
    .await;
    running.stop().await;
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let app = TestApp::new().await;
    let deps = app.deps_with(HandlerRegistry::empty().with(TaskType::Cleanup, Succeed::default()));
    app.task().insert().await;
    drain(&deps).await;
    let stop = CancellationToken::new();
    let (addr, server) = observability::serve(
        "127.0.0.1:0".parse().expect("addr"),
        ObservabilityState {
            db: worker::db::Db::new(app.pool.clone(), false),
            metrics: deps.metrics.clone(),
            worker_id: deps.worker_id.clone(),
        },
        stop.clone(),
    )
    .await
    .expect("serve");
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let body: Value = health.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["worker"], &*deps.worker_id);

    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    for line in [
        "taskdeck_worker_tasks_claimed_total 1",
        "taskdeck_worker_tasks_completed_total 1",
        "taskdeck_worker_tasks_failed_total 0",
        "taskdeck_worker_tasks_retried_total 0",
        "taskdeck_worker_tasks_rescued_total 0",
        "taskdeck_worker_tasks_cancelled_total 0",
        "taskdeck_worker_task_run_seconds_count 1",
        "# TYPE taskdeck_worker_queue_depth gauge",
        "# TYPE taskdeck_worker_running_tasks gauge",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }

    // The database going away makes /health say so.
    app.pool.close().await;
    let health = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 503);
    stop.cancel();
    server.await.expect("server");
}
