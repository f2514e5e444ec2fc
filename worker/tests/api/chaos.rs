//! Chaos: several `worker` processes on one database while the test SIGKILLs random ones
//! (starting replacements), terminates random worker connections with
//! `pg_terminate_backend`, and restarts PostgreSQL once (a cluster of the test's own, so the
//! other tests' server stays up). Every task must end completed, with exactly one completed
//! execution and no execution left running. Bounded: chaos for 12 s, everything done
//! within 90 s.

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

/// A PostgreSQL cluster of this test's own (`scripts/test-cluster`), stopped and removed on
/// drop, that the test may restart.
struct OwnCluster {
    dir: std::path::PathBuf,
    url: String,
}

fn test_cluster(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/test-cluster");
    let output = Command::new("bash")
        .arg(script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/test-cluster runs");
    assert!(
        output.status.success(),
        "scripts/test-cluster {args:?} failed ({})",
        output.status
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

impl OwnCluster {
    fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("chaos-pg-{}", uuid::Uuid::new_v4().simple()));
        let dir_arg = dir.display().to_string();
        let url = test_cluster(&["start", &dir_arg, &port.to_string()]);
        assert!(
            url.starts_with("postgres://"),
            "test-cluster printed {url:?}"
        );
        OwnCluster { dir, url }
    }

    fn restart(&self) {
        test_cluster(&["restart", &self.dir.display().to_string()]);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scripts/test-cluster"
            ))
            .args(["stop", &self.dir.display().to_string()])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    (serve(app).await, hits)
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
async fn killed_workers_dropped_connections_and_a_database_restart_lose_no_task() {
    let cluster = tokio::task::spawn_blocking(OwnCluster::start)
        .await
        .expect("cluster");
    let db = testkit::fresh_database_on(&cluster.url, testkit::Template::Empty)
        .await
        .expect("a database on the test's own cluster");
    let app = TestApp::on(db).await;
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

    let server_started: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select pg_postmaster_start_time()")
            .fetch_one(&app.pool)
            .await
            .expect("server start time");
    let started = Instant::now();
    let chaos_until = started + Duration::from_secs(12);
    let restart_at = started + Duration::from_secs(5);
    let mut restarted = false;
    let deadline = started + Duration::from_secs(90);
    let mut generation = 0;
    let mut workers: Vec<Child> = (0..WORKERS)
        .map(|i| spawn_worker(&app.db.url, &format!("chaos-{i}-0")))
        .collect();
    let (mut kills, mut terminated) = (0u32, 0u64);
    loop {
        // Right after the restart the pool's old connections fail once each: try again.
        let done: Option<i64> =
            sqlx::query_scalar("select count(*) from public.tasks where status = 'completed'")
                .fetch_one(&app.pool)
                .await
                .ok();
        if done == Some(TASKS) {
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
            panic!("not done within 90 s: {states:?}");
        }
        if !restarted && Instant::now() >= restart_at {
            // Fast shutdown: every connection is cut, running transactions roll back.
            let cluster = &cluster;
            tokio::task::block_in_place(|| cluster.restart());
            restarted = true;
        } else if Instant::now() < chaos_until {
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
                .unwrap_or(0);
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
    assert!(restarted, "PostgreSQL was restarted during the run");
    let server_restarted: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select pg_postmaster_start_time()")
            .fetch_one(&app.pool)
            .await
            .expect("server start time");
    assert!(server_restarted > server_started, "the server is a new one");
    eprintln!(
        "chaos: {TASKS} tasks done in {elapsed:?}; {kills} workers SIGKILLed, {terminated} connections terminated, PostgreSQL restarted once; \
         {attempts} executions in all; {repeated} requests repeated after an interrupted attempt (at-least-once)"
    );
}
