//! Task types: one [`TaskHandler`] per type, registered by name in a [`HandlerRegistry`].
//!
//! A handler gets a [`HandlerContext`] — the task, its parsed parameters, a progress
//! reporter, a logger writing `execution_logs`, a cancellation token, the database pool
//! and the Storage client — and returns the task's result (stored in `tasks.result` and
//! `task_executions.result`) or a [`TaskError`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use crate::db::Db;
use async_trait::async_trait;
use domain::{LogLevel, TaskParameters, TaskType};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::TaskError;
use crate::queue::ClaimedTask;
use crate::storage::StorageClient;
pub use crate::text::{human_bytes, human_duration};
use crate::text::{Labels, Run, Text};

pub mod analytics_report;
pub mod cleanup;
pub mod data_export;
pub mod data_import;
pub mod http_request;

/// Runs tasks of one type.
#[async_trait]
pub trait TaskHandler: Send + Sync {
    /// Runs one attempt. Long handlers check `ctx.cancel` and return
    /// [`TaskError::Cancelled`] when it is tripped; a handler that does not is dropped
    /// after a grace period.
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError>;
}

/// The handlers of a worker, by task type (`domain::TaskType`: a type that does not exist
/// does not compile).
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: HashMap<TaskType, Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.handlers.keys().map(|t| t.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("HandlerRegistry")
            .field("types", &names)
            .finish()
    }
}

impl HandlerRegistry {
    /// No handlers.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The five task types of Taskdeck.
    pub fn standard() -> Self {
        Self::empty()
            .with(
                TaskType::AnalyticsReport,
                analytics_report::AnalyticsReportHandler,
            )
            .with(TaskType::DataExport, data_export::DataExportHandler)
            .with(TaskType::DataImport, data_import::DataImportHandler)
            .with(TaskType::HttpRequest, http_request::HttpRequestHandler)
            .with(TaskType::Cleanup, cleanup::CleanupHandler)
    }

    /// Adds (or replaces) the handler of `task_type`.
    pub fn with(mut self, task_type: TaskType, handler: impl TaskHandler + 'static) -> Self {
        self.register(task_type, handler);
        self
    }

    /// Adds (or replaces) the handler of `task_type`.
    pub fn register(&mut self, task_type: TaskType, handler: impl TaskHandler + 'static) {
        self.handlers.insert(task_type, Arc::new(handler));
    }

    /// The handler of `task_type`.
    pub fn get(&self, task_type: TaskType) -> Option<Arc<dyn TaskHandler>> {
        self.handlers.get(&task_type).cloned()
    }
}

/// What a handler gets for one attempt.
#[derive(Clone)]
pub struct HandlerContext {
    /// The claimed task.
    pub task: ClaimedTask,
    /// Its parameters, parsed by `domain`.
    pub params: TaskParameters,
    /// Writes `tasks.progress`.
    pub progress: Progress,
    /// Writes `execution_logs`.
    pub log: TaskLogger,
    /// Tripped when the task is cancelled, the worker shuts down or the lease is lost.
    pub cancel: CancellationToken,
    /// The worker's database (a privileged role: filter by `task.user_id` yourself). Run
    /// queries on `&ctx.db` or in `ctx.db.begin()`: behind a transaction pooler they go
    /// unnamed, each in a transaction (see [`crate::db`]).
    pub db: Db,
    /// Storage, when SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set.
    pub storage: Option<StorageClient>,
    /// An HTTP client for outgoing requests (refuses private addresses unless allowed).
    pub http: reqwest::Client,
    /// Whether private and local addresses may be called.
    pub allow_private_addresses: bool,
}

impl HandlerContext {
    /// The Storage client, or a permanent error saying how to configure it.
    pub fn storage(&self) -> Result<&StorageClient, TaskError> {
        self.storage
            .as_ref()
            .ok_or_else(|| TaskError::permanent(Run::NoStorage))
    }

    /// `Err(TaskError::Cancelled)` once the token is tripped.
    pub fn check_cancelled(&self) -> Result<(), TaskError> {
        if self.cancel.is_cancelled() {
            Err(TaskError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// An error for a handler given another type's parameters (a registry mistake).
pub(crate) fn wrong_parameters(expected: &str) -> TaskError {
    TaskError::permanent(Text::new(Run::WrongParameters).labels(
        "type",
        Labels::TaskType,
        &[expected],
    ))
}

/// Reports progress (0–100) of one attempt to `tasks.progress`.
#[derive(Clone)]
pub struct Progress {
    db: Db,
    task_id: Uuid,
    worker_id: Arc<str>,
    last: Arc<AtomicI32>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("task_id", &self.task_id)
            .field("last", &self.last.load(Ordering::Relaxed))
            .finish()
    }
}

impl Progress {
    pub(crate) fn new(db: Db, task_id: Uuid, worker_id: Arc<str>) -> Self {
        Self {
            db,
            task_id,
            worker_id,
            last: Arc::new(AtomicI32::new(0)),
        }
    }

    /// Sets the progress (clamped to 0–100). Unchanged values are not written; a failed
    /// write is logged and otherwise ignored (progress is informative).
    pub async fn set(&self, percent: i32) {
        let percent = percent.clamp(0, 100);
        if self.last.swap(percent, Ordering::Relaxed) == percent {
            return;
        }
        let result = sqlx::query_file!(
            "queries/set_progress.sql",
            self.task_id,
            percent,
            &*self.worker_id
        )
        .execute(&self.db)
        .await;
        if let Err(error) = result {
            tracing::warn!(task_id = %self.task_id, error = %error, "could not write progress");
        }
    }

    /// The last value set.
    pub fn get(&self) -> i32 {
        self.last.load(Ordering::Relaxed)
    }
}

/// Writes the steps of one attempt to `execution_logs` (and to the worker's own log).
#[derive(Clone)]
pub struct TaskLogger {
    db: Db,
    task_id: Uuid,
    execution_id: Uuid,
}

impl std::fmt::Debug for TaskLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskLogger")
            .field("task_id", &self.task_id)
            .field("execution_id", &self.execution_id)
            .finish()
    }
}

impl TaskLogger {
    pub(crate) fn new(db: Db, task_id: Uuid, execution_id: Uuid) -> Self {
        Self {
            db,
            task_id,
            execution_id,
        }
    }

    /// The execution these lines belong to.
    pub fn execution_id(&self) -> Uuid {
        self.execution_id
    }

    /// Writes one line. A failed write is logged and otherwise ignored.
    pub async fn log(&self, level: LogLevel, text: impl Into<Text>, context: Option<Value>) {
        let text = text.into();
        let message = text.english();
        match level {
            LogLevel::Debug => tracing::debug!(task_id = %self.task_id, "{message}"),
            LogLevel::Info => tracing::info!(task_id = %self.task_id, "{message}"),
            LogLevel::Warn => tracing::warn!(task_id = %self.task_id, "{message}"),
            LogLevel::Error => tracing::error!(task_id = %self.task_id, "{message}"),
        }
        let result = insert_log(
            &self.db,
            self.execution_id,
            self.task_id,
            level,
            &text,
            context,
        )
        .await;
        if let Err(error) = result {
            tracing::warn!(task_id = %self.task_id, error = %error, "could not write an execution log line");
        }
    }

    /// An `info` line.
    pub async fn info(&self, text: impl Into<Text>, context: Option<Value>) {
        self.log(LogLevel::Info, text, context).await;
    }

    /// A `warn` line.
    pub async fn warn(&self, text: impl Into<Text>, context: Option<Value>) {
        self.log(LogLevel::Warn, text, context).await;
    }

    /// An `error` line.
    pub async fn error(&self, text: impl Into<Text>, context: Option<Value>) {
        self.log(LogLevel::Error, text, context).await;
    }

    /// A `debug` line.
    pub async fn debug(&self, text: impl Into<Text>, context: Option<Value>) {
        self.log(LogLevel::Debug, text, context).await;
    }
}

/// Inserts one `execution_logs` row.
pub(crate) async fn insert_log(
    executor: impl sqlx::PgExecutor<'_>,
    execution_id: Uuid,
    task_id: Uuid,
    level: LogLevel,
    text: &Text,
    context: Option<Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query_file!(
        "queries/insert_log.sql",
        execution_id,
        task_id,
        level.as_str(),
        text.english(),
        text.to_json(),
        context
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Neutralizes spreadsheet formulas in a text cell of a CSV file written for people:
/// a value starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`
/// (OWASP's advice against CSV injection). Numbers are not passed through here.
pub fn csv_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_safe_defuses_formulas() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("Monthly report"), "Monthly report");
        assert_eq!(csv_safe(""), "");
    }

    #[test]
    fn the_standard_registry_has_every_task_type() {
        let registry = HandlerRegistry::standard();
        for task_type in domain::TaskType::ALL {
            assert!(registry.get(*task_type).is_some(), "{task_type}");
        }
        assert!(HandlerRegistry::empty().get(TaskType::Cleanup).is_none());
    }
}
