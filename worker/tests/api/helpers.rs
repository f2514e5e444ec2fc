//! Test support: a fresh database with two users, task fixtures, test handlers, a
//! Storage double and an HTTP target on 127.0.0.1, and a deadline-bound wait helper.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use testkit::{fresh_database, Template, TestDb};
use tokio::sync::Notify;
use uuid::Uuid;
use worker::config::Backoff;
use worker::handlers::{HandlerContext, HandlerRegistry, TaskHandler};
use worker::storage::StorageClient;
use worker::text::Text;
use worker::{Deps, Outcome, TaskError};

pub const SERVICE_KEY: &str = "test-service-key";

/// A fresh database with an ordinary user and an admin.
pub struct TestApp {
    pub db: TestDb,
    pub pool: PgPool,
    pub user_id: Uuid,
    pub admin_id: Uuid,
}

pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        // No OTLP endpoint in tests: the guard holds nothing.
        drop(worker::telemetry::init(worker::config::LogFormat::Pretty));
    }
}

impl TestApp {
    pub async fn new() -> Self {
        let db = fresh_database(Template::Empty)
            .await
            .expect("fresh database");
        Self::on(db).await
    }

    /// The same on a database made elsewhere (e.g. on a cluster of the test's own).
    pub async fn on(db: TestDb) -> Self {
        init_logs();
        let pool = db.pool.clone();
        let user_id = create_user(&pool, "user@example.test", "business_user").await;
        let admin_id = create_user(&pool, "admin@example.test", "admin").await;
        Self {
            db,
            pool,
            user_id,
            admin_id,
        }
    }

    /// Deps on this database: a unique worker name, instant retries, no Storage, and
    /// http_request allowed to call 127.0.0.1 (where the test targets listen).
    pub fn deps(&self) -> Deps {
        Deps::new(
            self.pool.clone(),
            format!("test-{}", Uuid::new_v4().simple()),
        )
        .with_backoff(Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        })
        .with_private_addresses(true)
    }

    /// Deps with these handlers.
    pub fn deps_with(&self, handlers: HandlerRegistry) -> Deps {
        self.deps().with_handlers(handlers)
    }

    /// A new pool on this database (for daemons that need their own connections).
    pub async fn new_pool(&self, max: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max)
            .connect(&self.db.url)
            .await
            .expect("pool")
    }

    pub fn task(&self) -> TaskBuilder<'_> {
        TaskBuilder {
            pool: &self.pool,
            user_id: self.user_id,
            task_type: "cleanup".into(),
            parameters: json!({}),
            priority: "medium".into(),
            scheduled_at_offset_secs: None,
            max_attempts: 3,
            recurrence: None,
            title: "A test task".into(),
        }
    }
}

pub async fn create_user(pool: &PgPool, email: &str, role: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
         values ($1, 'authenticated', 'authenticated', $2, jsonb_build_object('role', $3::text), '{}', now(), now())",
    )
    .bind(id)
    .bind(email)
    .bind(role)
    .execute(pool)
    .await
    .expect("insert user");
    id
}

pub struct TaskBuilder<'a> {
    pool: &'a PgPool,
    user_id: Uuid,
    task_type: String,
    parameters: Value,
    priority: String,
    scheduled_at_offset_secs: Option<f64>,
    max_attempts: i32,
    recurrence: Option<String>,
    title: String,
}

impl TaskBuilder<'_> {
    pub fn kind(mut self, task_type: &str, parameters: Value) -> Self {
        self.task_type = task_type.into();
        self.parameters = parameters;
        self
    }
    pub fn owner(mut self, user_id: Uuid) -> Self {
        self.user_id = user_id;
        self
    }
    pub fn priority(mut self, priority: &str) -> Self {
        self.priority = priority.into();
        self
    }
    pub fn scheduled_in(mut self, secs: f64) -> Self {
        self.scheduled_at_offset_secs = Some(secs);
        self
    }
    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n;
        self
    }
    pub fn recurrence(mut self, cron: &str) -> Self {
        self.recurrence = Some(cron.into());
        self
    }
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }
    pub async fn insert(self) -> Uuid {
        sqlx::query_scalar(
            "insert into public.tasks (user_id, title, type, parameters, priority, scheduled_at, max_attempts, recurrence)
             values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7, $8)
             returning id",
        )
        .bind(self.user_id)
        .bind(&self.title)
        .bind(&self.task_type)
        .bind(&self.parameters)
        .bind(&self.priority)
        .bind(self.scheduled_at_offset_secs)
        .bind(self.max_attempts)
        .bind(&self.recurrence)
        .fetch_one(self.pool)
        .await
        .expect("insert task")
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub status: String,
    pub attempts: i32,
    pub progress: i32,
    pub result: Option<Value>,
    pub error_message: Option<String>,
    pub last_error: Option<String>,
    pub locked_by: Option<String>,
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds from now to run_after.
    pub run_after_in_secs: f64,
}

pub async fn task_row(pool: &PgPool, id: Uuid) -> TaskRow {
    sqlx::query_as(
        "select status, attempts, progress, result, error_message, last_error, locked_by, locked_until,
                started_at, completed_at,
                extract(epoch from run_after - now())::float8 as run_after_in_secs
           from public.tasks where id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("task row")
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExecutionRow {
    pub attempt: i32,
    pub worker_id: Option<String>,
    pub status: String,
    pub duration_ms: Option<i64>,
    pub result: Option<Value>,
    pub error_message: Option<String>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn executions(pool: &PgPool, task_id: Uuid) -> Vec<ExecutionRow> {
    sqlx::query_as(
        "select attempt, worker_id, status, duration_ms, result, error_message, completed_at
           from public.task_executions where task_id = $1 order by attempt",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await
    .expect("executions")
}

/// (execution attempt, level, message) of every log line of a task, in order.
pub async fn logs(pool: &PgPool, task_id: Uuid) -> Vec<(i32, String, String)> {
    sqlx::query_as(
        "select e.attempt, l.level, l.message
           from public.execution_logs l join public.task_executions e on e.id = l.execution_id
          where l.task_id = $1 order by l.id",
    )
    .bind(task_id)
    .fetch_all(pool)
    .await
    .expect("logs")
}

/// Runs `try_execute_one` until the queue is empty; returns the tasks run, in order.
pub async fn drain(deps: &Deps) -> Vec<Uuid> {
    let mut ran = Vec::new();
    for _ in 0..1000 {
        match worker::try_execute_one(deps).await.expect("execute") {
            Outcome::Ran(id) => ran.push(id),
            Outcome::Empty => return ran,
        }
    }
    panic!("the queue did not drain");
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `timeout`.
pub async fn wait_until<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the task has `status`.
pub async fn wait_for_status(pool: &PgPool, id: Uuid, status: &str, timeout: Duration) -> TaskRow {
    wait_until(timeout, &format!("task {id} to be {status}"), || async {
        let row = task_row(pool, id).await;
        (row.status == status).then_some(row)
    })
    .await
}

/// Makes a task due now (skips its backoff).
pub async fn make_due(pool: &PgPool, id: Uuid) {
    sqlx::query("update public.tasks set run_after = now() where id = $1")
        .bind(id)
        .execute(pool)
        .await
        .expect("make due");
}

/// Cancels a task the way the SPA does: `cancel_task` as its owner (PostgREST settings).
pub async fn cancel_as_owner(pool: &PgPool, task_id: Uuid, owner: Uuid) {
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("select set_config('request.jwt.claims', $1, true)")
        .bind(json!({ "sub": owner, "role": "authenticated" }).to_string())
        .execute(&mut *tx)
        .await
        .expect("claims");
    sqlx::query("set local role authenticated")
        .execute(&mut *tx)
        .await
        .expect("role");
    sqlx::query("select public.cancel_task($1)")
        .bind(task_id)
        .execute(&mut *tx)
        .await
        .expect("cancel_task");
    tx.commit().await.expect("commit");
}

// ---------------------------------------------------------------------------------------
// Test handlers
// ---------------------------------------------------------------------------------------

/// Completes at once with `{"ok": true}` and counts its runs per task.
#[derive(Clone, Default)]
pub struct Succeed {
    pub runs: Arc<Mutex<Vec<Uuid>>>,
    pub delay: Duration,
}

#[async_trait]
impl TaskHandler for Succeed {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        self.runs.lock().expect("lock").push(ctx.task.id);
        ctx.progress.set(50).await;
        ctx.log
            .info(Text::detail("halfway"), Some(json!({ "step": 1 })))
            .await;
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(json!({ "ok": true }))
    }
}

/// Fails every time with this error.
#[derive(Clone)]
pub struct Fail {
    pub retryable: bool,
    pub message: &'static str,
    pub runs: Arc<AtomicUsize>,
}

impl Fail {
    pub fn retryable(message: &'static str) -> Self {
        Self {
            retryable: true,
            message,
            runs: Arc::default(),
        }
    }
    pub fn permanent(message: &'static str) -> Self {
        Self {
            retryable: false,
            message,
            runs: Arc::default(),
        }
    }
}

#[async_trait]
impl TaskHandler for Fail {
    async fn run(&self, _ctx: HandlerContext) -> Result<Value, TaskError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if self.retryable {
            Err(TaskError::retryable(Text::detail(self.message)))
        } else {
            Err(TaskError::permanent(Text::detail(self.message)))
        }
    }
}

/// Waits for its cancellation token (up to a minute), then records that it saw it.
#[derive(Clone, Default)]
pub struct WaitForCancel {
    pub started: Arc<Notify>,
    pub saw_cancel: Arc<AtomicBool>,
}

#[async_trait]
impl TaskHandler for WaitForCancel {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        self.started.notify_one();
        tokio::select! {
            () = ctx.cancel.cancelled() => {
                self.saw_cancel.store(true, Ordering::SeqCst);
                Err(TaskError::Cancelled)
            }
            () = tokio::time::sleep(Duration::from_secs(60)) => Ok(json!({ "waited": true })),
        }
    }
}

/// Cancels its own task in the database (as its owner would, between heartbeats), then
/// returns success: the worker must not overwrite the cancellation.
#[derive(Clone)]
pub struct CancelledMeanwhile;

#[async_trait]
impl TaskHandler for CancelledMeanwhile {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        cancel_as_owner(ctx.db.pool(), ctx.task.id, ctx.task.user_id).await;
        Ok(json!({ "done": true }))
    }
}

// ---------------------------------------------------------------------------------------
// A Storage double: the two endpoints the worker uses, recording uploads.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub upsert: bool,
}

#[derive(Clone, Default)]
pub struct StorageDouble {
    pub objects: Arc<Mutex<HashMap<String, StoredObject>>>,
    pub unavailable: Arc<AtomicBool>,
}

impl StorageDouble {
    /// Starts it on 127.0.0.1:0; returns it and its base URL.
    pub async fn start() -> (Self, String) {
        let double = Self::default();
        let app = Router::new()
            .route(
                "/storage/v1/object/authenticated/{bucket}/{*path}",
                get(download),
            )
            .route("/storage/v1/object/{bucket}/{*path}", post(upload))
            .with_state(double.clone());
        let url = serve(app).await;
        (double, url)
    }

    pub fn client(url: &str) -> StorageClient {
        StorageClient::new(url, SERVICE_KEY, reqwest::Client::new()).expect("storage url")
    }

    pub fn put(&self, key: &str, bytes: &[u8]) {
        self.objects.lock().expect("lock").insert(
            key.to_owned(),
            StoredObject {
                bytes: bytes.to_vec(),
                content_type: "text/csv".into(),
                upsert: false,
            },
        );
    }

    pub fn get(&self, key: &str) -> Option<StoredObject> {
        self.objects.lock().expect("lock").get(key).cloned()
    }

    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.objects.lock().expect("lock").keys().cloned().collect();
        keys.sort();
        keys
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    let apikey = headers.get("apikey").and_then(|v| v.to_str().ok());
    bearer == Some(&format!("Bearer {SERVICE_KEY}")) && apikey == Some(SERVICE_KEY)
}

fn storage_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "statusCode": status.as_u16().to_string(), "error": "Error", "message": message })),
    )
        .into_response()
}

async fn upload(
    State(double): State<StorageDouble>,
    Path((bucket, path)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if double.unavailable.load(Ordering::SeqCst) {
        return storage_error(StatusCode::SERVICE_UNAVAILABLE, "try later");
    }
    if !authorized(&headers) {
        return storage_error(StatusCode::FORBIDDEN, "invalid signature");
    }
    let key = format!("{bucket}/{path}");
    let object = StoredObject {
        bytes: body.to_vec(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        upsert: headers.get("x-upsert").and_then(|v| v.to_str().ok()) == Some("true"),
    };
    double
        .objects
        .lock()
        .expect("lock")
        .insert(key.clone(), object);
    (
        StatusCode::OK,
        Json(json!({ "Id": Uuid::new_v4(), "Key": key })),
    )
        .into_response()
}

async fn download(
    State(double): State<StorageDouble>,
    Path((bucket, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return storage_error(StatusCode::FORBIDDEN, "invalid signature");
    }
    match double.get(&format!("{bucket}/{path}")) {
        Some(object) => (StatusCode::OK, object.bytes).into_response(),
        None => storage_error(StatusCode::BAD_REQUEST, "Object not found"),
    }
}

// ---------------------------------------------------------------------------------------
// An HTTP target for http_request tasks.
// ---------------------------------------------------------------------------------------

/// Starts the target; returns its base URL.
pub async fn start_http_target() -> String {
    let app = Router::new()
        .route(
            "/ok",
            get(|| async {
                (
                    [
                        ("x-request-id", "abc"),
                        ("server", "test-target"),
                        ("content-type", "application/json"),
                    ],
                    r#"{"hello":"world"}"#,
                )
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                (
                    StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
                    format!("status {code}"),
                )
            }),
        )
        .route("/big", get(|| async { "x".repeat(5000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: String| async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let custom = headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                format!("{content_type}|{custom}|{body}")
            }),
        );
    serve(app).await
}

/// A URL whose port refuses connections.
pub async fn refused_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/nothing")
}

/// Serves `app` on 127.0.0.1 at a free port; returns `http://127.0.0.1:PORT`.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    testkit::free_port().expect("a free port")
}

/// Sends SIGTERM to a child process (what a service manager does to stop it).
pub fn sigterm(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
}
