//! `bench`: the Taskdeck worker against graphile-worker 0.17 on one database, with no-op
//! tasks.
//!
//! 0. History: seeds the database with finished tasks, their executions and logs (as many
//!    as `--tasks` unless `--history` says otherwise), as in a database in use; they stay
//!    through the rounds and are removed at the end (see `seed_history` for why).
//! 1. Taskdeck throughput: inserts N tasks (one statement), then starts a worker in this
//!    process (`--concurrency` slots) and times from its start until the N-th task is
//!    completed. Every task still goes through the whole attempt: its `task_executions`
//!    row, its log line (two for a retry) and its final status.
//! 2. Taskdeck pickup latency: into the idle worker, M times: inserts one task, measures
//!    (in this process) the time from the insert call to the start of the handler, waits
//!    for the task to complete and `--gap-ms` more.
//! 3. graphile-worker: runs `node bench/graphile/bench.mjs` (after `npm ci` there if its
//!    `node_modules` is missing) on the same database with the same N, concurrency, M and
//!    gap: one `addJobs` batch drained by `run`, then M serial `addJob`s.
//!
//! It prints both throughputs, their ratio (Taskdeck / graphile), both pickup p50/p99, the
//! PostgreSQL server's CPU seconds (Taskdeck's drain, its whole round, graphile's whole run;
//! when the server runs on this machine, as with `scripts/bench`), and whether the targets
//! are met (ratio ≥ 1.5, p50 ≤ 5 ms, p99 ≤ 20 ms); with `--rounds R`,
//! both run R times, alternately, and the table shows the medians (the ratio: the median
//! of the rounds' ratios). The Taskdeck phases use a throwaway user (deleted at the end,
//! with its tasks) and refuse to run when other tasks are queued. `scripts/bench` does all of it on a throwaway cluster:
//!
//! ```text
//! scripts/bench                                  # N=5000, concurrency 8, 3 rounds
//! DATABASE_URL=postgres://… cargo run --release -p worker --bin bench -- --tasks 5000 --concurrency 8
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use clap::Parser;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::handlers::{HandlerContext, HandlerRegistry, TaskHandler};
use worker::runner::{run_with_deps, RunOptions};
use worker::{Deps, TaskError};

/// Throughput ratio Taskdeck / graphile-worker the issue asks for.
const TARGET_RATIO: f64 = 1.5;
/// Pickup latency targets, in milliseconds.
const TARGET_P50_MS: f64 = 5.0;
const TARGET_P99_MS: f64 = 20.0;

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Throughput and pickup latency of the Taskdeck worker, compared with graphile-worker 0.17"
)]
struct Args {
    /// Database with Taskdeck's schema (or DATABASE_URL). graphile-worker installs its own
    /// schema, `graphile_worker`, in it.
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
    /// Worker slots (both workers).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Poll only (no LISTEN) for the Taskdeck worker.
    #[arg(long)]
    poll_only: bool,
    /// Run the Taskdeck worker as behind a pooler in transaction mode
    /// (`WORKER_TRANSACTION_POOLER`: each query unnamed in its own transaction; poll only),
    /// here on a direct connection: what that mode costs the database.
    #[arg(long)]
    transaction_pooler: bool,
    /// Poll interval of the Taskdeck worker in milliseconds (graphile keeps its default).
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Measure Taskdeck only.
    #[arg(long)]
    skip_graphile: bool,
    /// Directory of the graphile-worker script (`bench.mjs`, `package-lock.json`).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/graphile"))]
    graphile_dir: PathBuf,
    /// Rounds (Taskdeck, then graphile-worker, each round); the table shows the medians.
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

/// What one worker measured.
#[derive(Debug, Clone, Deserialize)]
struct Figures {
    tasks_per_sec: f64,
    pickup_p50_ms: f64,
    pickup_p99_ms: f64,
    #[serde(default)]
    graphile_worker: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
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
    let history = seed_history(&pool, args.history.unwrap_or(args.tasks)).await?;
    let outcome = rounds(&args, &pool).await;
    if let Some(user) = history {
        sqlx::query("delete from auth.users where id = $1")
            .bind(user)
            .execute(&pool)
            .await
            .context("removing the bench's history")?;
    }
    let (ours, theirs) = outcome?;
    pool.close().await;
    if args.skip_graphile {
        return Ok(());
    }
    // The ratio is the median of the rounds' ratios: each round compares the two workers
    // under the same load.
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(&theirs)
        .map(|(ours, theirs)| ours.tasks_per_sec / theirs.tasks_per_sec)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = percentile(&ratios, 50.0);
    let met = report(&args, &median(&ours), &median(&theirs), ratio);
    println!("load average at the end: {}", load_average());
    if args.check && !met {
        std::process::exit(2);
    }
    Ok(())
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

/// The rounds: Taskdeck then graphile-worker, `--rounds` times.
async fn rounds(args: &Args, pool: &sqlx::PgPool) -> anyhow::Result<(Vec<Figures>, Vec<Figures>)> {
    let mut ours = Vec::with_capacity(args.rounds);
    let mut theirs = Vec::with_capacity(args.rounds);
    for round in 1..=args.rounds.max(1) {
        if args.rounds > 1 {
            println!(
                "round {round} of {} (load average {})",
                args.rounds,
                load_average()
            );
        }
        let cpu = postgres_cpu(pool).await;
        ours.push(taskdeck_round(args, pool).await?);
        print_postgres_cpu("taskdeck: the whole round", cpu, pool).await;
        if !args.skip_graphile {
            println!(
                "graphile-worker: same database, same N and concurrency (load average {})",
                load_average()
            );
            let cpu = postgres_cpu(pool).await;
            theirs.push(graphile(args).await?);
            // Its connections closed with node: let the server reap their processes.
            tokio::time::sleep(Duration::from_millis(300)).await;
            print_postgres_cpu("graphile-worker: the whole run", cpu, pool).await;
            if args.rounds > 1 {
                println!(
                    "round {round}: ratio Taskdeck / graphile-worker {:.2}",
                    ours[round - 1].tasks_per_sec / theirs[round - 1].tasks_per_sec
                );
            }
        }
    }
    Ok((ours, theirs))
}

/// CPU seconds the PostgreSQL server behind `pool` has used so far (the postmaster, its live
/// processes and those it reaped), when it runs on this machine and `/proc` and its data
/// directory are readable (`scripts/bench` runs it so); `None` otherwise. The connections
/// of a measured phase must stay open until its end or be reaped: a process that exited but
/// was not yet reaped is not counted.
async fn postgres_cpu(pool: &sqlx::PgPool) -> Option<f64> {
    // Linux reports these in USER_HZ clock ticks, 100 per second.
    const TICKS_PER_SEC: f64 = 100.0;
    // Fields of /proc/<pid>/stat after the command name: the state is field 3.
    fn fields(stat: &str) -> Vec<&str> {
        stat.rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default()
    }
    fn sum(stat: &str, numbers: &[usize]) -> Option<u64> {
        let fields = fields(stat);
        numbers
            .iter()
            .map(|n| fields.get(n - 3)?.parse::<u64>().ok())
            .sum()
    }
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
    let mut ticks = sum(&postmaster, &[14, 15, 16, 17])?;
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
        if fields(&stat).get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            ticks += sum(&stat, &[14, 15]).unwrap_or(0);
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

/// Each figure's median over the rounds.
fn median(rounds: &[Figures]) -> Figures {
    let pick = |field: fn(&Figures) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(field).collect();
        values.sort_by(f64::total_cmp);
        percentile(&values, 50.0)
    };
    Figures {
        tasks_per_sec: pick(|f| f.tasks_per_sec),
        pickup_p50_ms: pick(|f| f.pickup_p50_ms),
        pickup_p99_ms: pick(|f| f.pickup_p99_ms),
        graphile_worker: rounds.iter().find_map(|f| f.graphile_worker.clone()),
    }
}

/// One Taskdeck round with a throwaway user (deleted afterwards, with its tasks).
async fn taskdeck_round(args: &Args, pool: &sqlx::PgPool) -> anyhow::Result<Figures> {
    // The same start every round: no dead rows left by the previous one.
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
    let result = taskdeck(args, pool, user).await;
    sqlx::query("delete from auth.users where id = $1")
        .bind(user)
        .execute(pool)
        .await?;
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
            "cleanup",
            Noop {
                started: started_at.clone(),
            },
        ));
    let metrics = deps.metrics.clone();
    let completed = move || metrics.completed.get();
    let options = RunOptions {
        concurrency: args.concurrency,
        poll_interval: Duration::from_millis(args.poll_ms),
        listen: !args.poll_only,
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    };

    // 1. Throughput: N tasks queued, then a worker starts and drains them.
    let inserting = Instant::now();
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1, 'bench ' || n, 'cleanup', '{}' from generate_series(1, $2) n",
    )
    .bind(user)
    .bind(args.tasks)
    .execute(pool)
    .await?;
    let insert_ms = inserting.elapsed().as_secs_f64() * 1000.0;
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
        done == args.tasks && executions == args.tasks && logs >= args.tasks,
        "after the drain: {done} completed tasks, {executions} completed executions and {logs} log \
         lines, expected {} of each",
        args.tasks
    );
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
    if let (Some(before), Some(after)) = (cpu, cpu_after_drain) {
        println!(
            "taskdeck: the drain: PostgreSQL CPU {:.2} s",
            after - before
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
        pickup_p50_ms: percentile(&latencies, 50.0),
        pickup_p99_ms: percentile(&latencies, 99.0),
        graphile_worker: None,
    };
    println!(
        "taskdeck: pickup (insert call → handler start) over {} serial inserts: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms \
         (database clock, created_at → started_at: p50 {:.1} ms, p99 {:.1} ms)",
        latencies.len(),
        figures.pickup_p50_ms,
        figures.pickup_p99_ms,
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

/// Runs the graphile-worker script and parses its JSON line.
async fn graphile(args: &Args) -> anyhow::Result<Figures> {
    let dir = args.graphile_dir.as_path();
    anyhow::ensure!(
        dir.join("bench.mjs").is_file(),
        "{} has no bench.mjs (--graphile-dir)",
        dir.display()
    );
    if !dir
        .join("node_modules/graphile-worker/package.json")
        .is_file()
    {
        println!("graphile-worker: npm ci in {}", dir.display());
        run_checked(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(dir),
            "npm ci (are Node 20 and npm installed?)",
        )?;
    }
    let output = Command::new("node")
        .arg(Path::new("bench.mjs"))
        .args(["--tasks", &args.tasks.to_string()])
        .args(["--concurrency", &args.concurrency.to_string()])
        .args(["--latency-tasks", &args.latency_tasks.to_string()])
        .args(["--gap-ms", &args.gap_ms.to_string()])
        .env("DATABASE_URL", &args.database_url)
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run node (is Node 20 installed?)")?;
    anyhow::ensure!(
        output.status.success(),
        "node bench.mjs failed ({})",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("node bench.mjs printed no JSON line")?;
    serde_json::from_str(line).with_context(|| format!("cannot parse the graphile figures: {line}"))
}

fn run_checked(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    anyhow::ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// Prints the comparison; `true` when every target is met.
fn report(args: &Args, ours: &Figures, theirs: &Figures, ratio: f64) -> bool {
    let version = theirs.graphile_worker.as_deref().unwrap_or("0.17");
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let ratio_ok = ratio >= TARGET_RATIO;
    let p50_ok = ours.pickup_p50_ms <= TARGET_P50_MS;
    let p99_ok = ours.pickup_p99_ms <= TARGET_P99_MS;
    let graphile = format!("graphile-worker {version}");
    println!();
    println!(
        "N={}, concurrency {}, {} serial tasks for pickup{}",
        args.tasks,
        args.concurrency,
        args.latency_tasks,
        if args.rounds > 1 {
            format!("; medians of {} rounds", args.rounds)
        } else {
            String::new()
        }
    );
    println!("{:<22} {:>12} {graphile:>24}", "", "Taskdeck");
    println!(
        "{:<22} {:>12.0} {:>24.0}",
        "throughput (tasks/s)", ours.tasks_per_sec, theirs.tasks_per_sec
    );
    println!(
        "{:<22} {:>12.2} {:>24.2}",
        "pickup p50 (ms)", ours.pickup_p50_ms, theirs.pickup_p50_ms
    );
    println!(
        "{:<22} {:>12.2} {:>24.2}",
        "pickup p99 (ms)", ours.pickup_p99_ms, theirs.pickup_p99_ms
    );
    println!(
        "ratio Taskdeck / graphile-worker: {ratio:.2}{}",
        if args.rounds > 1 {
            " (median of the rounds' ratios)"
        } else {
            ""
        }
    );
    println!(
        "targets: ratio >= {TARGET_RATIO}: {} ({ratio:.2}); p50 <= {TARGET_P50_MS} ms: {} ({:.2}); p99 <= {TARGET_P99_MS} ms: {} ({:.2})",
        mark(ratio_ok),
        mark(p50_ok),
        ours.pickup_p50_ms,
        mark(p99_ok),
        ours.pickup_p99_ms
    );
    println!(
        "(conservative for Taskdeck: graphile-worker records a success by deleting the job row; \
         Taskdeck writes an execution row, a log line and the final status of every task)"
    );
    ratio_ok && p50_ok && p99_ok
}
