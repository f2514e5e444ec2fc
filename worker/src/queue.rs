//! The queue's state changes (their SQL is in `queries/`): claiming tasks, leases, releasing, the
//! batched completions and the `workers` row.
//!
//! A claimed task is `status = 'running'` with `locked_by` = this worker and a lease
//! (`locked_until`) that the heartbeat renews. Every write that ends an attempt is
//! conditional on `locked_by` and `status = 'running'`, so a task that was cancelled, or
//! taken over after its lease expired, is never overwritten by a worker that lost it.

use std::time::Duration;

use domain::TaskPriority;
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::db::Db;
use crate::text::Text;

/// A task this worker has just claimed.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    /// The task.
    pub id: Uuid,
    /// Its owner.
    pub user_id: Uuid,
    /// Its title.
    pub title: String,
    /// `tasks.type`, e.g. `analytics_report`: read as text, so that a row the database's
    /// check would refuse fails alone, with its reason, instead of failing the whole claim;
    /// the executor parses it into a `domain::TaskType`.
    pub task_type: String,
    /// `tasks.parameters`, as stored.
    pub parameters: Value,
    /// `low`, `medium`, `high` or `urgent` (text for the same reason; see
    /// [`ClaimedTask::priority_rank`]).
    pub priority: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Cron expression of a recurring task.
    pub recurrence: Option<String>,
    /// `true` when the task was taken over from a worker whose lease expired.
    pub rescued: bool,
    /// The `task_executions` row the claim opened for this attempt.
    pub execution_id: Uuid,
    /// Its `attempt` number (1, 2, …).
    pub execution_attempt: i32,
    /// Executions of a rescued task left `running` by the lost worker, closed by the claim.
    pub closed_executions: i64,
}

impl ClaimedTask {
    /// 0 for urgent … 3 for low ([`TaskPriority::rank`], like the `priority_rank` column);
    /// a priority the database's check would refuse ranks last.
    pub fn priority_rank(&self) -> u8 {
        self.priority
            .parse::<TaskPriority>()
            .map_or(u8::MAX, TaskPriority::rank)
    }
}

fn lease_secs(lease: Duration) -> f64 {
    lease.as_secs_f64()
}

/// Claims up to `limit` tasks: first running tasks whose lease expired (their worker is
/// gone; `running_here` are the ones this process runs, never taken twice), then pending
/// tasks that are due, most urgent first, oldest `run_after` first; opens each attempt
/// (its execution row, and for a retried or rescued task its first log lines). One
/// statement; both claims skip rows other workers hold, so concurrent workers never claim
/// the same task.
pub async fn claim(
    db: &Db,
    worker_id: &str,
    lease: Duration,
    limit: usize,
    running_here: &[Uuid],
) -> Result<Vec<ClaimedTask>, sqlx::Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // One statement, one round trip: see the file for what each part does.
    let mut tasks: Vec<ClaimedTask> = sqlx::query_file_as!(
        ClaimedTask,
        "queries/claim.sql",
        worker_id,
        lease_secs(lease),
        i64::try_from(limit).unwrap_or(i64::MAX),
        running_here
    )
    .fetch_all(db)
    .await?;
    // RETURNING has no order; rescued tasks first, then the most urgent.
    tasks.sort_by_key(|task| (!task.rescued, task.priority_rank()));
    Ok(tasks)
}

/// One successful attempt, for [`complete_many`].
#[derive(Debug, Clone)]
pub struct Completion {
    /// The task.
    pub task_id: Uuid,
    /// `tasks.attempts` as this worker's claim left it ([`ClaimedTask::attempts`]): a task
    /// rescued since (by any worker, even one of the same name) has a higher count.
    pub attempt: i32,
    /// The attempt's `task_executions` row.
    pub execution_id: Uuid,
    /// The handler's result.
    pub result: Value,
    /// How long the attempt took.
    pub duration_ms: i64,
    /// The attempt's last log line ("Completed in …").
    pub text: Text,
    /// Its context.
    pub context: Value,
}

/// Records many successful attempts in one statement (so one transaction): for each task
/// still running under `worker_id` at the same attempt, its final status and result, its
/// execution's end and its last log line. The others (cancelled, rescued by another
/// worker, retried or deleted meanwhile) are left exactly as they are; the caller records
/// what happened to their executions. Returns the tasks it finished.
///
/// Each row is found by one primary-key probe per input row (`coalesce(status, '')` is
/// `status`, never null, written so that the planner does not pick the partial "running"
/// indexes, which a busy queue fills with dead entries; no `id = any($n)` besides the join,
/// which a generic plan would test against the whole array at every probe, a cost growing
/// with the square of the batch). The execution and the log line join the tasks that were
/// updated, so an attempt whose task was not finished writes nothing. It sets `updated_at`
/// itself, which spares each row the updated_at trigger (migration
/// 20250101001200_worker_batches).
pub async fn complete_many(
    db: &Db,
    worker_id: &str,
    rows: &[Completion],
) -> Result<Vec<Uuid>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_file_scalar!(
        "queries/complete_many.sql",
        worker_id,
        &rows.iter().map(|row| row.task_id).collect::<Vec<_>>(),
        &rows.iter().map(|row| row.attempt).collect::<Vec<_>>(),
        &rows.iter().map(|row| row.execution_id).collect::<Vec<_>>(),
        &rows
            .iter()
            .map(|row| row.result.clone())
            .collect::<Vec<_>>(),
        &rows.iter().map(|row| row.duration_ms).collect::<Vec<_>>(),
        &rows
            .iter()
            .map(|row| row.text.english())
            .collect::<Vec<_>>(),
        &rows
            .iter()
            .map(|row| row.context.clone())
            .collect::<Vec<_>>(),
        &rows
            .iter()
            .map(|row| row.text.to_json())
            .collect::<Vec<_>>()
    )
    .fetch_all(db)
    .await
}

/// What the heartbeat learned about one of this worker's tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// The task.
    pub id: Uuid,
    /// Its status now (`None`: the task was deleted).
    pub status: Option<String>,
    /// Whether the lease was renewed (the task is still running and still ours).
    pub renewed: bool,
}

/// Renews the leases of `ids` that are still running under this worker and reports the
/// state of each.
pub async fn renew_leases(
    db: &Db,
    worker_id: &str,
    lease: Duration,
    ids: &[Uuid],
) -> Result<Vec<LeaseState>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_file_as!(
        LeaseState,
        "queries/renew_leases.sql",
        worker_id,
        ids,
        lease_secs(lease)
    )
    .fetch_all(db)
    .await
}

/// Puts a task this worker holds back in the queue at once (on shutdown). The attempt
/// is given back: stopping a worker is not the task's fault.
pub async fn release(
    executor: impl PgExecutor<'_>,
    task_id: Uuid,
    worker_id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query_file!("queries/release.sql", task_id, worker_id)
        .execute(executor)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Pending tasks that are due.
pub async fn queue_depth(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_file_scalar!("queries/queue_depth.sql")
        .fetch_one(db)
        .await
}

/// Cancelled tasks whose worker died before recording the cancellation: their lease
/// expired while still held. Closes their running executions and clears the lock so
/// the owner may retry them at once. Returns how many tasks were tidied.
pub async fn sweep_abandoned_cancellations(db: &Db) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ids: Vec<Uuid> = sqlx::query_file_scalar!("queries/unlock_abandoned_cancellations.sql")
        .fetch_all(&mut tx)
        .await?;
    if !ids.is_empty() {
        sqlx::query_file!("queries/close_abandoned_executions.sql", &ids)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(ids.len() as u64)
}

/// What the `workers` row says about this worker.
#[derive(Debug, Clone)]
pub struct WorkerInfo<'a> {
    /// `workers.id`.
    pub id: &'a str,
    /// Host name.
    pub hostname: &'a str,
    /// The worker's version.
    pub version: &'a str,
    /// Process id.
    pub pid: i32,
    /// Concurrency slots.
    pub concurrency: i32,
}

/// Creates or refreshes the `workers` row (`status`: running, stopping or stopped).
pub async fn upsert_worker(
    db: &Db,
    info: &WorkerInfo<'_>,
    status: &str,
    running_count: i32,
    starting: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query_file!(
        "queries/upsert_worker.sql",
        info.id,
        info.hostname,
        info.version,
        info.pid,
        info.concurrency,
        status,
        running_count,
        starting
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A number from `system_settings` (stored as a JSON number or a numeric string).
pub async fn setting_i64(db: &Db, key: &str) -> Result<Option<i64>, sqlx::Error> {
    let value: Option<Value> = sqlx::query_file_scalar!("queries/setting.sql", key)
        .fetch_optional(db)
        .await?;
    Ok(value.and_then(|value| match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }))
}
