//! `bench`: the Taskdeck worker against graphile-worker 0.17 (default and batched) and
//! pg-boss 10 (batched) on one database, with no-op tasks, and the Taskdeck worker at 1, 2
//! and 4 processes and behind PgBouncer in transaction mode.
//!
//! 0. History: seeds the database with finished tasks, their executions and logs (as many
//!    as `--tasks` unless `--history` says otherwise), as in a database in use; they stay
//!    through the rounds and are removed at the end (see `seed_history` for why).
//! 1. Taskdeck throughput, in this process: inserts N tasks (one statement), then starts a
//!    worker (`--concurrency` slots) and times from its start until the N-th task is
//!    completed. Every task still goes through the whole attempt: its `task_executions`
//!    row, its log line (two for a retry) and its final status; checked after each drain.
//! 2. Taskdeck pickup latency: into the idle worker, M times: inserts one task, measures
//!    (in this process) the time from the insert call to the start of the handler, waits
//!    for the task to complete and `--gap-ms` more.
//! 3. Taskdeck at P worker processes (`--processes 1,2,4`): N tasks inserted, then P copies
//!    of this binary (`bench --child-worker NAME`, hidden), each with its own pool and
//!    `--concurrency` slots, drain them together; aggregate tasks/s from the parent's "go"
//!    to the moment the children's completion counts add up to N (see `processes_round`).
//! 4. Taskdeck behind PgBouncer in transaction mode: one such child process with
//!    `WORKER_TRANSACTION_POOLER` semantics (`--transaction-pooler`: unnamed statements,
//!    polling), connected through a PgBouncer this binary starts (`--pgbouncer-pool-size`
//!    server connections; PgBouncer's own CPU is printed apart).
//! 5. graphile-worker, default and batched: `node bench/graphile/bench.mjs` (after `npm ci`
//!    there if its `node_modules` is missing) with the same N, concurrency, M and gap; the
//!    batched run with `--local-queue-size` (`localQueue`, `completeJobBatchDelay: 0`,
//!    `failJobBatchDelay: 0`).
//! 6. pg-boss 10: `node bench/pgboss/bench.mjs` (same `npm ci`), `--concurrency` workers
//!    each fetching `--pgboss-batch-size` jobs per fetch (`batchSize`); no pickup latency
//!    (pg-boss polls, at least every 0.5 s).
//!
//! For each: tasks/s, the PostgreSQL server's CPU seconds per 1,000 tasks of the drain
//! (utime + stime of the postmaster and all its processes, live and reaped, from
//! `/proc/<pid>/stat` before and after; the node scripts stop at both points, `--handshake`,
//! so the reading brackets their drain only) and pickup p50/p99 where measured. With
//! `--rounds R` all of them run R times, in turn, and the table shows the medians (a ratio:
//! the median of the rounds' ratios). It prints whether the targets are met (Taskdeck at one
//! process ≥ graphile-worker batched, pickup p50 ≤ 3 ms and p99 ≤ 8 ms, 2 processes ≥ 90 %
//! of 1 process); `--check` exits 2 on a miss. The Taskdeck phases use a throwaway user
//! (deleted at the end, with its tasks) and refuse to run when other tasks are queued.
//! `scripts/bench` does all of it on a throwaway cluster:
//!
//! ```text
//! scripts/bench                                  # N=5000, concurrency 8, 3 rounds
//! DATABASE_URL=postgres://… cargo run --release -p worker --bin bench -- --tasks 5000 --concurrency 8
//! ```

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use clap::Parser;
use domain::TaskType;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::handlers::{HandlerContext, HandlerRegistry, TaskHandler};
use worker::runner::{run_with_deps, RunOptions};
use worker::{Deps, TaskError};

/// Throughput ratio Taskdeck (one process) / graphile-worker batched the issue asks for.
const TARGET_RATIO: f64 = 1.0;
/// Pickup latency targets, in milliseconds.
const TARGET_P50_MS: f64 = 3.0;
const TARGET_P99_MS: f64 = 8.0;
/// Throughput of 2 worker processes / 1 process the issue asks for.
const TARGET_SCALING: f64 = 0.9;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Throughput, PostgreSQL CPU and pickup latency of the Taskdeck worker, compared with \
             graphile-worker 0.17 (default and batched) and pg-boss 10"
)]
struct Args {
    /// Database with Taskdeck's schema (or DATABASE_URL). graphile-worker and pg-boss
    /// install their own schemas, `graphile_worker` and `pgboss`, in it.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Tasks for the throughput runs.
    #[arg(long, default_value_t = 5000)]
    tasks: i64,
    /// Tasks for the latency runs, inserted one at a time.
    #[arg(long, default_value_t = 200)]
    latency_tasks: usize,
    /// Milliseconds between a latency task's completion and the next insert.
    #[arg(long, default_value_t = 20)]
    gap_ms: u64,
    /// Worker slots (every worker; each Taskdeck process of a multi-process run has as many).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The Taskdeck worker's `WORKER_BATCH_SIZE` (most tasks held at once, running or
    /// claimed ahead; it claims ahead only what it finishes in about 100 ms); 0 = claim for
    /// free slots only, as before issue #14.
    #[arg(long, default_value_t = worker::config::BATCH_SIZE.default_usize())]
    batch_size_taskdeck: usize,
    /// Poll only (no LISTEN) for the Taskdeck worker.
    #[arg(long)]
    poll_only: bool,
    /// Run the in-process Taskdeck worker as behind a pooler in transaction mode
    /// (`WORKER_TRANSACTION_POOLER`: each query unnamed in its own transaction; poll only),
    /// here on a direct connection: what that mode costs the database. (The PgBouncer run
    /// uses that mode anyway.)
    #[arg(long)]
    transaction_pooler: bool,
    /// Poll interval of the Taskdeck worker in milliseconds (graphile keeps its default).
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Taskdeck worker process counts to measure (each process its own pool and
    /// `--concurrency` slots), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    processes: Vec<usize>,
    /// Skip the multi-process runs.
    #[arg(long)]
    skip_processes: bool,
    /// Skip the run through PgBouncer.
    #[arg(long)]
    skip_pgbouncer: bool,
    /// Server connections PgBouncer may open to the database (`default_pool_size`,
    /// `max_db_connections`); default: `--concurrency`.
    #[arg(long)]
    pgbouncer_pool_size: Option<u32>,
    /// Skip graphile-worker (both modes).
    #[arg(long)]
    skip_graphile: bool,
    /// Directory of the graphile-worker script (`bench.mjs`, `package-lock.json`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/graphile"))]
    graphile_dir: PathBuf,
    /// graphile-worker's `localQueue.size` in its batched mode.
    #[arg(long, default_value_t = 500)]
    graphile_local_queue: usize,
    /// Skip pg-boss.
    #[arg(long)]
    skip_pgboss: bool,
    /// Directory of the pg-boss script (`bench.mjs`, `package-lock.json`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/pgboss"))]
    pgboss_dir: PathBuf,
    /// pg-boss `batchSize` of each of its `--concurrency` workers.
    #[arg(long, default_value_t = 100)]
    pgboss_batch_size: usize,
    /// Rounds (every system in turn, each round); the table shows the medians.
    /// More rounds steady the figures on a busy machine.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Exit with status 2 when a target is missed.
    #[arg(long)]
    check: bool,
    /// Finished tasks (each with its execution and two log lines) present during the rounds,
    /// as in a database in use; removed at the end. Default: as many as `--tasks`; 0 = an
    /// empty database (see `seed_history`).
    #[arg(long)]
    history: Option<i64>,
    /// Internal: run as one worker process of a multi-process run under this worker name
    /// (see `child_worker`).
    #[arg(long, hide = true)]
    child_worker: Option<String>,
}

/// Does nothing but note when it started, by task id.
struct Noop {
    started: Arc<Mutex<HashMap<Uuid, Instant>>>,
}

#[async_trait]
impl TaskHandler for Noop {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let now = Instant::now();
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ctx.task.id, now);
        Ok(json!({}))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

/// What one run of one system measured.
#[derive(Debug, Clone, Default, Deserialize)]
struct Figures {
    tasks_per_sec: f64,
    /// `None` where the system's pickup is not measured.
    #[serde(default)]
    pickup_p50_ms: Option<f64>,
    #[serde(default)]
    pickup_p99_ms: Option<f64>,
    /// PostgreSQL CPU seconds per 1,000 tasks of the drain, when it could be read.
    #[serde(skip)]
    cpu_per_1000: Option<f64>,
    /// The peer's version (from its JSON line).
    #[serde(default, alias = "graphile_worker", alias = "pg_boss")]
    version: Option<String>,
}

/// The systems and modes measured, in the order of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    /// The Taskdeck worker in this process (the one with the pickup latency).
    Taskdeck,
    /// The Taskdeck worker in that many child processes.
    Processes(usize),
    /// One Taskdeck child process through PgBouncer in transaction mode.
    PgBouncer,
    GraphileDefault,
    GraphileBatched,
    PgBoss,
}

/// Every round's figures, by system, in the order they were first measured.
#[derive(Default)]
struct Results(Vec<(System, Vec<Figures>)>);

impl Results {
    fn push(&mut self, system: System, figures: Figures) {
        match self.0.iter_mut().find(|(s, _)| *s == system) {
            Some((_, rounds)) => rounds.push(figures),
            None => self.0.push((system, vec![figures])),
        }
    }

    fn rounds(&self, system: System) -> &[Figures] {
        self.0
            .iter()
            .find(|(s, _)| *s == system)
            .map_or(&[], |(_, rounds)| rounds.as_slice())
    }

    /// The median over the rounds of the ratio `a / b` (throughput), each round comparing
    /// the two under the same load; `None` when either was not measured.
    fn ratio(&self, a: System, b: System) -> Option<f64> {
        let mut ratios: Vec<f64> = self
            .rounds(a)
            .iter()
            .zip(self.rounds(b))
            .map(|(a, b)| a.tasks_per_sec / b.tasks_per_sec)
            .collect();
        if ratios.is_empty() {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        Some(percentile(&ratios, 50.0))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if let Some(name) = args.child_worker.clone() {
        return child_worker(&args, &name).await;
    }
    args.poll_only |= args.transaction_pooler;
    println!(
        "bench: N={} tasks, concurrency {}, {} serial tasks for pickup (gap {} ms); {} CPUs, load average {}",
        args.tasks,
        args.concurrency,
        args.latency_tasks,
        args.gap_ms,
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        load_average()
    );
    // The daemon's connection and pool settings (`run_until_stopped`), with room for the
    // bench's queries.
    let pool = worker::runner::pool_options(u32::try_from(args.concurrency).unwrap_or(4) + 6)
        .connect_with(worker::runner::connect_options(&args.database_url, false)?)
        .await
        .context("cannot connect to DATABASE_URL")?;
    let others: i64 = sqlx::query_scalar(
        "select count(*) from public.tasks where status in ('pending', 'running')",
    )
    .fetch_one(&pool)
    .await
    .context("cannot read public.tasks (is this a Taskdeck database?)")?;
    anyhow::ensure!(
        others == 0,
        "the database has {others} pending or running tasks: the bench worker would take them; \
         use an empty Taskdeck database (scripts/bench makes one)"
    );
    // Started once for every round (stopped when dropped).
    let pgbouncer = if args.skip_pgbouncer {
        None
    } else {
        let size = args
            .pgbouncer_pool_size
            .unwrap_or(u32::try_from(args.concurrency).unwrap_or(8));
        Some(PgBouncer::start(&args.database_url, size).await?)
    };
    let history = seed_history(&pool, args.history.unwrap_or(args.tasks)).await?;
    // On SIGINT or SIGTERM the rounds stop and everything below still runs (the history and
    // PgBouncer are removed; child processes are killed when dropped).
    let outcome = tokio::select! {
        outcome = rounds(&args, &pool, pgbouncer.as_ref()) => outcome,
        signal = interrupted() => Err(anyhow::anyhow!("interrupted ({signal})")),
    };
    if let Some(user) = history {
        sqlx::query("delete from auth.users where id = $1")
            .bind(user)
            .execute(&pool)
            .await
            .context("removing the bench's history")?;
    }
    let results = outcome?;
    pool.close().await;
    drop(pgbouncer);
    let met = report(&args, &results);
    println!("load average at the end: {}", load_average());
    if args.check && !met {
        std::process::exit(2);
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM, with the signal's name.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// A database in use holds finished tasks, with their executions and logs: `count` of them,
/// owned by a throwaway user (`None` when `count` is 0), written in three statements and
/// analyzed. Without them the rounds would run on empty tables, which production never
/// does: PostgreSQL plans the foreign-key checks of each new connection (a log line's
/// `execution_id` → `task_executions`) as sequential scans of the then-empty table and keeps
/// those plans until the table is next analyzed (autovacuum does it within a minute in
/// production; a round lasts a few seconds), so every log insert would scan all executions.
async fn seed_history(pool: &sqlx::PgPool, count: i64) -> anyhow::Result<Option<Uuid>> {
    if count <= 0 {
        return Ok(None);
    }
    let user = Uuid::new_v4();
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at, updated_at)
         values ($1, 'authenticated', 'authenticated', $2, '{}', now(), now())",
    )
    .bind(user)
    .bind(format!("bench-history-{}@bench.invalid", user.simple()))
    .execute(&mut *tx)
    .await
    .context("cannot create the history user (is this a Taskdeck database?)")?;
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters, status, progress, result,
                                   attempts, started_at, completed_at, created_at)
         select $1, 'history ' || n, 'cleanup', '{}', 'completed', 100, '{}', 1,
                now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
           from generate_series(1, $2) n",
    )
    .bind(user)
    .bind(count)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into public.task_executions
           (task_id, attempt, worker_id, status, started_at, completed_at, duration_ms, result)
         select id, 1, 'bench-history', 'completed', started_at, completed_at, 1, '{}'
           from public.tasks where user_id = $1",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into public.execution_logs (execution_id, task_id, level, message, created_at)
         select e.id, e.task_id, 'info', m.message, e.started_at
           from public.task_executions e join public.tasks t on t.id = e.task_id
          cross join (values ('Attempt 1 of 3 started'), ('Completed in 1 ms')) m(message)
          where t.user_id = $1",
    )
    .bind(user)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    println!(
        "history: {count} finished tasks with their executions and logs ({:.0} ms)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(Some(user))
}

/// The rounds: each system in turn, `--rounds` times.
async fn rounds(
    args: &Args,
    pool: &sqlx::PgPool,
    pgbouncer: Option<&PgBouncer>,
) -> anyhow::Result<Results> {
    let mut results = Results::default();
    for round in 1..=args.rounds.max(1) {
        if args.rounds > 1 {
            println!(
                "round {round} of {} (load average {})",
                args.rounds,
                load_average()
            );
        }
        let cpu = postgres_cpu(pool).await;
        results.push(System::Taskdeck, taskdeck_round(args, pool).await?);
        print_postgres_cpu("taskdeck: the whole round", cpu, pool).await;
        if !args.skip_processes {
            for &processes in &args.processes {
                let figures =
                    processes_round(args, pool, processes, &args.database_url, false, None).await?;
                results.push(System::Processes(processes), figures);
            }
        }
        if let Some(pgbouncer) = pgbouncer {
            let figures =
                processes_round(args, pool, 1, &pgbouncer.url, true, Some(pgbouncer)).await?;
            results.push(System::PgBouncer, figures);
        }
        if !args.skip_graphile {
            for (system, local_queue) in [
                (System::GraphileDefault, 0),
                (System::GraphileBatched, args.graphile_local_queue),
            ] {
                let label = if local_queue > 1 {
                    "graphile-worker batched"
                } else {
                    "graphile-worker default"
                };
                let peer_args = vec![
                    "--latency-tasks".to_owned(),
                    args.latency_tasks.to_string(),
                    "--gap-ms".to_owned(),
                    args.gap_ms.to_string(),
                    "--local-queue-size".to_owned(),
                    local_queue.to_string(),
                ];
                let figures = node_peer(
                    args,
                    pool,
                    label,
                    &args.graphile_dir,
                    "graphile-worker",
                    &peer_args,
                )
                .await?;
                results.push(system, figures);
            }
        }
        if !args.skip_pgboss {
            let peer_args = vec![
                "--batch-size".to_owned(),
                args.pgboss_batch_size.to_string(),
            ];
            let figures = node_peer(
                args,
                pool,
                "pg-boss",
                &args.pgboss_dir,
                "pg-boss",
                &peer_args,
            )
            .await?;
            results.push(System::PgBoss, figures);
        }
        if args.rounds > 1 {
            let last = |system| results.rounds(system).last().map(|f| f.tasks_per_sec);
            let ratio = |a, b| match (last(a), last(b)) {
                (Some(a), Some(b)) => format!("{:.2}", a / b),
                _ => "n/a".to_owned(),
            };
            println!(
                "round {round}: Taskdeck / graphile-worker batched {}, / default {}, / pg-boss {}; \
                 2 processes / 1 process {}",
                ratio(System::Taskdeck, System::GraphileBatched),
                ratio(System::Taskdeck, System::GraphileDefault),
                ratio(System::Taskdeck, System::PgBoss),
                ratio(System::Processes(2), System::Processes(1)),
            );
        }
    }
    Ok(results)
}

/// Linux reports CPU times in USER_HZ clock ticks, 100 per second.
const TICKS_PER_SEC: f64 = 100.0;

/// Fields of /proc/<pid>/stat after the command name: the state is field 3.
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default()
}

/// The sum of the given (1-based) fields of a /proc/<pid>/stat line.
fn stat_sum(stat: &str, numbers: &[usize]) -> Option<u64> {
    let fields = stat_fields(stat);
    numbers
        .iter()
        .map(|n| fields.get(n - 3)?.parse::<u64>().ok())
        .sum()
}

/// CPU seconds (utime + stime) process `pid` has used so far, from /proc.
fn process_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat_sum(&stat, &[14, 15])? as f64 / TICKS_PER_SEC)
}

/// CPU seconds the PostgreSQL server behind `pool` has used so far (the postmaster, its live
/// processes and those it reaped), when it runs on this machine and `/proc` and its data
/// directory are readable (`scripts/bench` runs it so); `None` otherwise. The connections
/// of a measured phase must stay open until its end or be reaped: a process that exited but
/// was not yet reaped is not counted.
async fn postgres_cpu(pool: &sqlx::PgPool) -> Option<f64> {
    let dir: String = sqlx::query_scalar("select current_setting('data_directory')")
        .fetch_one(pool)
        .await
        .ok()?;
    let pid: u32 = std::fs::read_to_string(Path::new(&dir).join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()?;
    let postmaster = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // utime, stime, and the same of the children it reaped.
    let mut ticks = stat_sum(&postmaster, &[14, 15, 16, 17])?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Field 4: the parent.
        if stat_fields(&stat)
            .get(1)
            .and_then(|p| p.parse::<u32>().ok())
            == Some(pid)
        {
            ticks += stat_sum(&stat, &[14, 15]).unwrap_or(0);
        }
    }
    Some(ticks as f64 / TICKS_PER_SEC)
}

/// Prints the PostgreSQL CPU used since `before`, when it could be read.
async fn print_postgres_cpu(what: &str, before: Option<f64>, pool: &sqlx::PgPool) {
    if let (Some(before), Some(after)) = (before, postgres_cpu(pool).await) {
        println!("{what}: PostgreSQL CPU {:.2} s", after - before);
    }
}

/// PostgreSQL CPU seconds per 1,000 tasks between two readings, when both could be made.
fn per_1000(before: Option<f64>, after: Option<f64>, tasks: i64) -> Option<f64> {
    Some((after? - before?) / tasks as f64 * 1000.0)
}

/// Each figure's median over the rounds (of the rounds that have it).
fn median(rounds: &[Figures]) -> Figures {
    let pick = |field: fn(&Figures) -> Option<f64>| {
        let mut values: Vec<f64> = rounds.iter().filter_map(field).collect();
        values.sort_by(f64::total_cmp);
        (!values.is_empty()).then(|| percentile(&values, 50.0))
    };
    Figures {
        tasks_per_sec: pick(|f| Some(f.tasks_per_sec)).unwrap_or(f64::NAN),
        pickup_p50_ms: pick(|f| f.pickup_p50_ms),
        pickup_p99_ms: pick(|f| f.pickup_p99_ms),
        cpu_per_1000: pick(|f| f.cpu_per_1000),
        version: rounds.iter().find_map(|f| f.version.clone()),
    }
}

/// A throwaway user for one round's tasks (deleted afterwards with `delete_user`, which
/// deletes its tasks with it), after a vacuum: the same start every round, no dead rows left
/// by the previous one.
async fn bench_user(pool: &sqlx::PgPool) -> anyhow::Result<Uuid> {
    sqlx::raw_sql("vacuum analyze public.tasks, public.task_executions, public.execution_logs")
        .execute(pool)
        .await
        .context("vacuum before the round")?;
    let user = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at, updated_at)
         values ($1, 'authenticated', 'authenticated', $2, '{}', now(), now())",
    )
    .bind(user)
    .bind(format!("bench-{}@bench.invalid", user.simple()))
    .execute(pool)
    .await
    .context("cannot create the bench user (is this a Taskdeck database?)")?;
    Ok(user)
}

async fn delete_user(pool: &sqlx::PgPool, user: Uuid) -> anyhow::Result<()> {
    sqlx::query("delete from auth.users where id = $1")
        .bind(user)
        .execute(pool)
        .await
        .context("deleting the bench user")?;
    Ok(())
}

/// N no-op tasks of `user`, in one statement; returns the milliseconds it took.
async fn insert_tasks(pool: &sqlx::PgPool, user: Uuid, tasks: i64) -> anyhow::Result<f64> {
    let inserting = Instant::now();
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1, 'bench ' || n, 'cleanup', '{}' from generate_series(1, $2) n",
    )
    .bind(user)
    .bind(tasks)
    .execute(pool)
    .await
    .context("queueing the bench tasks")?;
    Ok(inserting.elapsed().as_secs_f64() * 1000.0)
}

/// The condition the comparison rests on: every one of `user`'s `tasks` tasks is completed
/// and wrote its completed execution row and (at least) its log line. Returns the
/// executions and log lines counted.
async fn check_written(pool: &sqlx::PgPool, user: Uuid, tasks: i64) -> anyhow::Result<(i64, i64)> {
    let (done, executions, logs): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from public.tasks where user_id = $1 and status = 'completed'),
                (select count(*) from public.task_executions e join public.tasks t on t.id = e.task_id
                  where t.user_id = $1 and e.status = 'completed'),
                (select count(*) from public.execution_logs l join public.tasks t on t.id = l.task_id
                  where t.user_id = $1)",
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    anyhow::ensure!(
        done == tasks && executions == tasks && logs >= tasks,
        "after the drain: {done} completed tasks, {executions} completed executions and {logs} log \
         lines, expected {tasks} of each"
    );
    Ok((executions, logs))
}

/// One Taskdeck round in this process with a throwaway user (deleted afterwards, with its
/// tasks).
async fn taskdeck_round(args: &Args, pool: &sqlx::PgPool) -> anyhow::Result<Figures> {
    let user = bench_user(pool).await?;
    let result = taskdeck(args, pool, user).await;
    delete_user(pool, user).await?;
    result
}

async fn taskdeck(args: &Args, pool: &sqlx::PgPool, user: Uuid) -> anyhow::Result<Figures> {
    let worker_name = format!("bench-{}", &user.simple().to_string()[..8]);
    let started_at = Arc::new(Mutex::new(HashMap::new()));
    // The worker's own pool in the transaction-pooler mode (its connection settings differ).
    let worker_pool = if args.transaction_pooler {
        worker::runner::pool_options(u32::try_from(args.concurrency).unwrap_or(4) + 4)
            .connect_with(worker::runner::connect_options(&args.database_url, true)?)
            .await?
    } else {
        pool.clone()
    };
    let deps = Deps::new(worker_pool, worker_name.clone())
        .with_transaction_pooler(args.transaction_pooler)
        .with_handlers(HandlerRegistry::empty().with(
            TaskType::Cleanup,
            Noop {
                started: started_at.clone(),
            },
        ));
    let metrics = deps.metrics.clone();
    let completed = move || metrics.completed.get();
    let options = RunOptions {
        concurrency: args.concurrency,
        batch_size: args.batch_size_taskdeck,
        poll_interval: Duration::from_millis(args.poll_ms),
        listen: !args.poll_only,
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    };

    // 1. Throughput: N tasks queued, then a worker starts and drains them.
    let insert_ms = insert_tasks(pool, user, args.tasks).await?;
    let stop = CancellationToken::new();
    let cpu = postgres_cpu(pool).await;
    let started = Instant::now();
    let mut worker = tokio::spawn(run_with_deps(deps, options, stop.clone()));
    let target = u64::try_from(args.tasks).unwrap_or(0);
    wait_until(&mut worker, Duration::from_secs(600), || {
        completed() >= target
    })
    .await
    .with_context(|| format!("draining {} tasks", args.tasks))?;
    let seconds = started.elapsed().as_secs_f64();
    let tasks_per_sec = args.tasks as f64 / seconds;
    let cpu_after_drain = postgres_cpu(pool).await;
    let (executions, logs) = check_written(pool, user, args.tasks).await?;
    println!(
        "taskdeck: {} tasks queued in {insert_ms:.0} ms (one insert); drained in {seconds:.2} s = {tasks_per_sec:.0} tasks/s \
         (concurrency {}, {}; {executions} execution rows, {logs} log rows written)",
        args.tasks,
        args.concurrency,
        if args.transaction_pooler {
            "transaction-pooler mode"
        } else if args.poll_only {
            "poll only"
        } else {
            "LISTEN"
        }
    );
    let cpu_per_1000 = per_1000(cpu, cpu_after_drain, args.tasks);
    if let Some(per_1000) = cpu_per_1000 {
        println!(
            "taskdeck: the drain: PostgreSQL CPU {:.2} s ({per_1000:.3} s per 1000 tasks)",
            per_1000 * args.tasks as f64 / 1000.0
        );
    }

    // A fresh state for the latency phase.
    sqlx::query("delete from public.tasks where user_id = $1")
        .bind(user)
        .execute(pool)
        .await?;
    wait_ready(pool, &worker_name, args.poll_only).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // 2. Pickup latency into the idle worker: serial inserts.
    let mut latencies = Vec::with_capacity(args.latency_tasks);
    let mut ids = Vec::with_capacity(args.latency_tasks);
    for n in 0..args.latency_tasks {
        let before = completed();
        let inserted = Instant::now();
        let id: Uuid = sqlx::query_scalar(
            "insert into public.tasks (user_id, title, type, parameters)
             values ($1, 'latency ' || $2, 'cleanup', '{}') returning id",
        )
        .bind(user)
        .bind(n.to_string())
        .fetch_one(pool)
        .await?;
        ids.push(id);
        wait_until(&mut worker, Duration::from_secs(30), || {
            completed() > before
        })
        .await
        .with_context(|| format!("latency task {n}"))?;
        let handler_started = started_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .copied()
            .context("a latency task completed without its handler running")?;
        latencies.push(
            handler_started
                .saturating_duration_since(inserted)
                .as_secs_f64()
                * 1000.0,
        );
        tokio::time::sleep(Duration::from_millis(args.gap_ms)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let mut db_clock: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from started_at - created_at)::float8 * 1000
           from public.tasks where id = any($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    db_clock.sort_by(f64::total_cmp);
    let figures = Figures {
        tasks_per_sec,
        pickup_p50_ms: Some(percentile(&latencies, 50.0)),
        pickup_p99_ms: Some(percentile(&latencies, 99.0)),
        cpu_per_1000,
        version: None,
    };
    println!(
        "taskdeck: pickup (insert call → handler start) over {} serial inserts: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
         (database clock, created_at → started_at: p50 {:.1} ms, p99 {:.1} ms)",
        latencies.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        percentile(&db_clock, 50.0),
        percentile(&db_clock, 99.0),
    );

    stop.cancel();
    worker.await??;
    sqlx::query("delete from public.workers where id = $1")
        .bind(&worker_name)
        .execute(pool)
        .await?;
    Ok(figures)
}

/// Polls `done` every millisecond (in-process, no query) until it holds, the worker stops,
/// or `limit` passes.
async fn wait_until(
    worker: &mut tokio::task::JoinHandle<anyhow::Result<()>>,
    limit: Duration,
    done: impl Fn() -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while !done() {
        if worker.is_finished() {
            return match worker.await {
                Ok(Ok(())) => Err(anyhow::anyhow!("the worker stopped early")),
                Ok(Err(error)) => Err(error.context("the worker stopped")),
                Err(error) => Err(anyhow::Error::new(error).context("the worker panicked")),
            };
        }
        anyhow::ensure!(Instant::now() < deadline, "not done after {limit:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// Waits until the worker is registered and (unless polling only) listening.
async fn wait_ready(pool: &sqlx::PgPool, worker_name: &str, poll_only: bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready: bool = sqlx::query_scalar(
            "select exists (select 1 from public.workers where id = $1 and status = 'running')
                and ($2 or exists (select 1 from pg_stat_activity
                                    where datname = current_database()
                                      and query ilike 'listen%taskdeck_task_queue%'))",
        )
        .bind(worker_name)
        .bind(poll_only)
        .fetch_one(pool)
        .await?;
        if ready {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the worker did not start within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs a node peer (`bench.mjs` in `dir`, after `npm ci` there when
/// `node_modules/<package>` is missing) with the same N and concurrency plus `extra`, and
/// `--handshake`: the script stops just before its drain and just after it, each time until
/// it reads a line on stdin, and the PostgreSQL CPU is read at those two points. Returns the
/// figures of its last JSON line.
async fn node_peer(
    args: &Args,
    pool: &sqlx::PgPool,
    label: &str,
    dir: &Path,
    package: &str,
    extra: &[String],
) -> anyhow::Result<Figures> {
    anyhow::ensure!(
        dir.join("bench.mjs").is_file(),
        "{} has no bench.mjs (--graphile-dir / --pgboss-dir)",
        dir.display()
    );
    if !dir
        .join("node_modules")
        .join(package)
        .join("package.json")
        .is_file()
    {
        println!("{label}: npm ci in {}", dir.display());
        let status = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .await
            .context(
                "cannot run npm (are Node 20 and npm installed? scripts/bench installs them)",
            )?;
        anyhow::ensure!(
            status.success(),
            "npm ci in {} failed ({status})",
            dir.display()
        );
    }
    println!(
        "{label}: same database, same N and concurrency (load average {})",
        load_average()
    );
    let whole_run = postgres_cpu(pool).await;
    let mut child = tokio::process::Command::new("node")
        .arg("bench.mjs")
        .args(["--tasks", &args.tasks.to_string()])
        .args(["--concurrency", &args.concurrency.to_string()])
        .args(extra)
        .arg("--handshake")
        .env("DATABASE_URL", &args.database_url)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot run node (is Node 20 installed? scripts/bench installs it)")?;
    let mut stdin = child.stdin.take().context("node's stdin")?;
    let mut lines = BufReader::new(child.stdout.take().context("node's stdout")?).lines();
    let (mut before, mut after, mut figures) = (None, None, None);
    while let Some(line) = lines.next_line().await? {
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            println!("{label}: {line}");
            continue;
        };
        match value.get("event").and_then(Value::as_str) {
            Some("ready") => before = postgres_cpu(pool).await,
            Some("drained") => after = postgres_cpu(pool).await,
            Some(other) => anyhow::bail!("{label}: unknown event {other}"),
            None => {
                figures = Some(
                    serde_json::from_value::<Figures>(value)
                        .with_context(|| format!("cannot parse the {label} figures: {line}"))?,
                );
                continue;
            }
        }
        // Closed with the end of the run: node may also wait for it.
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
    }
    drop(stdin);
    let status = child.wait().await?;
    anyhow::ensure!(
        status.success(),
        "{label}: node bench.mjs failed ({status})"
    );
    let mut figures =
        figures.with_context(|| format!("{label}: bench.mjs printed no JSON line"))?;
    figures.cpu_per_1000 = per_1000(before, after, args.tasks);
    if let Some(per_1000) = figures.cpu_per_1000 {
        println!(
            "{label}: the drain: PostgreSQL CPU {:.2} s ({per_1000:.3} s per 1000 jobs)",
            per_1000 * args.tasks as f64 / 1000.0
        );
    }
    // Its connections closed with node: let the server reap their processes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    print_postgres_cpu(&format!("{label}: the whole run"), whole_run, pool).await;
    Ok(figures)
}

/// What a child worker process says on stdout, one JSON object a line.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ChildLine {
    Event { event: String },
    Completed { completed: u64 },
}

/// One Taskdeck drain by `processes` worker processes: N tasks are queued, then that many
/// copies of this binary start (`--child-worker NAME`, see `child_worker`), each with its own
/// pool of `--concurrency` + 4 connections to `database_url` and `--concurrency` slots (as
/// many replicas of one deployment would be configured). Each connects and says "ready"; the
/// parent reads the PostgreSQL CPU, starts the clock and says "go" to all; each child then
/// reports its completion count whenever it changes (it polls its own counter every
/// millisecond); when the counts add up to N the clock stops, the CPU is read again (the
/// children's connections still open) and the children are told to stop. A process of its
/// own for every worker, rather than more workers in this process, so that nothing (runtime,
/// allocator, statement cache) is shared among them but the database. Through PgBouncer
/// (`pgbouncer`), `transaction_pooler` is set and PgBouncer's own CPU is printed apart.
async fn processes_round(
    args: &Args,
    pool: &sqlx::PgPool,
    processes: usize,
    database_url: &str,
    transaction_pooler: bool,
    pgbouncer: Option<&PgBouncer>,
) -> anyhow::Result<Figures> {
    let user = bench_user(pool).await?;
    let result = processes_drain(
        args,
        pool,
        user,
        processes,
        database_url,
        transaction_pooler,
        pgbouncer,
    )
    .await;
    delete_user(pool, user).await?;
    result
}

async fn processes_drain(
    args: &Args,
    pool: &sqlx::PgPool,
    user: Uuid,
    processes: usize,
    database_url: &str,
    transaction_pooler: bool,
    pgbouncer: Option<&PgBouncer>,
) -> anyhow::Result<Figures> {
    anyhow::ensure!(processes >= 1, "--processes: counts must be at least 1");
    let label = if pgbouncer.is_some() {
        "taskdeck through PgBouncer (transaction mode)".to_owned()
    } else if processes == 1 {
        "taskdeck, 1 worker process".to_owned()
    } else {
        format!("taskdeck, {processes} worker processes")
    };
    let insert_ms = insert_tasks(pool, user, args.tasks).await?;
    let exe = std::env::current_exe().context("cannot find this binary to start the workers")?;
    let tag = &user.simple().to_string()[..8];
    let names: Vec<String> = (1..=processes)
        .map(|n| format!("bench-{tag}-p{n}"))
        .collect();
    let mut children = Vec::with_capacity(processes);
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
    for (index, name) in names.iter().enumerate() {
        let mut command = tokio::process::Command::new(&exe);
        command
            .args(["--child-worker", name])
            .args(["--database-url", database_url])
            .args(["--concurrency", &args.concurrency.to_string()])
            .args([
                "--batch-size-taskdeck",
                &args.batch_size_taskdeck.to_string(),
            ])
            .args(["--poll-ms", &args.poll_ms.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if transaction_pooler {
            command.arg("--transaction-pooler");
        }
        if args.poll_only {
            command.arg("--poll-only");
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let stdout = child.stdout.take().context("a worker's stdout")?;
        let stdin = child.stdin.take().context("a worker's stdin")?;
        let lines_tx = lines_tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if lines_tx.send((index, line)).is_err() {
                    break;
                }
            }
            // End of output: the process exited.
            let _ = lines_tx.send((index, String::new()));
        });
        children.push((child, stdin));
    }
    drop(lines_tx);

    // Every child connected and ready.
    let mut ready = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ready < processes {
        let (index, line) = tokio::time::timeout_at(deadline, lines_rx.recv())
            .await
            .context("the worker processes were not ready within 30 s")?
            .context("the worker processes stopped")?;
        match serde_json::from_str::<ChildLine>(&line) {
            Ok(ChildLine::Event { event }) if event == "ready" => ready += 1,
            _ => anyhow::bail!("worker process {} before its start: {line:?}", index + 1),
        }
    }
    let cpu = postgres_cpu(pool).await;
    let pgbouncer_cpu = pgbouncer.and_then(PgBouncer::cpu);
    let started = Instant::now();
    for (_, stdin) in &mut children {
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
    }
    let mut counts = vec![0u64; processes];
    let target = u64::try_from(args.tasks).unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while counts.iter().sum::<u64>() < target {
        let (index, line) = tokio::time::timeout_at(deadline, lines_rx.recv())
            .await
            .with_context(|| format!("{label}: the drain of {} tasks took over 600 s", args.tasks))?
            .context("the worker processes stopped")?;
        match serde_json::from_str::<ChildLine>(&line) {
            Ok(ChildLine::Completed { completed }) => counts[index] = completed,
            _ => anyhow::bail!(
                "worker process {} during the drain: {line:?} (stopped early?)",
                index + 1
            ),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = postgres_cpu(pool).await;
    let pgbouncer_cpu_after = pgbouncer.and_then(PgBouncer::cpu);
    for (_, stdin) in &mut children {
        stdin.write_all(b"stop\n").await?;
        stdin.flush().await?;
    }
    for (index, (child, _)) in children.iter_mut().enumerate() {
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .with_context(|| format!("worker process {} did not stop within 30 s", index + 1))??;
        anyhow::ensure!(
            status.success(),
            "worker process {} failed ({status})",
            index + 1
        );
    }
    let (executions, logs) = check_written(pool, user, args.tasks).await?;
    sqlx::query("delete from public.workers where id = any($1)")
        .bind(&names)
        .execute(pool)
        .await?;
    let tasks_per_sec = args.tasks as f64 / seconds;
    let cpu_per_1000 = per_1000(cpu, cpu_after, args.tasks);
    println!(
        "{label}: {} tasks queued in {insert_ms:.0} ms; drained in {seconds:.2} s = {tasks_per_sec:.0} tasks/s \
         ({processes} × concurrency {}, {}; per process {counts:?}; {executions} execution rows, {logs} log rows written)",
        args.tasks,
        args.concurrency,
        if transaction_pooler {
            "transaction-pooler mode"
        } else if args.poll_only {
            "poll only"
        } else {
            "LISTEN"
        }
    );
    if let Some(per_1000) = cpu_per_1000 {
        println!(
            "{label}: the drain: PostgreSQL CPU {:.2} s ({per_1000:.3} s per 1000 tasks){}",
            per_1000 * args.tasks as f64 / 1000.0,
            match (pgbouncer_cpu, pgbouncer_cpu_after) {
                (Some(before), Some(after)) => format!("; PgBouncer CPU {:.2} s", after - before),
                _ => String::new(),
            }
        );
    }
    Ok(Figures {
        tasks_per_sec,
        pickup_p50_ms: None,
        pickup_p99_ms: None,
        cpu_per_1000,
        version: None,
    })
}

/// A worker process of `processes_round` (`bench --child-worker NAME`): connects its own
/// pool, says `{"event":"ready"}`, waits for "go" on stdin, then runs the worker with the
/// no-op handler and prints `{"completed":n}` whenever its completion count changes, until
/// "stop" (or the end of stdin); then stops the worker gracefully.
async fn child_worker(args: &Args, name: &str) -> anyhow::Result<()> {
    let pool = worker::runner::pool_options(u32::try_from(args.concurrency).unwrap_or(4) + 4)
        .connect_with(worker::runner::connect_options(
            &args.database_url,
            args.transaction_pooler,
        )?)
        .await
        .context("worker process: cannot connect")?;
    let deps = Deps::new(pool.clone(), name.to_owned())
        .with_transaction_pooler(args.transaction_pooler)
        .with_handlers(HandlerRegistry::empty().with(
            TaskType::Cleanup,
            Noop {
                started: Arc::default(),
            },
        ));
    let metrics = deps.metrics.clone();
    let options = RunOptions {
        concurrency: args.concurrency,
        batch_size: args.batch_size_taskdeck,
        poll_interval: Duration::from_millis(args.poll_ms),
        listen: !(args.poll_only || args.transaction_pooler),
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    };
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    println!("{}", json!({ "event": "ready" }));
    match stdin.next_line().await? {
        Some(line) if line.trim() == "go" => {}
        other => anyhow::bail!("worker process {name}: expected go on stdin, got {other:?}"),
    }
    let stop = CancellationToken::new();
    let mut worker = tokio::spawn(run_with_deps(deps, options, stop.clone()));
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut reported = 0;
    loop {
        tokio::select! {
            line = stdin.next_line() => match line {
                Ok(Some(line)) if line.trim() != "stop" => {}
                _ => break,
            },
            _ = ticker.tick() => {
                let completed = metrics.completed.get();
                if completed != reported {
                    println!("{}", json!({ "completed": completed }));
                    reported = completed;
                }
                if worker.is_finished() {
                    break;
                }
            }
        }
    }
    stop.cancel();
    (&mut worker)
        .await
        .context("worker process: the worker panicked")?
        .context("worker process: the worker stopped")?;
    // Its `workers` row: the parent removes it.
    pool.close().await;
    Ok(())
}

/// PgBouncer in transaction mode in front of the bench database, in a directory of its own
/// under the temp dir; stopped and removed when dropped. As root it runs as `postgres` (it
/// refuses to run as root), as the worker's pooler test does.
struct PgBouncer {
    child: std::process::Child,
    dir: PathBuf,
    /// The bench database through PgBouncer.
    url: String,
}

impl PgBouncer {
    async fn start(database_url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let binary = pgbouncer_binary()?;
        let url = url::Url::parse(database_url).context("DATABASE_URL is not a URL")?;
        let database = url.path().trim_start_matches('/').to_owned();
        anyhow::ensure!(!database.is_empty(), "DATABASE_URL names no database");
        let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = url.port().unwrap_or(5432);
        let user = if url.username().is_empty() {
            "postgres"
        } else {
            url.username()
        };
        let password = url
            .password()
            .map(|p| format!(" password={p}"))
            .unwrap_or_default();
        let listen_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("no free port for PgBouncer")?
            .port();
        let dir = std::env::temp_dir().join(format!(
            "taskdeck-bench-pgbouncer-{}-{listen_port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        // No `ignore_startup_parameters`: in the transaction-pooler mode the worker sends no
        // startup parameter PgBouncer refuses.
        let config = format!(
            "[databases]\n\
             {database} = host={host} port={port} dbname={database} user={user}{password}\n\
             \n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {listen_port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             max_client_conn = 200\n\
             max_db_connections = {pool_size}\n\
             log_connections = 0\n\
             log_disconnections = 0\n"
        );
        let config_path = dir.join("pgbouncer.ini");
        std::fs::write(&config_path, config)?;
        std::fs::set_permissions(&config_path, std::fs::Permissions::from_mode(0o644))?;
        let log = dir.join("pgbouncer.log");
        let log_file = std::fs::File::create(&log)?;
        let mut command = std::process::Command::new(&binary);
        command
            .arg(&config_path)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() == Some(0) {
            let (uid, gid) = postgres_user()?;
            command.uid(uid).gid(gid);
        }
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(
                    anyhow::Error::new(error).context(format!("cannot start {}", binary.display()))
                );
            }
        };
        let mut client_url = url.clone();
        client_url
            .set_host(Some("127.0.0.1"))
            .context("DATABASE_URL: cannot set the host")?;
        client_url
            .set_port(Some(listen_port))
            .map_err(|()| anyhow::anyhow!("DATABASE_URL: cannot set the port"))?;
        let mut pgbouncer = PgBouncer {
            child,
            dir,
            url: client_url.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = pgbouncer.child.try_wait() {
                anyhow::bail!(
                    "PgBouncer exited at start ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", listen_port))
                .await
                .is_ok()
            {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "PgBouncer did not listen on port {listen_port} within 10 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "PgBouncer ({}) in transaction mode on 127.0.0.1:{listen_port}, {pool_size} server connections",
            binary.display()
        );
        Ok(pgbouncer)
    }

    /// CPU seconds PgBouncer has used so far.
    fn cpu(&self) -> Option<f64> {
        process_cpu(self.child.id())
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pgbouncer_binary() -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
        .context(
            "PgBouncer is not installed (no pgbouncer in PATH, /usr/sbin or /usr/local/sbin): \
             `apt-get install pgbouncer` (scripts/bench installs it), or --skip-pgbouncer",
        )
}

/// The uid and gid of the `postgres` user, from /etc/passwd.
fn postgres_user() -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.first() != Some(&"postgres") || fields.len() < 4 {
                return None;
            }
            Some((fields[2].parse().ok()?, fields[3].parse().ok()?))
        })
        .context(
            "running as root, PgBouncer must run as another user, and there is no postgres user \
             (it comes with the PostgreSQL packages); or --skip-pgbouncer",
        )
}

/// Prints the comparison; `true` when every target that could be measured is met.
fn report(args: &Args, results: &Results) -> bool {
    let fmt = |value: Option<f64>, decimals: usize| {
        value
            .filter(|v| v.is_finite())
            .map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
    };
    println!();
    println!(
        "N={}, concurrency {} (per worker process), {} serial tasks for pickup{}",
        args.tasks,
        args.concurrency,
        args.latency_tasks,
        if args.rounds > 1 {
            format!("; medians of {} rounds", args.rounds)
        } else {
            String::new()
        }
    );
    println!(
        "{:<52} {:>9} {:>14} {:>11} {:>11}",
        "", "tasks/s", "PG CPU s/1000", "pickup p50", "pickup p99"
    );
    for (system, rounds) in &results.0 {
        let figures = median(rounds);
        let version = figures.version.as_deref().unwrap_or("");
        let name = match system {
            System::Taskdeck => "Taskdeck, 1 process (in the bench, with pickup)".to_owned(),
            System::Processes(1) => "Taskdeck, 1 worker process".to_owned(),
            System::Processes(n) => format!("Taskdeck, {n} worker processes"),
            System::PgBouncer => "Taskdeck, 1 process, PgBouncer transaction mode".to_owned(),
            System::GraphileDefault => format!("graphile-worker {version} default"),
            System::GraphileBatched => format!(
                "graphile-worker {version} batched (localQueue {})",
                args.graphile_local_queue
            ),
            System::PgBoss => format!("pg-boss {version} (batchSize {})", args.pgboss_batch_size),
        };
        println!(
            "{name:<52} {:>9} {:>14} {:>11} {:>11}",
            fmt(Some(figures.tasks_per_sec), 0),
            fmt(figures.cpu_per_1000, 3),
            fmt(figures.pickup_p50_ms, 2),
            fmt(figures.pickup_p99_ms, 2),
        );
    }
    let ratio = |a, b| results.ratio(a, b);
    let median_note = if args.rounds > 1 {
        " (medians of the rounds' ratios)"
    } else {
        ""
    };
    println!(
        "ratios{median_note}: Taskdeck (1 process) / graphile-worker batched {}, / graphile-worker default {}, \
         / pg-boss {}; 2 processes / 1 process {}, 4 processes / 1 process {}; PgBouncer / direct (1 process) {}",
        fmt(ratio(System::Taskdeck, System::GraphileBatched), 2),
        fmt(ratio(System::Taskdeck, System::GraphileDefault), 2),
        fmt(ratio(System::Taskdeck, System::PgBoss), 2),
        fmt(ratio(System::Processes(2), System::Processes(1)), 2),
        fmt(ratio(System::Processes(4), System::Processes(1)), 2),
        fmt(ratio(System::PgBouncer, System::Processes(1)), 2),
    );
    println!(
        "condition: every Taskdeck task wrote its execution row, a log line and its final status: \
         PASS (checked after every Taskdeck drain; a miss stops the bench)"
    );
    let ours = median(results.rounds(System::Taskdeck));
    let mut met = true;
    let mut target = |what: String, value: Option<f64>, ok: fn(f64) -> bool| {
        let verdict = match value.filter(|v| v.is_finite()) {
            Some(v) if ok(v) => format!("PASS ({v:.2})"),
            Some(v) => {
                met = false;
                format!("MISS ({v:.2})")
            }
            None => "not measured".to_owned(),
        };
        println!("target: {what}: {verdict}");
    };
    target(
        format!("Taskdeck (1 process) / graphile-worker batched >= {TARGET_RATIO:.1}"),
        ratio(System::Taskdeck, System::GraphileBatched),
        |v| v >= TARGET_RATIO,
    );
    target(
        format!("Taskdeck pickup p50 <= {TARGET_P50_MS} ms"),
        ours.pickup_p50_ms,
        |v| v <= TARGET_P50_MS,
    );
    target(
        format!("Taskdeck pickup p99 <= {TARGET_P99_MS} ms"),
        ours.pickup_p99_ms,
        |v| v <= TARGET_P99_MS,
    );
    target(
        format!("2 processes / 1 process >= {TARGET_SCALING}"),
        ratio(System::Processes(2), System::Processes(1)),
        |v| v >= TARGET_SCALING,
    );
    println!(
        "(graphile-worker records a success by deleting the job row, pg-boss by one update per \
         batch; Taskdeck writes an execution row, a log line and the final status of every task)"
    );
    met
}
