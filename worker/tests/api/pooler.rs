//! The worker behind PgBouncer in transaction mode (`WORKER_TRANSACTION_POOLER=true`), as
//! behind Supabase's transaction pooler: a server connection serves one client for one
//! transaction at a time, and two server connections are shared by the worker's eight
//! client connections. Every task must end as it would on a direct connection (execution
//! rows, logs, progress, the failure's message), the heartbeat must keep the `workers` row
//! fresh, /health must answer, and no prepared-statement error may appear anywhere.
//!
//! Needs PgBouncer (`apt-get install pgbouncer`; the test command installs it). As root,
//! PgBouncer runs as the `postgres` user (it refuses to run as root).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

const TASKS: usize = 40;
/// Server connections PgBouncer may open to the database: fewer than the worker's
/// client connections (concurrency 4 + 4), so they really are shared.
const SERVER_CONNECTIONS: i64 = 2;

/// A process killed (and its directory removed) when dropped, so that a failing test does
/// not leave it running.
struct Spawned {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Spawned {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} log ({}) ---\n{}",
                self.name,
                self.log.display(),
                self.log()
            );
        }
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn pgbouncer_binary() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("pgbouncer"));
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "PgBouncer is not installed (no pgbouncer in PATH, /usr/sbin or /usr/local/sbin): \
         `apt-get install pgbouncer` (the test command installs it)"
    );
}

/// The uid and gid of the `postgres` user, from /etc/passwd.
fn postgres_user() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .expect(
            "running as root, PgBouncer must run as another user, and there is no postgres \
             user (it comes with the PostgreSQL packages)",
        )
}

/// Starts PgBouncer in transaction mode in front of `database` on the test cluster; returns
/// it and its port.
async fn start_pgbouncer(dir: &Path, database_url: &str) -> (Spawned, u16) {
    let binary = pgbouncer_binary();
    let url = url::Url::parse(database_url).expect("database URL");
    let database = url.path().trim_start_matches('/').to_owned();
    let host = url.host_str().expect("host").to_owned();
    let port = url.port().unwrap_or(5432);
    let user = url.username().to_owned();
    let listen_port = free_port();
    // No `ignore_startup_parameters`: in this mode the worker sends no startup parameter
    // PgBouncer refuses (`options`, `extra_float_digits`).
    let config = format!(
        "[databases]\n\
         {database} = host={host} port={port} dbname={database} user={user}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {listen_port}\n\
         unix_socket_dir =\n\
         auth_type = any\n\
         pool_mode = transaction\n\
         default_pool_size = {SERVER_CONNECTIONS}\n\
         min_pool_size = 0\n\
         reserve_pool_size = 0\n\
         max_client_conn = 100\n\
         max_db_connections = {SERVER_CONNECTIONS}\n\
         log_connections = 0\n\
         log_disconnections = 0\n"
    );
    let config_path = dir.join("pgbouncer.ini");
    fs::write(&config_path, config).expect("write pgbouncer.ini");
    fs::set_permissions(&config_path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let log = dir.join("pgbouncer.log");
    let log_file = fs::File::create(&log).expect("create pgbouncer.log");

    let mut command = Command::new(&binary);
    command
        .arg(&config_path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file);
    // PgBouncer refuses to run as root: as root, run it as postgres (set on the process
    // itself, so that killing the child kills PgBouncer).
    let running_as_root = fs::metadata("/proc/self").map(|m| m.uid()).ok() == Some(0);
    if running_as_root {
        let (uid, gid) = postgres_user();
        command.uid(uid).gid(gid);
    }
    let child = command.spawn().unwrap_or_else(|error| {
        panic!("cannot start {}: {error}", binary.display());
    });
    let mut pgbouncer = Spawned {
        child,
        name: "PgBouncer",
        log,
    };

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = pgbouncer.child.try_wait() {
            panic!("PgBouncer exited at start ({status}):\n{}", pgbouncer.log());
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", listen_port))
            .await
            .is_ok()
        {
            return (pgbouncer, listen_port);
        }
        assert!(
            Instant::now() < deadline,
            "PgBouncer did not listen on port {listen_port} within 10 s:\n{}",
            pgbouncer.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// GET /work?i=N: 200 after 20 ms. GET /flaky?i=N: 503 the first time for each N, then
/// 200. GET /gone: 404.
async fn start_target() -> String {
    let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let app = Router::new()
        .route(
            "/work",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                ([("content-type", "application/json")], r#"{"done":true}"#)
            }),
        )
        .route(
            "/flaky",
            get(
                |State(calls): State<Arc<Mutex<HashMap<String, u32>>>>,
                 Query(query): Query<HashMap<String, String>>| async move {
                    let key = query.get("i").cloned().unwrap_or_default();
                    let mut calls = calls.lock().expect("lock");
                    let n = calls.entry(key).or_default();
                    *n += 1;
                    if *n == 1 {
                        (StatusCode::SERVICE_UNAVAILABLE, "try again")
                    } else {
                        (StatusCode::OK, "fine")
                    }
                },
            ),
        )
        .route(
            "/gone",
            get(|| async { (StatusCode::NOT_FOUND, "no such thing") }),
        )
        .with_state(calls);
    serve(app).await
}

fn spawn_worker(dir: &Path, database_url: &str, metrics_port: u16) -> Spawned {
    let log = dir.join("worker.log");
    let log_file = fs::File::create(&log).expect("create worker.log");
    let child = Command::new(env!("CARGO_BIN_EXE_worker"))
        .current_dir(dir)
        .env_remove("SUPABASE_URL")
        .env_remove("SUPABASE_SERVICE_ROLE_KEY")
        .env_remove("WORKER_LISTEN")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("DATABASE_URL", database_url)
        .env("WORKER_TRANSACTION_POOLER", "true")
        .env("WORKER_NAME", "pooled")
        .env("WORKER_CONCURRENCY", "4")
        .env("WORKER_LEASE_SECS", "3")
        .env("WORKER_POLL_INTERVAL_MS", "100")
        .env("WORKER_SHUTDOWN_SECS", "5")
        .env("WORKER_RETRY_BASE_MS", "50")
        .env("WORKER_RETRY_CAP_SECS", "1")
        .env("WORKER_HTTP_ALLOW_PRIVATE", "true")
        .env("WORKER_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env("LOG_FORMAT", "pretty")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("spawn the worker binary");
    Spawned {
        child,
        name: "worker",
        log,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_runs_behind_pgbouncer_in_transaction_mode() {
    let app = TestApp::new().await;
    let dir = std::env::temp_dir().join(format!("taskdeck-pooler-{}", Uuid::new_v4().simple()));
    fs::create_dir_all(&dir).expect("temp dir");
    // PgBouncer may run as postgres: it reads its config from here.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    let _dir = TempDir(dir.clone());
    let (pgbouncer, bouncer_port) = start_pgbouncer(&dir, &app.db.url).await;
    let target = start_target().await;

    let mut ids = Vec::new();
    for i in 0..TASKS {
        let id = app
            .task()
            .title(&format!("Pooled {i}"))
            .kind(
                "http_request",
                json!({ "method": "GET", "url": format!("{target}/work?i={i}"), "timeoutSecs": 5 }),
            )
            .insert()
            .await;
        ids.push(id);
    }
    let flaky = app
        .task()
        .title("Flaky")
        .kind(
            "http_request",
            json!({ "method": "GET", "url": format!("{target}/flaky?i=1"), "timeoutSecs": 5 }),
        )
        .insert()
        .await;
    let gone = app
        .task()
        .title("Gone")
        .kind(
            "http_request",
            json!({ "method": "GET", "url": format!("{target}/gone"), "timeoutSecs": 5 }),
        )
        .insert()
        .await;

    let database = app.db.name.clone();
    let bouncer_url = format!("postgres://postgres@127.0.0.1:{bouncer_port}/{database}");
    let metrics_port = free_port();
    let mut worker = spawn_worker(&dir, &bouncer_url, metrics_port);

    // Everything ends, while the database never sees more than PgBouncer's two server
    // connections of the worker.
    let mut most_server_connections = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = worker.child.try_wait() {
            panic!("the worker exited ({status}):\n{}", worker.log());
        }
        let (finished, servers): (i64, i64) = sqlx::query_as(
            "select (select count(*) from public.tasks where status in ('completed', 'failed')),
                    (select count(*) from pg_stat_activity
                      where datname = current_database() and pid <> pg_backend_pid()
                        and application_name = 'taskdeck-worker')",
        )
        .fetch_one(&app.pool)
        .await
        .expect("progress");
        most_server_connections = most_server_connections.max(servers);
        if finished == TASKS as i64 + 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not done within 60 s: {finished} of {} tasks ended",
            TASKS + 2
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        most_server_connections <= SERVER_CONNECTIONS,
        "the worker reached the database through PgBouncer only ({most_server_connections} server connections)"
    );

    for id in &ids {
        let row = task_row(&app.pool, *id).await;
        assert_eq!(row.status, "completed", "{row:?}");
        assert_eq!(row.progress, 100);
        assert_eq!(row.locked_by, None);
        assert_eq!(
            row.result.as_ref().and_then(|r| r.get("status")),
            Some(&json!(200))
        );
        let executions = executions(&app.pool, *id).await;
        assert_eq!(executions.len(), 1, "{executions:?}");
        assert_eq!(executions[0].status, "completed");
        assert_eq!(executions[0].worker_id.as_deref(), Some("pooled"));
        assert!(executions[0].duration_ms.is_some() && executions[0].completed_at.is_some());
        let logs: Vec<String> = logs(&app.pool, *id)
            .await
            .into_iter()
            .map(|(_, _, message)| message)
            .collect();
        assert_eq!(logs.len(), 3, "{logs:?}");
        assert!(logs[0].starts_with("Sending GET "), "{logs:?}");
        assert!(
            logs[1].starts_with("The server answered 200 OK"),
            "{logs:?}"
        );
        assert!(logs[2].starts_with("Completed in "), "{logs:?}");
    }

    // A retried attempt: its failure, the retry's start, its success.
    let row = task_row(&app.pool, flaky).await;
    assert_eq!(row.status, "completed", "{row:?}");
    let statuses: Vec<String> = executions(&app.pool, flaky)
        .await
        .into_iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, ["failed", "completed"]);
    let messages: Vec<String> = logs(&app.pool, flaky)
        .await
        .into_iter()
        .map(|(_, _, m)| m)
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m
                .starts_with("Attempt 1 of 3 failed: The server answered 503 Service Unavailable")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Attempt 2 of 3 started on worker pooled")),
        "{messages:?}"
    );

    // The permanent failure, with its message.
    let row = task_row(&app.pool, gone).await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert_eq!(
        row.error_message.as_deref(),
        Some("The server answered 404 Not Found")
    );
    let executions = executions(&app.pool, gone).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].status, "failed");
    assert_eq!(
        executions[0].error_message.as_deref(),
        Some("The server answered 404 Not Found")
    );
    let messages: Vec<String> = logs(&app.pool, gone)
        .await
        .into_iter()
        .map(|(_, _, m)| m)
        .collect();
    assert_eq!(
        messages.last().map(String::as_str),
        Some("Failed: The server answered 404 Not Found"),
        "{messages:?}"
    );

    // The heartbeat (every second with a 3 s lease) keeps the workers row fresh.
    wait_until(Duration::from_secs(10), "a heartbeat", || async {
        let beats: bool = sqlx::query_scalar(
            "select last_heartbeat_at > started_at + interval '500 milliseconds'
                    and last_heartbeat_at > now() - interval '5 seconds'
               from public.workers where id = 'pooled' and status = 'running'",
        )
        .fetch_optional(&app.pool)
        .await
        .expect("workers row")
        .unwrap_or(false);
        beats.then_some(())
    })
    .await;

    // /health reaches the database through the pooler too.
    let health: Value = reqwest::get(format!("http://127.0.0.1:{metrics_port}/health"))
        .await
        .expect("GET /health")
        .json()
        .await
        .expect("health json");
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"], "ok", "{health}");

    // A graceful stop, recorded through the pooler.
    sigterm(&worker.child);
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = worker.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not stop within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "worker exit: {status}\n{}", worker.log());
    let stopped: String =
        sqlx::query_scalar("select status from public.workers where id = 'pooled'")
            .fetch_one(&app.pool)
            .await
            .expect("workers row");
    assert_eq!(stopped, "stopped");

    let worker_log = worker.log();
    if std::env::var("TEST_LOG").is_ok() {
        eprintln!(
            "--- worker log ---\n{worker_log}\n--- PgBouncer log ---\n{}",
            pgbouncer.log()
        );
    }
    assert!(
        worker_log.contains("transaction_pooler=true") && worker_log.contains("listen=false"),
        "the worker said it runs in transaction-pooler mode, polling:\n{worker_log}"
    );
    for (name, log) in [
        ("worker", worker_log.as_str()),
        ("PgBouncer", &pgbouncer.log()),
    ] {
        assert!(
            !log.contains("prepared statement"),
            "{name}'s log mentions prepared statements:\n{log}"
        );
        assert!(
            !log.contains("unsupported startup parameter"),
            "{name}'s log: a startup parameter was refused:\n{log}"
        );
    }
    for warning in ["WARN", "ERROR"] {
        let lines: Vec<&str> = worker_log
            .lines()
            .filter(|line| line.contains(warning))
            .filter(|line| {
                !line.contains("attempt failed; task requeued")
                    && !line.contains("task failed")
                    && !line.contains("Attempt 1 of 3 failed")
                    && !line.contains("Failed: The server answered 404")
            })
            .collect();
        assert!(
            lines.is_empty(),
            "unexpected {warning} lines in the worker's log:\n{}",
            lines.join("\n")
        );
    }
}
