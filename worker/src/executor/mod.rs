//! One attempt of one task, end to end: the `task_executions` row, the handler, and the
//! writes that end the attempt (completed, retried, failed, cancelled or released).
//!
//! By phase: this module claims a task and runs its handler; `finish` ends the attempt
//! in the database (every outcome, and the batched completions); `recurring` queues a
//! recurring task's next run.

mod finish;
mod recurring;

pub use finish::Completions;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::{TaskParameters, TaskType};
use futures_util::FutureExt;
use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{Backoff, Settings};
use crate::db::Db;
use crate::error::TaskError;
use crate::handlers::{HandlerContext, HandlerRegistry, Progress, TaskLogger};
use crate::http_guard;
use crate::observability::Metrics;
use crate::queue::{self, ClaimedTask};
use crate::storage::StorageClient;
use crate::text::{Labels, Run, Text};

/// Everything an attempt needs; cheap to clone (shared handles).
#[derive(Clone, Debug)]
pub struct Deps {
    /// The database (behind a transaction pooler or not).
    pub db: Db,
    /// This worker's id (`tasks.locked_by`, `workers.id`).
    pub worker_id: Arc<str>,
    /// Lease of a claimed task.
    pub lease: Duration,
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Handlers by task type.
    pub handlers: Arc<HandlerRegistry>,
    /// Storage, when configured.
    pub storage: Option<StorageClient>,
    /// Outgoing HTTP for handlers (public addresses only unless allowed).
    pub http: reqwest::Client,
    /// Whether `http_request` tasks may call private and local addresses.
    pub allow_private_addresses: bool,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The tasks this process is running.
    pub running: RunningTasks,
    /// How long a handler may keep running after its token is tripped before it is dropped.
    pub cancel_grace: Duration,
    /// Longest run of one attempt (`WORKER_TASK_TIMEOUT_SECS`); a longer one is stopped and
    /// fails as a retryable error. `None`: no limit.
    pub task_timeout: Option<Duration>,
    /// Completions waiting to be written together (one statement for all that finished
    /// while the previous write was in flight).
    pub completions: Completions,
}

impl Deps {
    /// Defaults around a pool: the standard handlers, no Storage, a 30 s lease.
    pub fn new(pool: PgPool, worker_id: impl Into<String>) -> Self {
        Self {
            db: Db::new(pool, false),
            worker_id: Arc::from(worker_id.into()),
            lease: Duration::from_secs(30),
            backoff: Backoff::default(),
            handlers: Arc::new(HandlerRegistry::standard()),
            storage: None,
            http: http_guard::http_client(false),
            allow_private_addresses: false,
            metrics: Arc::new(Metrics::new()),
            running: RunningTasks::default(),
            cancel_grace: Duration::from_secs(5),
            task_timeout: Some(Duration::from_secs(
                crate::config::TASK_TIMEOUT_SECS.default,
            )),
            completions: Completions::default(),
        }
    }

    /// The dependencies described by `settings`.
    pub fn from_settings(settings: &Settings, pool: PgPool) -> anyhow::Result<Self> {
        let mut deps = Self::new(pool, settings.worker_name.clone());
        deps.lease = settings.lease;
        deps.backoff = settings.backoff;
        deps.task_timeout = settings.task_timeout;
        deps = deps.with_transaction_pooler(settings.transaction_pooler);
        deps = deps.with_private_addresses(settings.http_allow_private);
        if let Some(supabase) = &settings.supabase {
            // Storage is the operator's own service (often on localhost): not guarded.
            deps.storage = Some(
                StorageClient::new(
                    &supabase.url,
                    &supabase.service_role_key,
                    reqwest::Client::new(),
                )
                .context("SUPABASE_URL is not usable")?,
            );
        }
        Ok(deps)
    }

    /// Replaces the handlers.
    pub fn with_handlers(mut self, handlers: HandlerRegistry) -> Self {
        self.handlers = Arc::new(handlers);
        self
    }

    /// Sets the Storage client.
    pub fn with_storage(mut self, storage: StorageClient) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Sets the backoff.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Lets `http_request` tasks call private and local addresses (or not).
    pub fn with_private_addresses(mut self, allow: bool) -> Self {
        self.allow_private_addresses = allow;
        self.http = http_guard::http_client(allow);
        self
    }

    /// Sets the lease.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Runs every query unnamed in a transaction of its own (or not): for a connection
    /// pooler in transaction mode (`WORKER_TRANSACTION_POOLER`), see [`crate::db`].
    pub fn with_transaction_pooler(mut self, transaction_pooler: bool) -> Self {
        self.db = Db::new(self.db.pool().clone(), transaction_pooler);
        self
    }

    /// Sets the longest run of one attempt (`None`: no limit).
    pub fn with_task_timeout(mut self, limit: Option<Duration>) -> Self {
        self.task_timeout = limit;
        self
    }
}

/// Why a running task was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Its owner or an admin cancelled it.
    Cancelled,
    /// Another worker took it over (this worker's lease expired), or it was deleted.
    LeaseLost,
    /// This worker is shutting down and gives it back to the queue.
    Shutdown,
}

/// One task this process runs: its token and why it was tripped.
#[derive(Debug, Default)]
pub struct RunningTask {
    token: CancellationToken,
    reason: Mutex<Option<StopReason>>,
}

impl RunningTask {
    /// Trips the token; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(reason);
        }
        drop(slot);
        self.token.cancel();
    }

    /// Why the token was tripped, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        *self.reason.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token handed to the handler.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

/// The tasks this process runs, by id.
#[derive(Debug, Clone, Default)]
pub struct RunningTasks(Arc<Mutex<HashMap<Uuid, Arc<RunningTask>>>>);

impl RunningTasks {
    /// Registers a task this process holds (claimed, waiting for a slot or running): the
    /// heartbeat renews its lease and trips its token if it is cancelled or taken over.
    /// It leaves the set when the returned guard is dropped.
    pub fn hold(&self, id: Uuid) -> RunningGuard {
        self.insert(id)
    }

    fn insert(&self, id: Uuid) -> RunningGuard {
        let task = Arc::new(RunningTask::default());
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, task.clone());
        RunningGuard {
            set: self.clone(),
            id,
            task,
        }
    }

    /// The ids of the running tasks.
    pub fn ids(&self) -> Vec<Uuid> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// How many tasks run.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// `true` when none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Trips the token of one task.
    pub fn stop(&self, id: Uuid, reason: StopReason) -> bool {
        let task = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        match task {
            Some(task) => {
                task.stop(reason);
                true
            }
            None => false,
        }
    }

    /// Trips every token.
    pub fn stop_all(&self, reason: StopReason) {
        let tasks: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for task in tasks {
            task.stop(reason);
        }
    }
}

/// Removes a task from [`RunningTasks`] when its attempt ends, however it ends.
#[derive(Debug)]
pub struct RunningGuard {
    set: RunningTasks,
    id: Uuid,
    task: Arc<RunningTask>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// What [`try_execute_one`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran one attempt of this task (whatever its result).
    Ran(Uuid),
    /// Nothing was due.
    Empty,
}

/// Claims one due task (or one whose lease expired) and runs one attempt of it to the
/// end. Tests call it in a loop to drain the queue deterministically.
pub async fn try_execute_one(deps: &Deps) -> anyhow::Result<Outcome> {
    let mut tasks = queue::claim(
        &deps.db,
        &deps.worker_id,
        deps.lease,
        1,
        &deps.running.ids(),
    )
    .await
    .context("could not claim a task")?;
    match tasks.pop() {
        None => Ok(Outcome::Empty),
        Some(task) => {
            let id = task.id;
            execute(deps, task).await?;
            Ok(Outcome::Ran(id))
        }
    }
}

/// The row of this attempt.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Execution {
    /// `task_executions.id`.
    pub id: Uuid,
    /// `task_executions.attempt` (1, 2, …).
    pub attempt: i32,
}

/// Runs one attempt of a claimed task. `Err` only when the bookkeeping itself failed
/// (the database went away): the task then stays claimed until its lease expires and
/// another worker (or this one) takes it again.
pub async fn execute(deps: &Deps, task: ClaimedTask) -> anyhow::Result<()> {
    execute_then(deps, task, || {}).await
}

/// [`execute`], calling `handler_done` as soon as the handler has returned, before the
/// writes that end the attempt. The runner frees the task's slot there, so its next claim
/// overlaps with those writes; the task stays in [`RunningTasks`] (its lease renewed) until
/// they are done.
pub async fn execute_then(
    deps: &Deps,
    task: ClaimedTask,
    handler_done: impl FnOnce(),
) -> anyhow::Result<()> {
    let guard = deps.running.insert(task.id);
    execute_held(deps, task, guard, handler_done).await
}

/// [`execute_then`] for a task registered in [`RunningTasks`] when it was claimed (the
/// runner's batches: a claimed task may wait a little for a slot, its lease renewed and its
/// cancellation seen meanwhile). A task whose token was tripped while it waited (cancelled,
/// taken over, or the worker shutting down) does not run its handler: its attempt ends at
/// once the way a stopped one does.
#[tracing::instrument(
    skip_all,
    fields(task_id = %task.id, task_type = %task.task_type, attempt = task.attempts)
)]
pub async fn execute_held(
    deps: &Deps,
    task: ClaimedTask,
    guard: RunningGuard,
    handler_done: impl FnOnce(),
) -> anyhow::Result<()> {
    let started = Instant::now();
    deps.metrics.claimed.inc();
    if task.rescued {
        deps.metrics.rescued.inc();
    }

    // The claim opened the attempt: its execution row and first log lines.
    let execution = Execution {
        id: task.execution_id,
        attempt: task.execution_attempt,
    };
    if task.rescued {
        tracing::warn!(
            task_id = %task.id,
            closed_executions = task.closed_executions,
            "Rescued: the previous worker's lease expired"
        );
    }
    tracing::info!(
        task_id = %task.id,
        "Attempt {} of {} started on worker {}",
        task.attempts,
        task.max_attempts,
        deps.worker_id
    );
    let log = TaskLogger::new(deps.db.clone(), task.id, execution.id);

    let result = if guard.task.reason().is_some() {
        // Stopped before it started (see `execute_held`): no handler runs.
        Err(TaskError::Cancelled)
    } else if task.attempts > task.max_attempts {
        // Only a rescued task gets here: every attempt so far was lost with its worker.
        Err(TaskError::permanent(
            Text::new(Run::InterruptedTooOften).num("n", task.attempts - 1),
        ))
    } else {
        run_handler(deps, &task, &log, &guard.task).await
    };
    handler_done();

    finish::finish(deps, &task, execution, result, guard.task.reason(), started).await
}

/// Parses the type and parameters and runs the handler, racing it against its token
/// (plus a grace period) and catching panics.
async fn run_handler(
    deps: &Deps,
    task: &ClaimedTask,
    log: &TaskLogger,
    running: &RunningTask,
) -> Result<Value, TaskError> {
    let task_type: TaskType = task
        .task_type
        .parse()
        .map_err(|error| TaskError::permanent(Text::new(Run::CannotRun).raw("detail", error)))?;
    let params = TaskParameters::parse(task_type, &task.parameters).map_err(|error| {
        TaskError::permanent(Text::new(Run::InvalidParameters).raw("detail", error))
    })?;
    let handler = deps.handlers.get(task_type).ok_or_else(|| {
        TaskError::permanent(Text::new(Run::NoHandler).labels(
            "type",
            Labels::TaskType,
            &[task_type.as_str()],
        ))
    })?;
    let token = running.token();
    let ctx = HandlerContext {
        task: task.clone(),
        params,
        progress: Progress::new(deps.db.clone(), task.id, deps.worker_id.clone()),
        log: log.clone(),
        cancel: token.clone(),
        db: deps.db.clone(),
        storage: deps.storage.clone(),
        http: deps.http.clone(),
        allow_private_addresses: deps.allow_private_addresses,
    };
    let grace = deps.cancel_grace;
    let limit = deps.task_timeout;
    let run = AssertUnwindSafe(handler.run(ctx)).catch_unwind();
    tokio::select! {
        outcome = run => match outcome {
            Ok(result) => result,
            Err(panic) => {
                let detail = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(panic = %detail, "handler panicked");
                Err(TaskError::permanent(Run::InternalError))
            }
        },
        () = async {
            token.cancelled().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("handler ignored its cancellation for {grace:?}; dropped");
            Err(TaskError::Cancelled)
        }
        () = async {
            match limit {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        } => {
            // Dropping the handler's future stops it where it waits (an open transaction
            // is rolled back); the attempt fails like a timeout and may be retried.
            let limit = limit.unwrap_or_default();
            tracing::warn!(limit_secs = limit.as_secs_f64(), "attempt exceeded its time limit; stopped");
            Err(TaskError::retryable(Text::new(Run::TimedOut).ms(
                "limit",
                i64::try_from(limit.as_millis()).unwrap_or(i64::MAX),
            )))
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_stop_reason_wins() {
        let task = RunningTask::default();
        assert_eq!(task.reason(), None);
        task.stop(StopReason::Cancelled);
        task.stop(StopReason::Shutdown);
        assert_eq!(task.reason(), Some(StopReason::Cancelled));
        assert!(task.token().is_cancelled());
    }

    #[test]
    fn running_tasks_leave_the_set_when_done() {
        let set = RunningTasks::default();
        let id = Uuid::new_v4();
        {
            let _guard = set.insert(id);
            assert_eq!(set.ids(), vec![id]);
            assert!(set.stop(id, StopReason::Shutdown));
        }
        assert!(set.is_empty());
        assert!(!set.stop(id, StopReason::Shutdown));
    }
}
