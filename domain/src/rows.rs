//! Rows of the `public` tables as PostgREST returns them and the worker reads them.
//!
//! Field names are the SQL column names (snake_case), except `Task::task_type` for the
//! column `type`. Nullable columns are `Option`s marked `#[serde(default)]`, so a select
//! that leaves them out still deserializes; JSON columns that are never NULL default to
//! `{}` for the same reason.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    DomainError, EventType, ExecutionStatus, LogLevel, Metric, ReportFormat, TaskParameters,
    TaskPriority, TaskStatus, TaskType, UserRole,
};

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A row of `tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Primary key.
    pub id: Uuid,
    /// The owner (`profiles.id`).
    pub user_id: Uuid,
    /// 1 to 200 characters.
    pub title: String,
    /// At most 5000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// The column `type`.
    #[serde(rename = "type")]
    pub task_type: TaskType,
    /// Where the task is.
    pub status: TaskStatus,
    /// How soon it should run.
    pub priority: TaskPriority,
    /// The parameters of its type, see [`Task::typed_parameters`].
    #[serde(default = "empty_object")]
    pub parameters: Value,
    /// 0 to 100, written by the worker as the handler advances.
    pub progress: i32,
    /// What the last successful attempt produced.
    #[serde(default)]
    pub result: Option<Value>,
    /// Why the task failed, for people (in English).
    #[serde(default)]
    pub error_message: Option<String>,
    /// `error_message` as a code and values, to be said in the reader's language (see the
    /// worker's `text` module); `None` for rows written before codes existed.
    #[serde(default)]
    pub error_text: Option<Value>,
    /// Do not run before this time.
    #[serde(default)]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When the current or last attempt started.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// When the task reached a terminal status.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// When the row was inserted.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: i32,
    /// Attempts allowed before the task fails.
    pub max_attempts: i32,
    /// A cron expression when the task repeats.
    #[serde(default)]
    pub recurrence: Option<String>,
    /// The error of the last failed attempt (kept while the task is retried).
    #[serde(default)]
    pub last_error: Option<String>,
    /// `last_error` as a code and values.
    #[serde(default)]
    pub last_error_text: Option<Value>,
    /// Worker bookkeeping: not claimed before this time (retry backoff).
    #[serde(default)]
    pub run_after: Option<DateTime<Utc>>,
    /// Worker bookkeeping: the worker holding the lease.
    #[serde(default)]
    pub locked_by: Option<String>,
    /// Worker bookkeeping: when the lease expires.
    #[serde(default)]
    pub locked_until: Option<DateTime<Utc>>,
}

impl Task {
    /// The parameters, parsed for the task's type.
    pub fn typed_parameters(&self) -> Result<TaskParameters, DomainError> {
        TaskParameters::parse(self.task_type, &self.parameters)
    }
}

/// A row of `task_executions`: one attempt at a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskExecution {
    /// Primary key.
    pub id: Uuid,
    /// The task.
    pub task_id: Uuid,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The worker that ran it.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// How the attempt went.
    pub status: ExecutionStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// What it produced.
    #[serde(default)]
    pub result: Option<Value>,
    /// Why it failed (in English).
    #[serde(default)]
    pub error_message: Option<String>,
    /// `error_message` as a code and values.
    #[serde(default)]
    pub error_text: Option<Value>,
}

/// A row of `execution_logs`: one line of an attempt's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionLog {
    /// Primary key (identity), in insertion order.
    pub id: i64,
    /// The attempt.
    pub execution_id: Uuid,
    /// The task (denormalized for row-level security and filtering).
    pub task_id: Uuid,
    /// Severity.
    pub level: LogLevel,
    /// The line (in English).
    pub message: String,
    /// `message` as a code and values.
    #[serde(default)]
    pub message_text: Option<Value>,
    /// Structured details.
    #[serde(default)]
    pub context: Option<Value>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A row of `profiles`: a user of the app (credentials live in Supabase Auth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Primary key, the same as `auth.users.id`.
    pub id: Uuid,
    /// The sign-in address.
    pub email: String,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// What the user may do.
    pub role: UserRole,
    /// A picture URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// UI preferences (theme, …).
    #[serde(default = "empty_object")]
    pub preferences: Value,
    /// `false` when an admin has disabled the account.
    pub is_active: bool,
    /// The last sign-in.
    #[serde(default)]
    pub last_login: Option<DateTime<Utc>>,
    /// When the profile was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A row of `analytics_reports`: a generated report and its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsReport {
    /// Primary key.
    pub id: Uuid,
    /// The task that produced it.
    #[serde(default)]
    pub task_id: Option<Uuid>,
    /// The owner.
    pub user_id: Uuid,
    /// The title.
    pub title: String,
    /// The file format.
    pub format: ReportFormat,
    /// The first day measured.
    pub date_range_start: NaiveDate,
    /// The last day measured (included).
    pub date_range_end: NaiveDate,
    /// What was measured (`text[]`).
    pub metrics: Vec<Metric>,
    /// The object path of the file in Storage.
    #[serde(default)]
    pub storage_path: Option<String>,
    /// The file's size.
    #[serde(default)]
    pub size_bytes: Option<i64>,
    /// The numbers (an [`crate::AnalyticsResult`] as JSON).
    #[serde(default)]
    pub data: Option<Value>,
    /// When it was generated.
    pub created_at: DateTime<Utc>,
}

/// A row of `business_events`: something that happened in the business, which
/// analytics measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessEvent {
    /// Primary key (identity).
    pub id: i64,
    /// The owner.
    pub user_id: Uuid,
    /// What happened.
    pub event_type: EventType,
    /// The amount (`numeric`; PostgREST sends a JSON number, a string is accepted too).
    #[serde(deserialize_with = "number_or_string")]
    pub amount: f64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Anything else.
    #[serde(default = "empty_object")]
    pub metadata: Value,
}

/// A `numeric` column: a JSON number, or a string holding one.
fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(f64),
        String(String),
    }
    match NumberOrString::deserialize(deserializer)? {
        NumberOrString::Number(number) => Ok(number),
        NumberOrString::String(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// A row of `audit_logs`, written by triggers only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLog {
    /// Primary key (identity).
    pub id: i64,
    /// Who did it (`auth.uid()`), `None` for the system.
    #[serde(default)]
    pub actor_id: Option<Uuid>,
    /// Whose record it is (the task's owner, the profile's user); `None` for settings.
    #[serde(default)]
    pub subject_user_id: Option<Uuid>,
    /// `INSERT`, `UPDATE`, `DELETE` or a named action.
    pub action: String,
    /// The table changed.
    pub table_name: String,
    /// The primary key of the changed row, as text.
    #[serde(default)]
    pub record_id: Option<String>,
    /// The row before.
    #[serde(default)]
    pub old_data: Option<Value>,
    /// The row after.
    #[serde(default)]
    pub new_data: Option<Value>,
    /// The caller's address (`inet`, as text).
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The caller's user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// A row of `workers`: the heartbeat of one running worker process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerHeartbeat {
    /// The worker's id (e.g. `hostname-pid-random`).
    pub id: String,
    /// The machine.
    pub hostname: String,
    /// The worker's version.
    pub version: String,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// The last heartbeat; a worker silent for several intervals is presumed dead.
    pub last_heartbeat_at: DateTime<Utc>,
    /// Tasks it is running now.
    pub running_count: i32,
    /// `running`, `stopping`, …
    pub status: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn task_row_from_postgrest() {
        let value = json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "user_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "title": "Q1 report",
            "description": null,
            "type": "analytics_report",
            "status": "pending",
            "priority": "high",
            "parameters": {
                "dateRange": {"start": "2024-01-01", "end": "2024-03-31"},
                "metrics": ["revenue"],
                "format": "csv"
            },
            "progress": 0,
            "result": null,
            "error_message": null,
            "scheduled_at": null,
            "started_at": null,
            "completed_at": null,
            "created_at": "2024-04-01T06:00:00.123456+00:00",
            "updated_at": "2024-04-01T06:00:00.123456+00:00",
            "attempts": 0,
            "max_attempts": 3,
            "recurrence": "0 6 * * 1",
            "last_error": null
        });
        let task: Task = serde_json::from_value(value).expect("deserializes");
        assert_eq!(task.task_type, TaskType::AnalyticsReport);
        assert_eq!(task.priority, TaskPriority::High);
        assert_eq!(task.locked_by, None);
        assert!(matches!(
            task.typed_parameters(),
            Ok(TaskParameters::AnalyticsReport(_))
        ));
        let back = serde_json::to_value(&task).expect("serializes");
        assert_eq!(back["type"], "analytics_report");
        assert!(back.get("task_type").is_none());
        assert_eq!(
            serde_json::from_value::<Task>(back).expect("round-trips"),
            task
        );
    }

    #[test]
    fn partial_task_select_deserializes() {
        let task: Task = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "user_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "title": "Ping",
            "type": "http_request",
            "status": "running",
            "priority": "low",
            "progress": 40,
            "created_at": "2024-04-01T06:00:00Z",
            "updated_at": "2024-04-01T06:00:00Z",
            "attempts": 1,
            "max_attempts": 3
        }))
        .expect("deserializes");
        assert_eq!(task.parameters, json!({}));
        assert_eq!(task.description, None);
    }

    #[test]
    fn other_rows_from_postgrest() {
        let execution: TaskExecution = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "task_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "attempt": 1,
            "status": "completed",
            "started_at": "2024-04-01T06:00:00Z",
            "completed_at": "2024-04-01T06:00:02Z",
            "duration_ms": 2000
        }))
        .expect("execution");
        assert_eq!(execution.status, ExecutionStatus::Completed);

        let log: ExecutionLog = serde_json::from_value(json!({
            "id": 42,
            "execution_id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "task_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "level": "warn",
            "message": "slow response",
            "context": {"ms": 900},
            "created_at": "2024-04-01T06:00:01Z"
        }))
        .expect("log");
        assert_eq!(log.level, LogLevel::Warn);

        let profile: Profile = serde_json::from_value(json!({
            "id": "3f6c1a2e-0000-4000-8000-000000000000",
            "email": "ada@example.com",
            "name": "Ada",
            "role": "business_user",
            "is_active": true,
            "created_at": "2024-04-01T06:00:00Z",
            "updated_at": "2024-04-01T06:00:00Z"
        }))
        .expect("profile");
        assert_eq!(profile.role, UserRole::BusinessUser);
        assert_eq!(profile.preferences, json!({}));

        let report: AnalyticsReport = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "task_id": null,
            "user_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "title": "Q1",
            "format": "xlsx",
            "date_range_start": "2024-01-01",
            "date_range_end": "2024-03-31",
            "metrics": ["revenue", "conversion"],
            "storage_path": "3f6c1a2e-0000-4000-8000-000000000000/q1.xlsx",
            "size_bytes": 1234,
            "created_at": "2024-04-01T06:00:00Z"
        }))
        .expect("report");
        assert_eq!(report.metrics, [Metric::Revenue, Metric::Conversion]);

        let audit: AuditLog = serde_json::from_value(json!({
            "id": 1,
            "actor_id": null,
            "action": "UPDATE",
            "table_name": "profiles",
            "record_id": "3f6c1a2e-0000-4000-8000-000000000000",
            "old_data": {"role": "guest"},
            "new_data": {"role": "admin"},
            "ip_address": "203.0.113.7",
            "created_at": "2024-04-01T06:00:00Z"
        }))
        .expect("audit log");
        assert_eq!(audit.user_agent, None);

        let worker: WorkerHeartbeat = serde_json::from_value(json!({
            "id": "host-1234-ab",
            "hostname": "host",
            "version": "0.1.0",
            "started_at": "2024-04-01T06:00:00Z",
            "last_heartbeat_at": "2024-04-01T06:00:10Z",
            "running_count": 2,
            "status": "running"
        }))
        .expect("worker");
        assert_eq!(worker.running_count, 2);
    }

    #[test]
    fn business_event_amount_is_a_number_or_a_numeric_string() {
        let event = |amount: Value| {
            serde_json::from_value::<BusinessEvent>(json!({
                "id": 7,
                "user_id": "3f6c1a2e-0000-4000-8000-000000000000",
                "event_type": "order",
                "amount": amount,
                "occurred_at": "2024-01-01T10:00:00+00:00",
                "metadata": {"sku": "A1"}
            }))
        };
        assert_eq!(event(json!(19.99)).expect("number").amount, 19.99);
        assert_eq!(event(json!("19.99")).expect("string").amount, 19.99);
        assert!(event(json!("lots")).is_err());
        let order = event(json!(5)).expect("integer");
        assert_eq!(order.event_type, EventType::Order);
        assert_eq!(
            serde_json::to_value(&order).expect("serializes")["amount"],
            5.0
        );
    }
}
