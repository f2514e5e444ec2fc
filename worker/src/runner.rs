//! The daemon: claims tasks into free slots, wakes on `LISTEN taskdeck_task_queue` (or
//! the poll interval), keeps leases alive with a heartbeat, and shuts down gracefully.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{host_name, Settings};
use crate::executor::{self, Deps, RunningGuard, StopReason};
use crate::observability::{self, ObservabilityState};
use crate::queue::{self, ClaimedTask, WorkerInfo};

/// The notification channel the tasks' insert trigger signals.
pub const CHANNEL: &str = "taskdeck_task_queue";

/// How long the loop waits, once a slot is free, for more to free before it claims.
const CLAIM_WINDOW: Duration = Duration::from_millis(1);

/// How far ahead of its free slots the loop claims: about as many tasks as this worker
/// finishes in this long (measured), up to `WORKER_BATCH_SIZE`.
const PREFETCH_HORIZON: Duration = Duration::from_millis(100);

/// The pace at which this worker's handlers finish, and from it how many tasks to hold
/// (running plus claimed ahead): `concurrency` when tasks are slow (no task waits here
/// for a slot while another worker could run it), up to `batch_size` when thousands end
/// per second (claims of hundreds of tasks in one statement).
#[derive(Debug)]
struct Pace {
    concurrency: usize,
    batch_size: usize,
    window_start: Instant,
    done_at_start: u64,
    per_sec: f64,
}

impl Pace {
    /// Measured over windows of this length; a faster pace counts at once.
    const WINDOW: Duration = Duration::from_millis(50);

    fn new(concurrency: usize, batch_size: usize) -> Self {
        Self {
            concurrency,
            batch_size,
            window_start: Instant::now(),
            done_at_start: 0,
            per_sec: 0.0,
        }
    }

    /// How many tasks to hold, given how many handlers have finished so far.
    fn target(&mut self, done: u64) -> usize {
        let elapsed = self.window_start.elapsed();
        let finished = done.saturating_sub(self.done_at_start) as f64;
        let current = finished / elapsed.as_secs_f64().max(1e-3);
        if elapsed >= Self::WINDOW {
            self.per_sec = current;
            self.window_start = Instant::now();
            self.done_at_start = done;
        } else if elapsed >= Self::WINDOW / 10 && current > self.per_sec {
            self.per_sec = current;
        }
        let ahead = (self.per_sec * PREFETCH_HORIZON.as_secs_f64()) as usize;
        ahead.clamp(self.concurrency, self.batch_size.max(self.concurrency))
    }
}

/// The port of Supabase's pooler in transaction mode.
const SUPABASE_TRANSACTION_POOLER_PORT: u16 = 6543;

/// `application_name` of the worker's connections (visible in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "taskdeck-worker";

/// How the loop runs (the parts of [`Settings`] that are not in [`Deps`]).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Slots.
    pub concurrency: usize,
    /// Most tasks held at once, running or claimed ahead (`WORKER_BATCH_SIZE`; at most
    /// `concurrency` when 0 or lower).
    pub batch_size: usize,
    /// Poll interval when no notification arrives.
    pub poll_interval: Duration,
    /// LISTEN or poll only.
    pub listen: bool,
    /// How long running tasks may take to finish after shutdown is asked.
    pub shutdown_timeout: Duration,
    /// Serve /health and /metrics here.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl From<&Settings> for RunOptions {
    fn from(settings: &Settings) -> Self {
        Self {
            concurrency: settings.concurrency,
            batch_size: settings.batch_size,
            poll_interval: settings.poll_interval,
            listen: settings.listen,
            shutdown_timeout: settings.shutdown_timeout,
            metrics_addr: settings.metrics_addr,
        }
    }
}

/// Connects to the database and runs until `shutdown` is tripped, then stops claiming,
/// lets running tasks finish within `WORKER_SHUTDOWN_SECS`, releases the rest and marks
/// the `workers` row stopped.
pub async fn run_until_stopped(
    settings: Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let max_connections = u32::try_from(settings.concurrency)
        .unwrap_or(256)
        .saturating_add(4);
    let connect = connect_options(&settings.database_url, settings.transaction_pooler)?;
    if connect.get_port() == SUPABASE_TRANSACTION_POOLER_PORT && !settings.transaction_pooler {
        tracing::warn!(
            "DATABASE_URL uses port 6543, Supabase's transaction pooler: set \
             WORKER_TRANSACTION_POOLER=true, or prepared statements will fail"
        );
    }
    let pool = pool_options(max_connections).connect_lazy_with(connect);
    // Fail fast at start when the database cannot be reached at all.
    match tokio::time::timeout(Duration::from_secs(5), pool.acquire()).await {
        Ok(Ok(connection)) => drop(connection),
        Ok(Err(error)) => {
            return Err(
                anyhow::Error::new(error).context("cannot connect to the database at DATABASE_URL")
            )
        }
        Err(_) => {
            anyhow::bail!("cannot connect to the database at DATABASE_URL: no answer within 5 s")
        }
    }
    let deps = Deps::from_settings(&settings, pool.clone())?;
    let result = run_with_deps(deps, RunOptions::from(&settings), shutdown).await;
    pool.close().await;
    result
}

/// How the worker connects: `application_name` [`APPLICATION_NAME`] and
/// `plan_cache_mode = force_generic_plan`. The queue's statements (claim, completions, lease
/// renewals) are prepared once per connection and run thousands of times with a different
/// number of tasks each time; PostgreSQL would otherwise keep re-planning them for the
/// values at hand (a fraction of a millisecond each time, more than the statement itself
/// costs for a few tasks). Their generic plans look rows up by primary key, whatever the
/// table sizes and statistics.
///
/// Behind a pooler in transaction mode (`transaction_pooler`), the connection carries no
/// session settings: no `options` startup parameter (PgBouncer refuses it, Supavisor drops
/// it) and no `extra_float_digits` (PgBouncer refuses it unless told to ignore it; the
/// worker reads every value in binary, and PostgreSQL 12 and later print floats exactly
/// anyway), and no statement cache: each statement is unnamed and planned for its values,
/// so forcing generic plans would only cost (see [`crate::db`]).
pub fn connect_options(
    database_url: &str,
    transaction_pooler: bool,
) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(database_url)
        .context("DATABASE_URL is not a valid PostgreSQL URL")?
        .application_name(APPLICATION_NAME);
    Ok(if transaction_pooler {
        options.extra_float_digits(None).statement_cache_capacity(0)
    } else {
        options.options([("plan_cache_mode", "force_generic_plan")])
    })
}

/// The worker's pool settings. A connection that sat idle for a second or more is pinged
/// before use (a restarted or unreachable database shows up there, not in a task's
/// bookkeeping); one in constant use is not, which saves a round trip per statement.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(15))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= Duration::from_secs(1) {
                    sqlx::Connection::ping(connection).await?;
                }
                Ok(true)
            })
        })
}

/// [`run_until_stopped`] with prepared dependencies (custom handlers, in tests).
pub async fn run_with_deps(
    deps: Deps,
    options: RunOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let concurrency = options.concurrency.max(1);
    let hostname = host_name();
    let info = WorkerInfo {
        id: &deps.worker_id,
        hostname: &hostname,
        version: env!("CARGO_PKG_VERSION"),
        pid: i32::try_from(std::process::id()).unwrap_or(0),
        concurrency: i32::try_from(concurrency).unwrap_or(i32::MAX),
    };
    queue::upsert_worker(&deps.db, &info, "running", 0, true)
        .await
        .context("cannot register the worker in public.workers")?;
    tracing::info!(
        worker = %deps.worker_id,
        concurrency,
        lease_secs = deps.lease.as_secs(),
        listen = options.listen,
        transaction_pooler = deps.db.transaction_pooler(),
        "worker started"
    );

    let stop_services = CancellationToken::new();
    let metrics_server = match options.metrics_addr {
        Some(addr) => Some(
            observability::serve(
                addr,
                ObservabilityState {
                    db: deps.db.clone(),
                    metrics: deps.metrics.clone(),
                    worker_id: deps.worker_id.clone(),
                },
                stop_services.clone(),
            )
            .await?
            .1,
        ),
        None => None,
    };

    let status = Arc::new(std::sync::Mutex::new("running"));
    let heartbeat = {
        let deps = deps.clone();
        let stop = stop_services.clone();
        let status = status.clone();
        let hostname = hostname.clone();
        tokio::spawn(async move {
            let every = (deps.lease / 3).max(Duration::from_millis(100));
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(every) => {}
                }
                let current = *status
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let info = WorkerInfo {
                    id: &deps.worker_id,
                    hostname: &hostname,
                    version: env!("CARGO_PKG_VERSION"),
                    pid: i32::try_from(std::process::id()).unwrap_or(0),
                    concurrency: i32::try_from(concurrency).unwrap_or(i32::MAX),
                };
                if let Err(error) = heartbeat(&deps, &info, current).await {
                    tracing::warn!(error.cause_chain = ?error, "heartbeat failed");
                }
            }
        })
    };

    let tracker = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(concurrency));
    let finished = Arc::new(Notify::new());
    let handlers_done = Arc::new(AtomicU64::new(0));
    let mut listener = Listener::new(
        options.listen && !deps.db.transaction_pooler(),
        deps.db.pool().clone(),
    );
    let mut pace = Pace::new(concurrency, options.batch_size);
    // Tasks claimed and waiting for a slot (registered in `deps.running`: leases renewed,
    // cancellations seen), in claim order (rescued first, then by priority).
    let mut queued: VecDeque<(ClaimedTask, RunningGuard)> = VecDeque::new();
    // The claim in flight (it runs while the slots work through the queue) and its size.
    let mut claiming: Option<JoinHandle<Result<Vec<ClaimedTask>, sqlx::Error>>> = None;
    let mut asked = 0;
    // Whether the database may hold due tasks this worker has not claimed: false once a claim
    // came back short, true again on a notification, a poll, or a task ending.
    let mut more_expected = true;
    // A notification or a poll while a claim is in flight: that claim's
    // snapshot may predate the task it announces, so look again even if it came back short.
    let mut signalled_while_claiming = false;
    // No claim before this (backoff after an error, or the short wait after a task ended
    // for the others to end too).
    let mut claim_not_before: Option<tokio::time::Instant> = None;
    let mut error_delay = Duration::from_millis(100);

    loop {
        if shutdown.is_cancelled() {
            break;
        }
        listener.ensure_connected().await;
        // 1. Start waiting tasks in the free slots.
        while !queued.is_empty() {
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                break;
            };
            let Some((task, guard)) = queued.pop_front() else {
                break;
            };
            let deps = deps.clone();
            let finished = finished.clone();
            let handlers_done = handlers_done.clone();
            deps.metrics.running.inc();
            tracker.spawn(async move {
                // The slot is free once the handler returns: the next tasks start while
                // the writes that end this attempt wait for their batch.
                let handler_done = || {
                    drop(permit);
                    handlers_done.fetch_add(1, Ordering::Relaxed);
                    finished.notify_one();
                };
                if let Err(error) =
                    executor::execute_held(&deps, task, guard, handler_done).await
                {
                    tracing::error!(error.cause_chain = ?error, "could not record the end of an attempt; its lease will expire and it will be retried");
                }
                deps.metrics.running.dec();
            });
        }
        // 2. Claim the next batch while the slots work, when it is worth a statement: a
        // slot would otherwise idle, or half the batch is free.
        let now = tokio::time::Instant::now();
        if claiming.is_none() && more_expected && claim_not_before.is_none_or(|at| now >= at) {
            claim_not_before = None;
            let free = slots.available_permits();
            let held = queued.len() + (concurrency - free);
            let target = pace.target(handlers_done.load(Ordering::Relaxed));
            let room = target.saturating_sub(held);
            if room > 0 && (free > queued.len() || room * 2 >= target) {
                let deps = deps.clone();
                let running_here = deps.running.ids();
                asked = room;
                signalled_while_claiming = false;
                claiming = Some(tokio::spawn(async move {
                    queue::claim(&deps.db, &deps.worker_id, deps.lease, room, &running_here).await
                }));
            }
        }
        // 3. Wait for something to do.
        let has_room = slots.available_permits() > queued.len();
        tokio::select! {
            () = shutdown.cancelled() => break,
            result = async {
                match claiming.as_mut() {
                    Some(claim) => claim.await,
                    None => std::future::pending().await,
                }
            } => {
                claiming = None;
                match result {
                    Ok(Ok(tasks)) => {
                        error_delay = Duration::from_millis(100);
                        // A full batch: there may be more waiting.
                        more_expected = tasks.len() == asked || signalled_while_claiming;
                        for task in tasks {
                            let guard = deps.running.hold(task.id);
                            queued.push_back((task, guard));
                        }
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(error = %error, retry_in_ms = error_delay.as_millis() as u64, "claiming failed");
                        claim_not_before = Some(tokio::time::Instant::now() + error_delay);
                        error_delay = (error_delay * 2).min(Duration::from_secs(30));
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "the claim stopped unexpectedly");
                        claim_not_before = Some(tokio::time::Instant::now() + error_delay);
                        error_delay = (error_delay * 2).min(Duration::from_secs(30));
                    }
                }
            }
            () = finished.notified() => {
                if !more_expected {
                    // Tasks claimed together tend to end together: give the others
                    // CLAIM_WINDOW to free their slots too, then claim for all at once.
                    more_expected = true;
                    claim_not_before = claim_not_before.or(Some(tokio::time::Instant::now() + CLAIM_WINDOW));
                }
            }
            () = listener.notified(), if has_room => {
                more_expected = true;
                signalled_while_claiming |= claiming.is_some();
            }
            () = tokio::time::sleep(options.poll_interval) => {
                more_expected = true;
                signalled_while_claiming |= claiming.is_some();
            }
            () = async {
                match claim_not_before {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
    }

    // Shutdown: no more claims. A claim in flight still hands over its tasks; the tasks that
    // waited for a slot never started: they go back to the queue at once (attempt given
    // back, execution "worker shut down"). Running tasks get the deadline to finish.
    if let Some(claim) = claiming.take() {
        match claim.await {
            Ok(Ok(tasks)) => {
                for task in tasks {
                    let guard = deps.running.hold(task.id);
                    queued.push_back((task, guard));
                }
            }
            Ok(Err(error)) => tracing::warn!(error = %error, "claiming failed"),
            Err(error) => tracing::error!(error = %error, "the claim stopped unexpectedly"),
        }
    }
    for (task, guard) in queued.drain(..) {
        deps.running.stop(task.id, StopReason::Shutdown);
        let deps = deps.clone();
        tracker.spawn(async move {
            if let Err(error) = executor::execute_held(&deps, task, guard, || {}).await {
                tracing::error!(error.cause_chain = ?error, "could not release a waiting task; its lease will expire and it will be retried");
            }
        });
    }

    *status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = "stopping";
    if let Err(error) = queue::upsert_worker(
        &deps.db,
        &info,
        "stopping",
        i32::try_from(deps.running.len()).unwrap_or(i32::MAX),
        false,
    )
    .await
    {
        tracing::warn!(error = %error, "could not mark the worker stopping");
    }
    tracker.close();
    let running = deps.running.len();
    if running > 0 {
        tracing::info!(
            running,
            deadline_secs = options.shutdown_timeout.as_secs(),
            "shutting down: waiting for running tasks"
        );
    }
    if tokio::time::timeout(options.shutdown_timeout, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            running = deps.running.len(),
            "shutdown deadline reached: releasing unfinished tasks to the queue"
        );
        deps.running.stop_all(StopReason::Shutdown);
        if tokio::time::timeout(deps.cancel_grace + Duration::from_secs(10), tracker.wait())
            .await
            .is_err()
        {
            tracing::error!("some tasks did not stop; their leases will expire and other workers will take them");
        }
    }
    stop_services.cancel();
    let _ = heartbeat.await;
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    if let Err(error) = queue::upsert_worker(&deps.db, &info, "stopped", 0, false).await {
        tracing::warn!(error = %error, "could not mark the worker stopped");
    }
    tracing::info!(worker = %deps.worker_id, "worker stopped");
    Ok(())
}

/// One heartbeat: renews the leases of the tasks this worker runs and trips the tokens of
/// those that were cancelled, deleted or taken over; refreshes the `workers` row and the
/// queue-depth gauge; tidies cancelled tasks whose worker died.
pub async fn heartbeat(deps: &Deps, info: &WorkerInfo<'_>, status: &str) -> anyhow::Result<()> {
    check_running_tasks(deps)
        .await
        .context("could not renew leases")?;
    queue::upsert_worker(
        &deps.db,
        info,
        status,
        i32::try_from(deps.running.len()).unwrap_or(i32::MAX),
        false,
    )
    .await
    .context("could not update the workers row")?;
    let depth = queue::queue_depth(&deps.db).await?;
    deps.metrics.queue_depth.set(depth);
    let swept = queue::sweep_abandoned_cancellations(&deps.db).await?;
    if swept > 0 {
        tracing::info!(
            swept,
            "closed the executions of cancelled tasks whose worker was lost"
        );
    }
    Ok(())
}

/// Renews leases and trips cancelled tasks' tokens once (what the heartbeat loop does),
/// for tests that drive [`executor::try_execute_one`] without the daemon loop.
pub async fn check_running_tasks(deps: &Deps) -> anyhow::Result<()> {
    let ids = deps.running.ids();
    let states = queue::renew_leases(&deps.db, &deps.worker_id, deps.lease, &ids).await?;
    for state in states.iter().filter(|state| !state.renewed) {
        let reason = match state.status.as_deref() {
            Some("cancelled") | None => StopReason::Cancelled,
            _ => StopReason::LeaseLost,
        };
        tracing::info!(task_id = %state.id, ?reason, "stopping a task");
        deps.running.stop(state.id, reason);
    }
    Ok(())
}

/// LISTEN with reconnection; without it (or while it is down), waits forever so the poll
/// interval decides.
struct Listener {
    enabled: bool,
    pool: sqlx::PgPool,
    inner: Option<PgListener>,
    retry_at: Option<Instant>,
}

impl Listener {
    fn new(enabled: bool, pool: sqlx::PgPool) -> Self {
        Self {
            enabled,
            pool,
            inner: None,
            retry_at: None,
        }
    }

    async fn ensure_connected(&mut self) {
        if !self.enabled || self.inner.is_some() {
            return;
        }
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return;
        }
        let connected = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        match connected {
            Ok(listener) => {
                tracing::debug!(channel = CHANNEL, "listening");
                self.inner = Some(listener);
                self.retry_at = None;
            }
            Err(error) => {
                tracing::warn!(error = %error, "LISTEN failed; polling until it works again");
                self.retry_at = Some(Instant::now() + Duration::from_secs(5));
            }
        }
    }

    /// Resolves on a notification (or a lost connection, to look for work at once).
    async fn notified(&mut self) {
        let Some(listener) = self.inner.as_mut() else {
            return std::future::pending().await;
        };
        match listener.try_recv().await {
            Ok(Some(_)) => {
                // Drain what else is already buffered: one claim round serves them all.
            }
            Ok(None) => {
                tracing::debug!("LISTEN connection lost; it reconnects on the next wait");
            }
            Err(error) => {
                tracing::warn!(error = %error, "LISTEN failed; polling until it works again");
                self.inner = None;
                self.retry_at = Some(Instant::now() + Duration::from_secs(5));
            }
        }
    }
}

/// A token tripped by SIGTERM or SIGINT (Ctrl-C). A second signal exits at once.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let trip = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown asked: finishing running tasks (a second signal exits at once)");
        trip.cancel();
        wait_for_signal().await;
        tracing::warn!(
            "second signal: exiting now; unfinished tasks are taken again when their leases expire"
        );
        std::process::exit(130);
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_tasks_are_not_claimed_ahead_fast_ones_are_up_to_the_batch_size() {
        let mut pace = Pace::new(4, 500);
        assert_eq!(pace.target(0), 4, "no pace yet: the free slots only");
        // 1000 tasks ended within a few milliseconds: claim up to the batch size.
        std::thread::sleep(Pace::WINDOW / 5);
        assert_eq!(pace.target(1000), 500);
        // Then a whole window in which only two ended: back to the slots.
        std::thread::sleep(Pace::WINDOW);
        assert_eq!(pace.target(1000), 500, "this call closes the fast window");
        std::thread::sleep(Pace::WINDOW);
        assert_eq!(pace.target(1002), 4);
        // WORKER_BATCH_SIZE below the concurrency (0 included) claims for free slots only.
        let mut off = Pace::new(8, 0);
        std::thread::sleep(Pace::WINDOW / 5);
        assert_eq!(off.target(100_000), 8);
    }

    #[test]
    fn behind_a_transaction_pooler_the_connection_carries_no_session_setting() {
        let direct = connect_options("postgres://postgres@127.0.0.1:5432/postgres", false)
            .expect("valid URL");
        assert_eq!(
            direct.get_options(),
            Some("-c plan_cache_mode=force_generic_plan")
        );
        assert_eq!(direct.get_application_name(), Some(APPLICATION_NAME));
        let pooled = connect_options("postgres://postgres@127.0.0.1:6543/postgres", true)
            .expect("valid URL");
        assert_eq!(pooled.get_options(), None);
        assert_eq!(pooled.get_application_name(), Some(APPLICATION_NAME));
    }
}
