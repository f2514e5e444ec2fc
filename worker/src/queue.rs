//! The queue's SQL: claiming tasks, leases, releasing, and the `workers` row.
//!
//! A claimed task is `status = 'running'` with `locked_by` = this worker and a lease
//! (`locked_until`) that the heartbeat renews. Every write that ends an attempt is
//! conditional on `locked_by` and `status = 'running'`, so a task that was cancelled, or
//! taken over after its lease expired, is never overwritten by a worker that lost it.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgExecutor;

use domain::TaskPriority;
use uuid::Uuid;

use crate::db::Db;

use crate::text::Text;

/// The columns every claim returns.
const CLAIMED_COLUMNS: &str = "t.id, t.user_id, t.title, t.type, t.parameters, t.priority, \
     t.attempts, t.max_attempts, t.recurrence";

/// A task this worker has just claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    #[sqlx(rename = "type")]
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
    // One statement (one round trip): the rescue takes expired leases first, the pending
    // claim fills what is left of `limit` (the two sets are disjoint: running vs pending);
    // then every claimed task gets its attempt opened: the lost worker's executions closed
    // ("worker lost"), this attempt's `task_executions` row, and, when it is not the task's
    // first execution, its first log lines ("Rescued: …", "Attempt n of m started on
    // worker …", which set it apart from the earlier attempts in the task's log). A first
    // attempt's start is told by its execution row (attempt, worker, started_at), which the
    // task page shows; its first log line is the handler's first step or its outcome.
    // `updated_at = now()` is what the updated_at trigger would write; set here, the trigger
    // does not fire for these rows (migration 20250101001200_worker_batches).
    let sql = format!(
        "with rescued as (
           update public.tasks t
              set locked_by = $1, locked_until = now() + make_interval(secs => $2),
                  attempts = t.attempts + 1, progress = 0, updated_at = now()
            where t.id = any(array(
                  select id from public.tasks
                   where status = 'running' and locked_until < now()
                     and not (id = any($4))
                   order by locked_until
                   limit $3
                     for update skip locked))
           returning {CLAIMED_COLUMNS}, true as rescued),
         pending as (
           update public.tasks t
              set status = 'running', locked_by = $1,
                  locked_until = now() + make_interval(secs => $2),
                  attempts = t.attempts + 1, started_at = coalesce(t.started_at, now()),
                  progress = 0, updated_at = now()
            where t.id = any(array(
                  select id from public.tasks
                   where status = 'pending' and run_after <= now()
                   order by priority_rank, run_after
                   limit greatest($3 - (select count(*) from rescued), 0)
                     for update skip locked))
           returning {CLAIMED_COLUMNS}, false as rescued),
         claimed as (
           select * from rescued
           union all
           select * from pending),
         stale as (
           update public.task_executions x
              set status = 'failed', completed_at = now(),
                  error_message = 'The worker running it stopped responding',
                  error_text = jsonb_build_object('code', 'execution_worker_lost'),
                  duration_ms = greatest((extract(epoch from now() - x.started_at) * 1000)::bigint, 0)
            where x.task_id in (select id from rescued) and x.status = 'running'
            returning x.task_id),
         execution as (
           insert into public.task_executions (task_id, attempt, worker_id, status)
           select c.id,
                  coalesce((select max(x.attempt) from public.task_executions x
                             where x.task_id = c.id), 0) + 1,
                  $1, 'running'
             from claimed c
           returning id, task_id, attempt),
         opened as (
           select c.*, e.id as execution_id, e.attempt as execution_attempt,
                  (select count(*) from stale s where s.task_id = c.id) as closed_executions
             from claimed c join execution e on e.task_id = c.id),
         logs as (
           insert into public.execution_logs
             (execution_id, task_id, level, message, message_text, context)
           select o.execution_id, o.id, l.level, l.message,
                  case l.ord
                    when 1 then jsonb_build_object('code', 'rescued')
                    else jsonb_build_object(
                           'code', 'attempt_started',
                           'args', jsonb_build_object('n', o.attempts, 'of', o.max_attempts,
                                                      'worker', $1::text))
                  end,
                  case l.ord
                    when 1 then jsonb_build_object('closedExecutions', o.closed_executions)
                    else jsonb_build_object('worker', $1::text, 'attempt', o.attempts,
                                            'execution', o.execution_attempt)
                  end
             from opened o
            cross join lateral (values
                  (1, 'warn', 'Rescued: the previous worker''s lease expired'),
                  (2, 'info', format('Attempt %s of %s started on worker %s',
                                     o.attempts, o.max_attempts, $1::text)))
                  as l(ord, level, message)
            where (l.ord = 1 and o.rescued) or (l.ord = 2 and o.execution_attempt > 1)
            order by o.id, l.ord)
         select * from opened"
    );
    let mut tasks: Vec<ClaimedTask> = sqlx::query_as(&sql)
        .bind(worker_id)
        .bind(lease_secs(lease))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(running_here)
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
    sqlx::query_scalar(
        "with input as (
           select * from unnest($2::uuid[], $3::int4[], $4::uuid[], $5::jsonb[], $6::int8[],
                                $7::text[], $8::jsonb[], $9::jsonb[])
             as i(task_id, attempt, execution_id, result, duration_ms, message, context,
                  message_text)),
         task as (
           update public.tasks t
              set status = 'completed', progress = 100, result = i.result, error_message = null,
                  completed_at = now(), locked_by = null, locked_until = null,
                  updated_at = now()
             from input i
            where t.id = i.task_id and t.locked_by = $1 and t.attempts = i.attempt
              and coalesce(t.status, '') = 'running'
            returning t.id),
         execution as (
           update public.task_executions e
              set status = 'completed', completed_at = now(), duration_ms = i.duration_ms,
                  result = i.result
             from input i join task on task.id = i.task_id
            where e.id = i.execution_id
              and coalesce(e.status, '') = 'running'
            returning e.id),
         log as (
           insert into public.execution_logs
             (execution_id, task_id, level, message, message_text, context)
           select i.execution_id, i.task_id, 'info', i.message, i.message_text, i.context
             from input i join task on task.id = i.task_id)
         select id from task",
    )
    .bind(worker_id)
    .bind(rows.iter().map(|row| row.task_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|row| row.attempt).collect::<Vec<_>>())
    .bind(rows.iter().map(|row| row.execution_id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|row| row.result.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|row| row.duration_ms).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|row| row.text.english())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|row| row.context.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|row| row.text.to_json())
            .collect::<Vec<_>>(),
    )
    .fetch_all(db)
    .await
}

/// What the heartbeat learned about one of this worker's tasks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
