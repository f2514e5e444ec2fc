//! `data_export`: the owner's tasks or business events (optionally within a date range)
//! as CSV or JSON, uploaded to the `reports` bucket at `<user_id>/exports/<task_id>.<ext>`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ExportDataset, ExportFormat, TaskParameters};
use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{csv_safe, human_bytes, wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;

/// The bucket exports go to.
pub const BUCKET: &str = "reports";
/// The most rows one export writes.
pub const MAX_ROWS: usize = 1_000_000;

/// Runs `data_export` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataExportHandler;

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    title: String,
    #[sqlx(rename = "type")]
    task_type: String,
    status: String,
    priority: String,
    progress: i32,
    attempts: i32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    error_message: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    event_type: String,
    amount: String,
    occurred_at: DateTime<Utc>,
    metadata: Value,
}

const TASK_COLUMNS: &[&str] = &[
    "id",
    "title",
    "type",
    "status",
    "priority",
    "progress",
    "attempts",
    "created_at",
    "started_at",
    "completed_at",
    "error_message",
];
const EVENT_COLUMNS: &[&str] = &["id", "event_type", "amount", "occurred_at", "metadata"];

fn time(value: Option<DateTime<Utc>>) -> String {
    value
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl TaskRow {
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            csv_safe(&self.title).into_owned(),
            self.task_type.clone(),
            self.status.clone(),
            self.priority.clone(),
            self.progress.to_string(),
            self.attempts.to_string(),
            time(Some(self.created_at)),
            time(self.started_at),
            time(self.completed_at),
            csv_safe(self.error_message.as_deref().unwrap_or_default()).into_owned(),
        ]
    }

    fn json(&self) -> Value {
        json!({
            "id": self.id, "title": self.title, "type": self.task_type, "status": self.status,
            "priority": self.priority, "progress": self.progress, "attempts": self.attempts,
            "createdAt": self.created_at, "startedAt": self.started_at,
            "completedAt": self.completed_at, "errorMessage": self.error_message,
        })
    }
}

impl EventRow {
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.event_type.clone(),
            self.amount.clone(),
            time(Some(self.occurred_at)),
            csv_safe(&self.metadata.to_string()).into_owned(),
        ]
    }

    fn json(&self) -> Value {
        let amount = self
            .amount
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(self.amount.clone()));
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("eventType".into(), json!(self.event_type));
        map.insert("amount".into(), amount);
        map.insert("occurredAt".into(), json!(self.occurred_at));
        map.insert("metadata".into(), self.metadata.clone());
        Value::Object(map)
    }
}

/// Accumulates rows in the chosen format.
struct Output {
    format: ExportFormat,
    csv: Option<::csv::Writer<Vec<u8>>>,
    json: Vec<Value>,
    rows: usize,
}

impl Output {
    fn new(format: ExportFormat, header: &[&str]) -> Result<Self, TaskError> {
        let csv = match format {
            ExportFormat::Csv => {
                let mut writer = ::csv::Writer::from_writer(Vec::new());
                writer.write_record(header).map_err(csv_error)?;
                Some(writer)
            }
            ExportFormat::Json => None,
        };
        Ok(Self {
            format,
            csv,
            json: Vec::new(),
            rows: 0,
        })
    }

    fn push(&mut self, cells: Vec<String>, json: Value) -> Result<(), TaskError> {
        self.rows += 1;
        if self.rows > MAX_ROWS {
            return Err(TaskError::permanent(format!(
                "The export has more than {MAX_ROWS} rows; choose a shorter date range"
            )));
        }
        match &mut self.csv {
            Some(writer) => writer.write_record(&cells).map_err(csv_error),
            None => {
                self.json.push(json);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<Vec<u8>, TaskError> {
        match (self.format, self.csv) {
            (_, Some(writer)) => writer.into_inner().map_err(|error| {
                TaskError::permanent(format!("The CSV could not be written: {error}"))
            }),
            (_, None) => serde_json::to_vec_pretty(&self.json).map_err(|error| {
                TaskError::permanent(format!("The JSON could not be written: {error}"))
            }),
        }
    }
}

fn csv_error(error: ::csv::Error) -> TaskError {
    TaskError::permanent(format!("The CSV could not be written: {error}"))
}

#[async_trait]
impl TaskHandler for DataExportHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::DataExport(params) = &ctx.params else {
            return Err(wrong_parameters("data_export"));
        };
        let storage = ctx.storage()?;
        let task = &ctx.task;
        let (start, end) = match params.date_range {
            Some(range) => (Some(range.start), Some(range.end)),
            None => (None, None),
        };
        ctx.log
            .info(
                format!(
                    "Exporting {} as {}{}",
                    params.dataset.label().to_lowercase(),
                    params.format.label(),
                    match params.date_range {
                        Some(range) => format!(
                            " from {} to {}",
                            range.start.format("%Y-%m-%d"),
                            range.end.format("%Y-%m-%d")
                        ),
                        None => String::new(),
                    }
                ),
                None,
            )
            .await;
        ctx.progress.set(5).await;

        // The rows stream out of one transaction (behind a transaction pooler, a statement
        // outside one would be read whole before the first row is written).
        let mut tx = ctx.db.begin().await?;
        let output = match params.dataset {
            ExportDataset::Tasks => {
                let mut output = Output::new(params.format, TASK_COLUMNS)?;
                let mut rows = sqlx::query_as::<_, TaskRow>(
                    "select id, title, type, status, priority, progress, attempts, created_at,
                            started_at, completed_at, error_message
                       from public.tasks
                      where user_id = $1
                        and ($2::date is null or created_at >= $2::date::timestamptz)
                        and ($3::date is null or created_at < ($3::date + 1)::timestamptz)
                      order by created_at, id",
                )
                .bind(task.user_id)
                .bind(start)
                .bind(end)
                .fetch(&mut tx);
                while let Some(row) = rows.try_next().await? {
                    output.push(row.cells(), row.json())?;
                    if output.rows % 1000 == 0 {
                        ctx.check_cancelled()?;
                    }
                }
                output
            }
            ExportDataset::Events => {
                let mut output = Output::new(params.format, EVENT_COLUMNS)?;
                let mut rows = sqlx::query_as::<_, EventRow>(
                    "select id, event_type, amount::text as amount, occurred_at, metadata
                       from public.business_events
                      where user_id = $1
                        and ($2::date is null or occurred_at >= $2::date::timestamptz)
                        and ($3::date is null or occurred_at < ($3::date + 1)::timestamptz)
                      order by occurred_at, id",
                )
                .bind(task.user_id)
                .bind(start)
                .bind(end)
                .fetch(&mut tx);
                while let Some(row) = rows.try_next().await? {
                    output.push(row.cells(), row.json())?;
                    if output.rows % 1000 == 0 {
                        ctx.check_cancelled()?;
                    }
                }
                output
            }
        };
        tx.commit().await?;
        let rows = output.rows;
        let bytes = output.finish()?;
        let size = bytes.len() as u64;
        ctx.log
            .info(
                format!("Wrote {rows} rows ({})", human_bytes(size)),
                Some(json!({ "rows": rows, "sizeBytes": size })),
            )
            .await;
        ctx.progress.set(70).await;
        ctx.check_cancelled()?;

        let path = format!(
            "{}/exports/{}.{}",
            task.user_id,
            task.id,
            params.format.extension()
        );
        storage
            .upload(BUCKET, &path, bytes, params.format.mime_type())
            .await?;
        ctx.log
            .info(
                format!("Uploaded to {BUCKET}/{path}"),
                Some(json!({ "bucket": BUCKET, "path": path })),
            )
            .await;
        Ok(json!({
            "bucket": BUCKET,
            "path": path,
            "dataset": params.dataset.as_str(),
            "format": params.format.as_str(),
            "rows": rows,
            "sizeBytes": size,
        }))
    }
}
