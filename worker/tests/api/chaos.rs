//! Chaos: several `worker` processes on one database while the test SIGKILLs random ones
//! (starting replacements) and terminates random worker connections with
//! `pg_terminate_backend`. Every task must end completed, with exactly one completed
//! execution and no execution left running. Bounded: chaos for 12 s, everything done
//! within 60 s.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use rand::Rng;

use crate::helpers::*;

const TASKS: i64 = 300;
const WORKERS: usize = 3;

type Hits = Arc<Mutex<HashMap<String, u32>>>;

/// GET /work?i=N: counts the call, then waits 200–600 ms.
async fn start_work_target() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let app = Router::new()
        .route(
            "/work",
            get(
                |State(hits): State<Hits>, Query(query): Query<HashMap<String, String>>| async move {
                    let key = query.get("i").cloned().unwrap_or_default();
                    *hits.lock().expect("lock").entry(key).or_default() += 1;
                    let delay = rand::rng().random_range(200..600);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    "done"
                },
            ),
        )
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), hits)
}

fn spawn_worker(database_url: &str, name: &str) -> Child {
    let quiet = std::env::var("TEST_LOG").is_err();
    Command::new(env!("CARGO_BIN_EXE_worker"))
        .current_dir(std::env::temp_dir())
        .env_remove("SUPABASE_URL")
        .env_remove("SUPABASE_SERVICE_ROLE_KEY")
        .env("DATABASE_URL", database_url)
        .env("WORKER_NAME", name)
        .env("WORKER_CONCURRENCY", "4")
        .env("WORKER_LEASE_SECS", "3")
        .env("WORKER_POLL_INTERVAL_MS", "200")
        .env("WORKER_SHUTDOWN_SECS", "5")
        .env("WORKER_RETRY_BASE_MS", "50")
        .env("WORKER_RETRY_CAP_SECS", "1")
        .env("WORKER_HTTP_ALLOW_PRIVATE", "true")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .stderr(if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .expect("spawn the worker binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_and_dropped_connections_lose_no_task() {
    let app = TestApp::new().await;
    let (target, hits) = start_work_target().await;
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters, max_attempts)
         select $1, 'Chaos ' || n, 'http_request',
                jsonb_build_object('method', 'GET', 'url', $2 || '/work?i=' || n, 'timeoutSecs', 5), 10
           from generate_series(1, $3) n",
    )
    .bind(app.user_id)
    .bind(&target)
    .bind(TASKS)
    .execute(&app.pool)
    .await
    .expect("insert tasks");

    let started = Instant::now();
    let chaos_until = started + Duration::from_secs(12);
    let deadline = started + Duration::from_secs(60);
    let mut generation = 0;
    let mut workers: Vec<Child> = (0..WORKERS)
        .map(|i| spawn_worker(&app.db.url, &format!("chaos-{i}-0")))
        .collect();
    let (mut kills, mut terminated) = (0u32, 0u64);
    loop {
        let done: i64 =
            sqlx::query_scalar("select count(*) from public.tasks where status = 'completed'")
                .fetch_one(&app.pool)
                .await
                .expect("count");
        if done == TASKS {
            break;
        }
        if Instant::now() > deadline {
            let states: Vec<(String, i64)> =
                sqlx::query_as("select status, count(*) from public.tasks group by status")
                    .fetch_all(&app.pool)
                    .await
                    .expect("states");
            for worker in &mut workers {
                let _ = worker.kill();
            }
            panic!("not done within 60 s: {states:?}");
        }
        if Instant::now() < chaos_until {
            let action = rand::rng().random_range(0..3);
            if action == 0 {
                let index = rand::rng().random_range(0..workers.len());
                workers[index].kill().expect("SIGKILL");
                workers[index].wait().expect("reap");
                generation += 1;
                workers[index] = spawn_worker(&app.db.url, &format!("chaos-{index}-{generation}"));
                kills += 1;
            } else if action == 1 {
                let n: i64 = sqlx::query_scalar(
                    "select count(*) from (
                       select pg_terminate_backend(pid) from pg_stat_activity
                        where datname = current_database() and application_name = 'taskdeck-worker'
                        order by random() limit 2) t",
                )
                .fetch_one(&app.pool)
                .await
                .expect("terminate");
                terminated += n as u64;
            }
        }
        // The chaos rhythm (not a wait for a result: the loop polls the database above).
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let elapsed = started.elapsed();

    // The survivors stop gracefully on SIGTERM.
    for worker in &mut workers {
        sigterm(worker);
    }
    let exits = tokio::task::spawn_blocking(move || {
        workers
            .iter_mut()
            .map(|w| w.wait().expect("wait"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    assert!(exits.iter().all(|s| s.success()), "exits: {exits:?}");

    let per_task: Vec<(i64, i64, i64)> = sqlx::query_as(
        "select count(e.id) filter (where e.status = 'completed'),
                count(e.id) filter (where e.status = 'running'),
                count(e.id)
           from public.tasks t left join public.task_executions e on e.task_id = t.id
          group by t.id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("executions");
    assert_eq!(per_task.len() as i64, TASKS);
    assert!(
        per_task.iter().all(|(completed, _, _)| *completed == 1),
        "exactly one completed execution each"
    );
    assert!(
        per_task.iter().all(|(_, running, _)| *running == 0),
        "no execution left running"
    );
    let attempts: i64 = per_task.iter().map(|(_, _, all)| all).sum();
    let stopped: i64 = sqlx::query_scalar(
        "select count(*) from public.workers where status = 'stopped' and id like 'chaos-%'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("workers");
    assert!(stopped >= WORKERS as i64);
    let hits = hits.lock().expect("lock").clone();
    let repeated = hits.values().filter(|n| **n > 1).count();
    assert_eq!(hits.len() as i64, TASKS, "every task made its request");
    eprintln!(
        "chaos: {TASKS} tasks done in {elapsed:?}; {kills} workers SIGKILLed, {terminated} connections terminated; \
         {attempts} executions in all; {repeated} requests repeated after an interrupted attempt (at-least-once)"
    );
}
