//! Taskdeck's shared types, used by the Yew SPA (wasm32) and the worker (native).
//!
//! - [`enums`]: the string enums stored in SQL `text` columns (task type, status,
//!   priority, …), with `Display`/`FromStr` spelling exactly the SQL values.
//! - [`task`]: task titles, descriptions, recurrence, and [`NewTask`] to insert one.
//! - [`params`]: the typed parameters of each task type, parsed with messages that name
//!   the field at fault.
//! - [`metrics`]: the result of the SQL function `analytics_metrics` and its trend
//!   arithmetic.
//! - [`validation`]: e-mail, password strength, display name.
//! - [`rows`]: the table rows as PostgREST returns them.
//! - [`template`]: `{name}` placeholders in the product's messages.
//!
//! Every rule fails with a [`DomainError`] whose `Display` is meant for the user, e.g.
//! `dateRange.start must be a date (YYYY-MM-DD)`; the database's checks raise the same
//! messages. No I/O here: only serde, serde_json, uuid, chrono and thiserror (plus
//! `sqlx::Type` derives behind the `sqlx` feature).

#![warn(missing_docs, unreachable_pub)]

pub mod db_errors;
pub mod enums;
pub mod error;
mod json;
mod lang;
pub mod metrics;
pub mod params;
pub mod rows;
pub mod task;
pub mod template;
pub mod validation;

pub use enums::{
    EventType, ExecutionStatus, ExportDataset, ExportFormat, HttpMethod, LogLevel, Metric,
    ReportFormat, TaskPriority, TaskStatus, TaskType, UserRole,
};
pub use error::{DomainError, Rule};
pub use lang::Lang;
pub use metrics::{
    compare, rate_percent, summarize, AnalyticsResult, DataPoint, MetricSeries, Trend,
};
pub use params::{
    AnalyticsReportParams, CleanupParams, DataExportParams, DataImportParams, DateRange,
    HttpRequestParams, RequestBody, TaskParameters,
};
pub use rows::{
    AnalyticsReport, AuditLog, BusinessEvent, ExecutionLog, Profile, Task, TaskExecution,
    WorkerHeartbeat,
};
pub use task::{NewTask, Recurrence, TaskDescription, TaskTitle};
pub use validation::{DisplayName, Email, Password};
