//! `bench`: measures the queue on a real database with no-op tasks.
//!
//! 1. Throughput: inserts N tasks at once and drains them with one worker
//!    (`--concurrency` slots); reports tasks per second.
//! 2. Pickup latency: inserts M tasks one at a time (every `--gap-ms`) into an idle
//!    worker and reports p50/p99/max of `started_at - created_at` (both database clock).
//!
//! It creates a throwaway user (and so its tasks) and deletes it at the end. Point it at a
//! database with Taskdeck's schema, e.g. the test cluster's `taskdeck` database:
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:55434/taskdeck cargo run -p worker --bin bench -- --tasks 2000
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use clap::Parser;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::handlers::{HandlerContext, HandlerRegistry, TaskHandler};
use worker::runner::{run_with_deps, RunOptions};
use worker::{Deps, TaskError};

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Throughput and pickup latency of the Taskdeck worker"
)]
struct Args {
    /// Database with Taskdeck's schema (or DATABASE_URL).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Tasks for the throughput run.
    #[arg(long, default_value_t = 1000)]
    tasks: i64,
    /// Tasks for the latency run, inserted one at a time.
    #[arg(long, default_value_t = 200)]
    latency_tasks: usize,
    /// Milliseconds between two inserts of the latency run.
    #[arg(long, default_value_t = 20)]
    gap_ms: u64,
    /// Worker slots.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Poll only (no LISTEN).
    #[arg(long)]
    poll_only: bool,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
}

/// Does nothing.
struct Noop;

#[async_trait]
impl TaskHandler for Noop {
    async fn run(&self, _ctx: HandlerContext) -> Result<Value, TaskError> {
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

async fn wait_done(pool: &sqlx::PgPool, user: Uuid, expected: i64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done: i64 = sqlx::query_scalar(
            "select count(*) from public.tasks where user_id = $1 and status = 'completed'",
        )
        .bind(user)
        .fetch_one(pool)
        .await?;
        if done >= expected {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {done} of {expected} tasks done after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(args.concurrency).unwrap_or(4) + 6)
        .connect(&args.database_url)
        .await
        .context("cannot connect to DATABASE_URL")?;
    let user = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at, updated_at)
         values ($1, 'authenticated', 'authenticated', $2, '{}', now(), now())",
    )
    .bind(user)
    .bind(format!("bench-{}@bench.invalid", user.simple()))
    .execute(&pool)
    .await
    .context("cannot create the bench user (is this a Taskdeck database?)")?;

    let result = run(&args, &pool, user).await;

    sqlx::query("delete from auth.users where id = $1")
        .bind(user)
        .execute(&pool)
        .await?;
    result
}

async fn run(args: &Args, pool: &sqlx::PgPool, user: Uuid) -> anyhow::Result<()> {
    let worker_name = format!("bench-{}", &user.simple().to_string()[..8]);
    let deps = Deps::new(pool.clone(), worker_name.clone())
        .with_handlers(HandlerRegistry::empty().with("cleanup", Noop));
    let stop = CancellationToken::new();
    let options = RunOptions {
        concurrency: args.concurrency,
        poll_interval: Duration::from_millis(args.poll_ms),
        listen: !args.poll_only,
        shutdown_timeout: Duration::from_secs(10),
        metrics_addr: None,
    };
    let worker = tokio::spawn(run_with_deps(deps, options, stop.clone()));
    // Wait until it is registered (and listening, unless polling only).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready: bool = sqlx::query_scalar(
            "select exists (select 1 from public.workers where id = $1 and status = 'running')
                and ($2 or exists (select 1 from pg_stat_activity
                                    where datname = current_database()
                                      and query ilike 'listen%taskdeck_task_queue%'))",
        )
        .bind(&worker_name)
        .bind(args.poll_only)
        .fetch_one(pool)
        .await?;
        if ready {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the worker did not start within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // 1. Throughput.
    let started = Instant::now();
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1, 'bench ' || n, 'cleanup', '{}' from generate_series(1, $2) n",
    )
    .bind(user)
    .bind(args.tasks)
    .execute(pool)
    .await?;
    wait_done(pool, user, args.tasks).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "throughput: {} tasks in {:.2} s = {:.0} tasks/s (concurrency {}, {})",
        args.tasks,
        seconds,
        args.tasks as f64 / seconds,
        args.concurrency,
        if args.poll_only {
            "poll only"
        } else {
            "LISTEN"
        }
    );

    // 2. Pickup latency into an idle worker.
    let mut ids = Vec::with_capacity(args.latency_tasks);
    for n in 0..args.latency_tasks {
        let id: Uuid = sqlx::query_scalar(
            "insert into public.tasks (user_id, title, type, parameters)
             values ($1, 'latency ' || $2, 'cleanup', '{}') returning id",
        )
        .bind(user)
        .bind(n.to_string())
        .fetch_one(pool)
        .await?;
        ids.push(id);
        tokio::time::sleep(Duration::from_millis(args.gap_ms)).await;
    }
    wait_done(pool, user, args.tasks + args.latency_tasks as i64).await?;
    let mut latencies: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from started_at - created_at)::float8 * 1000
           from public.tasks where id = any($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    latencies.sort_by(f64::total_cmp);
    println!(
        "pickup latency over {} tasks inserted every {} ms: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        args.gap_ms,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );

    stop.cancel();
    worker.await??;
    sqlx::query("delete from public.workers where id = $1")
        .bind(&worker_name)
        .execute(pool)
        .await?;
    Ok(())
}
