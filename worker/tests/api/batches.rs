//! The batched path (issue #14): many tasks claimed in one statement and finished in one
//! flush, with the lease rules unchanged. A flush that holds a task cancelled by its owner
//! or rescued by another worker finishes only the others, and each of those two keeps the
//! state its canceller or its new worker gave it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::TaskType;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::db::Db;
use worker::handlers::{HandlerContext, HandlerRegistry, TaskHandler};
use worker::queue::{self, ClaimedTask, Completion};
use worker::runner::{run_with_deps, RunOptions};
use worker::text::{Run, Text};
use worker::{Deps, TaskError};

use crate::helpers::*;

const LEASE: Duration = Duration::from_secs(60);

fn completion(task: &ClaimedTask) -> Completion {
    Completion {
        task_id: task.id,
        attempt: task.attempts,
        execution_id: task.execution_id,
        result: json!({ "ok": true }),
        duration_ms: 1,
        text: Text::new(Run::Completed).ms("duration", 1),
        context: json!({ "durationMs": 1 }),
    }
}

/// Lets the task of `id` look abandoned (its lease ran out) and has worker-b take it over
/// through the ordinary claim, as a rescue.
async fn rescue_by_b(app: &TestApp, id: Uuid) -> ClaimedTask {
    sqlx::query("update public.tasks set locked_until = now() - interval '1 second' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("expire the lease");
    let b = Db::new(app.pool.clone(), false);
    let mut claimed = queue::claim(&b, "worker-b", LEASE, 1, &[])
        .await
        .expect("worker-b claims");
    assert_eq!(claimed.len(), 1, "worker-b rescues exactly that task");
    let task = claimed.remove(0);
    assert_eq!(task.id, id);
    assert!(task.rescued);
    assert_eq!(task.attempts, 2);
    task
}

async fn completed_executions(app: &TestApp, id: Uuid) -> Vec<String> {
    executions(&app.pool, id)
        .await
        .into_iter()
        .filter(|e| e.status == "completed")
        .filter_map(|e| e.worker_id)
        .collect()
}

async fn completion_lines(app: &TestApp, id: Uuid) -> usize {
    logs(&app.pool, id)
        .await
        .into_iter()
        .filter(|(_, _, message)| message.starts_with("Completed in"))
        .count()
}

#[tokio::test]
async fn a_batch_containing_a_cancelled_or_rescued_task_finishes_only_the_others() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(app.task().title(&format!("Batch {n}")).insert().await);
    }
    // worker-a claims all four in one statement.
    let a = Db::new(app.pool.clone(), false);
    let claimed = queue::claim(&a, "worker-a", LEASE, 10, &[])
        .await
        .expect("worker-a claims");
    assert_eq!(claimed.len(), 4);
    let find = |id: Uuid| {
        claimed
            .iter()
            .find(|task| task.id == id)
            .cloned()
            .expect("claimed")
    };
    let (cancelled, rescued) = (ids[1], ids[2]);
    // Meanwhile the owner cancels one, and another is taken over by worker-b.
    cancel_as_owner(&app.pool, cancelled, app.user_id).await;
    let b_task = rescue_by_b(&app, rescued).await;

    // worker-a finishes all four in one flush: only the two it still holds are finished.
    let batch: Vec<Completion> = ids.iter().map(|id| completion(&find(*id))).collect();
    let mut finished = queue::complete_many(&a, "worker-a", &batch)
        .await
        .expect("the flush");
    finished.sort();
    let mut expected = vec![ids[0], ids[3]];
    expected.sort();
    assert_eq!(finished, expected);
    for id in [ids[0], ids[3]] {
        let row = task_row(&app.pool, id).await;
        assert_eq!(row.status, "completed");
        assert_eq!(row.progress, 100);
        assert_eq!(row.result, Some(json!({ "ok": true })));
        assert_eq!(row.locked_by, None);
        assert_eq!(completed_executions(&app, id).await, vec!["worker-a"]);
        assert_eq!(completion_lines(&app, id).await, 1);
    }

    // The cancelled task stays cancelled: no result, no completed execution, no line.
    let row = task_row(&app.pool, cancelled).await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.result, None);
    assert!(completed_executions(&app, cancelled).await.is_empty());
    assert_eq!(completion_lines(&app, cancelled).await, 0);

    // The rescued task is worker-b's: still running, its second attempt open; worker-a's
    // first attempt was closed by the rescue and is not reopened.
    let row = task_row(&app.pool, rescued).await;
    assert_eq!(row.status, "running");
    assert_eq!(row.locked_by.as_deref(), Some("worker-b"));
    assert_eq!(row.attempts, 2);
    let attempts = executions(&app.pool, rescued).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].status, "failed");
    assert_eq!(
        attempts[0].error_message.as_deref(),
        Some("The worker running it stopped responding")
    );
    assert_eq!(attempts[1].status, "running");
    assert_eq!(attempts[1].worker_id.as_deref(), Some("worker-b"));
    assert_eq!(completion_lines(&app, rescued).await, 0);

    // A flush of worker-a's stale attempt again changes nothing; worker-b's finishes it.
    let stale = completion(&find(rescued));
    assert!(queue::complete_many(&a, "worker-a", &[stale])
        .await
        .expect("stale flush")
        .is_empty());
    let b = Db::new(app.pool.clone(), false);
    assert_eq!(
        queue::complete_many(&b, "worker-b", &[completion(&b_task)])
            .await
            .expect("worker-b's flush"),
        vec![rescued]
    );
    assert_eq!(task_row(&app.pool, rescued).await.status, "completed");
    assert_eq!(completed_executions(&app, rescued).await, vec!["worker-b"]);
    assert_eq!(completion_lines(&app, rescued).await, 1);
}

/// Starts, counts itself, and returns only when the gate opens.
#[derive(Clone, Default)]
struct Gate {
    started: Arc<AtomicUsize>,
    opened: CancellationToken,
}

#[async_trait]
impl TaskHandler for Gate {
    async fn run(&self, _ctx: HandlerContext) -> Result<Value, TaskError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.opened.cancelled().await;
        Ok(json!({ "ok": true }))
    }
}

#[tokio::test]
async fn the_daemon_finishes_a_batch_around_a_cancelled_and_a_rescued_task() {
    let app = TestApp::new().await;
    let gate = Gate::default();
    let deps = Deps::new(app.new_pool(10).await, "worker-a")
        .with_lease(LEASE)
        .with_handlers(HandlerRegistry::empty().with(TaskType::Cleanup, gate.clone()));
    let metrics = deps.metrics.clone();
    let stop = CancellationToken::new();
    let daemon = tokio::spawn(run_with_deps(
        deps,
        RunOptions {
            concurrency: 4,
            batch_size: worker::config::BATCH_SIZE.default_usize(),
            poll_interval: Duration::from_millis(200),
            listen: true,
            shutdown_timeout: Duration::from_secs(10),
            metrics_addr: None,
        },
        stop.clone(),
    ));
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1, 'Batch ' || n, 'cleanup', '{}' from generate_series(1, 4) n
         returning id",
    )
    .bind(app.user_id)
    .fetch_all(&app.pool)
    .await
    .expect("tasks");
    wait_until(
        Duration::from_secs(10),
        "all four handlers to start",
        || async { (gate.started.load(Ordering::SeqCst) == 4).then_some(()) },
    )
    .await;

    // While the handlers run (the heartbeat is 20 s away), the owner cancels one and another
    // is taken over by worker-b; then all four handlers return together.
    let (cancelled, rescued) = (ids[1], ids[2]);
    cancel_as_owner(&app.pool, cancelled, app.user_id).await;
    rescue_by_b(&app, rescued).await;
    gate.opened.cancel();

    for id in [ids[0], ids[3]] {
        wait_for_status(&app.pool, id, "completed", Duration::from_secs(10)).await;
        assert_eq!(completed_executions(&app, id).await, vec!["worker-a"]);
        assert_eq!(completion_lines(&app, id).await, 1);
    }
    wait_until(
        Duration::from_secs(10),
        "worker-a to record the cancellation",
        || async {
            let attempts = executions(&app.pool, cancelled).await;
            (attempts.len() == 1 && attempts[0].status == "cancelled").then_some(())
        },
    )
    .await;
    let row = task_row(&app.pool, cancelled).await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.result, None);
    assert_eq!(completion_lines(&app, cancelled).await, 0);

    wait_until(Duration::from_secs(10), "worker-a to settle", || async {
        (metrics.completed.get() + metrics.cancelled.get() == 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let row = task_row(&app.pool, rescued).await;
    assert_eq!(row.status, "running", "still worker-b's");
    assert_eq!(row.locked_by.as_deref(), Some("worker-b"));
    assert_eq!(row.result, None);
    let attempts = executions(&app.pool, rescued).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].status, "failed");
    assert_eq!(attempts[1].status, "running");
    assert_eq!(completion_lines(&app, rescued).await, 0);
    assert_eq!(metrics.completed.get(), 2);
    assert_eq!(metrics.cancelled.get(), 1);

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), daemon)
        .await
        .expect("the worker stops")
        .expect("join")
        .expect("run");
    // Stopping worker-a does not touch worker-b's task.
    assert_eq!(
        task_row(&app.pool, rescued).await.locked_by.as_deref(),
        Some("worker-b")
    );
}

#[tokio::test]
async fn a_stale_attempt_is_not_finished_even_by_a_worker_of_the_same_name() {
    let app = TestApp::new().await;
    let id = app.task().insert().await;
    let db = Db::new(app.pool.clone(), false);
    let first = queue::claim(&db, "worker-a", LEASE, 1, &[])
        .await
        .expect("claim")
        .remove(0);
    // The process stalls past its lease; a new process with the same WORKER_NAME (which
    // knows nothing of the first one's tasks) rescues the task: attempt 2.
    sqlx::query("update public.tasks set locked_until = now() - interval '1 second' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("expire the lease");
    let second = queue::claim(&db, "worker-a", LEASE, 1, &[])
        .await
        .expect("rescue")
        .remove(0);
    assert!(second.rescued);
    assert_eq!(second.attempts, 2);
    // The stalled process wakes up and flushes attempt 1: nothing is finished.
    assert!(queue::complete_many(&db, "worker-a", &[completion(&first)])
        .await
        .expect("stale flush")
        .is_empty());
    assert_eq!(task_row(&app.pool, id).await.status, "running");
    assert_eq!(completion_lines(&app, id).await, 0);
    // Attempt 2 finishes it, once.
    assert_eq!(
        queue::complete_many(&db, "worker-a", &[completion(&second)])
            .await
            .expect("flush"),
        vec![id]
    );
    let attempts = executions(&app.pool, id).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].status, "failed");
    assert_eq!(attempts[1].status, "completed");
}
