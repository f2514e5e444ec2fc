//! `data_export`: the owner's tasks or business events (optionally within a date range)
//! as CSV or JSON, uploaded to the `reports` bucket at `<user_id>/exports/<task_id>.<ext>`.
//!
//! Memory does not grow with the export: rows stream out of one read-only snapshot (the
//! count first, for progress), are encoded a thousand at a time and sent as chunks of
//! the upload's body through a channel of four chunks, so the database is read only as
//! fast as Storage takes the file. A failure or a cancellation aborts the upload.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ExportDataset, ExportFormat, TaskParameters};
use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{csv_safe, wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;
use crate::text::{Labels, Run, Text};

/// The bucket exports go to.
pub const BUCKET: &str = "reports";
/// The most rows one export writes.
pub const MAX_ROWS: usize = 1_000_000;

/// Runs `data_export` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataExportHandler;

struct TaskRow {
    id: Uuid,
    title: String,
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

/// A row of one of the datasets.
trait ExportRow {
    fn cells(&self) -> Vec<String>;
    fn json(&self) -> Value;
}

impl ExportRow for TaskRow {
    fn cells(&self) -> Vec<String> {
        TaskRow::cells(self)
    }
    fn json(&self) -> Value {
        TaskRow::json(self)
    }
}

impl ExportRow for EventRow {
    fn cells(&self) -> Vec<String> {
        EventRow::cells(self)
    }
    fn json(&self) -> Value {
        EventRow::json(self)
    }
}

/// Rows per chunk of the file handed to the upload.
const CHUNK_ROWS: usize = 1000;
/// Chunks encoded ahead of the upload.
const CHUNKS_AHEAD: usize = 4;

/// Turns rows into the bytes of the file, a chunk at a time: the same bytes a whole-file
/// writer would give (`csv::Writer`, `serde_json::to_vec_pretty` of the array).
struct Encoder {
    format: ExportFormat,
    rows: u64,
}

impl Encoder {
    fn new(format: ExportFormat) -> Self {
        Self { format, rows: 0 }
    }

    /// The header line (CSV) or nothing.
    fn start(&self, header: &[&str]) -> Result<Vec<u8>, TaskError> {
        match self.format {
            ExportFormat::Csv => {
                let mut writer = ::csv::Writer::from_writer(Vec::new());
                writer.write_record(header).map_err(csv_error)?;
                writer
                    .into_inner()
                    .map_err(|error| csv_error(error.into_error().into()))
            }
            ExportFormat::Json => Ok(Vec::new()),
        }
    }

    fn chunk<T: ExportRow>(&mut self, rows: &[T]) -> Result<Vec<u8>, TaskError> {
        match self.format {
            ExportFormat::Csv => {
                let mut writer = ::csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::with_capacity(rows.len() * 96));
                for row in rows {
                    writer.write_record(row.cells()).map_err(csv_error)?;
                }
                self.rows += rows.len() as u64;
                writer
                    .into_inner()
                    .map_err(|error| csv_error(error.into_error().into()))
            }
            ExportFormat::Json => {
                let mut out = Vec::with_capacity(rows.len() * 256);
                for row in rows {
                    out.extend_from_slice(if self.rows == 0 { b"[\n  " } else { b",\n  " });
                    let item = serde_json::to_vec_pretty(&row.json()).map_err(json_error)?;
                    // Indent the item's lines by two spaces, as inside the array (a JSON
                    // text has no raw newline inside a string).
                    for byte in item {
                        out.push(byte);
                        if byte == b'\n' {
                            out.extend_from_slice(b"  ");
                        }
                    }
                    self.rows += 1;
                }
                Ok(out)
            }
        }
    }

    /// The end of the file.
    fn finish(&self) -> Vec<u8> {
        match self.format {
            ExportFormat::Csv => Vec::new(),
            ExportFormat::Json if self.rows == 0 => b"[]".to_vec(),
            ExportFormat::Json => b"\n]".to_vec(),
        }
    }
}

fn csv_error(error: ::csv::Error) -> TaskError {
    TaskError::permanent(
        Text::new(Run::ExportWriteFailed)
            .raw("format", "CSV")
            .raw("detail", error),
    )
}

fn json_error(error: serde_json::Error) -> TaskError {
    TaskError::permanent(
        Text::new(Run::ExportWriteFailed)
            .raw("format", "JSON")
            .raw("detail", error),
    )
}

/// What the writing side did.
struct Written {
    rows: u64,
    bytes: u64,
}

type Chunks = tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>;

/// Encodes `rows` into chunks and sends them to the upload, with progress from 10 to 95 %
/// and a log line every 10 %. `Ok(None)`: the upload stopped taking chunks (its own
/// error says why).
async fn write_rows<T, S>(
    ctx: &HandlerContext,
    header: &[&str],
    format: ExportFormat,
    total: u64,
    mut rows: S,
    chunks: &Chunks,
) -> Result<Option<Written>, TaskError>
where
    T: ExportRow,
    S: futures_util::Stream<Item = Result<T, sqlx::Error>> + Unpin,
{
    let mut encoder = Encoder::new(format);
    let mut bytes: u64 = 0;
    let mut send = |chunk: Vec<u8>| {
        bytes += chunk.len() as u64;
        chunks.send(Ok(bytes::Bytes::from(chunk)))
    };
    if send(encoder.start(header)?).await.is_err() {
        return Ok(None);
    }
    let mut batch: Vec<T> = Vec::with_capacity(CHUNK_ROWS);
    let mut logged_tenths = 0;
    loop {
        let row = rows.try_next().await?;
        let end = row.is_none();
        if let Some(row) = row {
            batch.push(row);
        }
        if batch.len() == CHUNK_ROWS || (end && !batch.is_empty()) {
            ctx.check_cancelled()?;
            if encoder.rows + batch.len() as u64 > MAX_ROWS as u64 {
                return Err(too_many_rows());
            }
            let chunk = encoder.chunk(&batch)?;
            batch.clear();
            if send(chunk).await.is_err() {
                return Ok(None);
            }
            let done = encoder.rows;
            if let Some(percent) = (100 * done.min(total)).checked_div(total) {
                ctx.progress.set(10 + (85 * percent / 100) as i32).await;
                let tenths = percent / 10;
                if tenths > logged_tenths && done < total {
                    logged_tenths = tenths;
                    ctx.log
                        .info(
                            Text::new(Run::ExportProgress)
                                .num("done", done)
                                .num("total", total)
                                .num("percent", percent),
                            Some(json!({ "rows": done, "total": total })),
                        )
                        .await;
                }
            }
        }
        if end {
            break;
        }
    }
    if send(encoder.finish()).await.is_err() {
        return Ok(None);
    }
    Ok(Some(Written {
        rows: encoder.rows,
        bytes,
    }))
}

fn too_many_rows() -> TaskError {
    TaskError::permanent(Text::new(Run::ExportTooMany).num("max", MAX_ROWS))
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
                match params.date_range {
                    Some(range) => Text::new(Run::ExportStartRange)
                        .date("start", range.start)
                        .date("end", range.end),
                    None => Text::new(Run::ExportStart),
                }
                .labels("dataset", Labels::ExportDataset, &[params.dataset.as_str()])
                .raw("format", params.format.label()),
                None,
            )
            .await;
        ctx.progress.set(5).await;

        // The count and the rows come from one snapshot; the rows stream out of the
        // transaction (behind a transaction pooler, a statement outside one would be read
        // whole before the first row is written) straight into the upload.
        let mut tx = ctx.db.begin().await?;
        sqlx::query_file!("queries/read_only_snapshot.sql")
            .execute(&mut tx)
            .await?;
        let total: i64 = match params.dataset {
            ExportDataset::Tasks => {
                sqlx::query_file_scalar!("queries/export_count_tasks.sql", task.user_id, start, end)
                    .fetch_one(&mut tx)
                    .await?
            }
            ExportDataset::Events => {
                sqlx::query_file_scalar!(
                    "queries/export_count_events.sql",
                    task.user_id,
                    start,
                    end
                )
                .fetch_one(&mut tx)
                .await?
            }
        };
        let total = u64::try_from(total).unwrap_or(0);
        if total > MAX_ROWS as u64 {
            return Err(too_many_rows());
        }
        ctx.log
            .info(
                Text::new(Run::ExportRows).num("n", total),
                Some(json!({ "total": total })),
            )
            .await;
        ctx.progress.set(10).await;

        let path = format!(
            "{}/exports/{}.{}",
            task.user_id,
            task.id,
            params.format.extension()
        );
        let (chunks, receiver) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
        ));
        let upload = storage.upload_stream(BUCKET, &path, body, params.format.mime_type());
        let produce = async {
            let written = match params.dataset {
                ExportDataset::Tasks => {
                    let rows = sqlx::query_file_as!(
                        TaskRow,
                        "queries/export_tasks.sql",
                        task.user_id,
                        start,
                        end
                    )
                    .fetch(&mut tx);
                    write_rows(&ctx, TASK_COLUMNS, params.format, total, rows, &chunks).await
                }
                ExportDataset::Events => {
                    let rows = sqlx::query_file_as!(
                        EventRow,
                        "queries/export_events.sql",
                        task.user_id,
                        start,
                        end
                    )
                    .fetch(&mut tx);
                    write_rows(&ctx, EVENT_COLUMNS, params.format, total, rows, &chunks).await
                }
            };
            if written.is_err() {
                // Abort the upload: Storage keeps no truncated file.
                let _ = chunks
                    .send(Err(std::io::Error::other("the export stopped")))
                    .await;
            }
            drop(chunks);
            written
        };
        // A cancellation also stops an upload still in flight (dropping it aborts the
        // request).
        let (uploaded, written) = tokio::select! {
            both = async { tokio::join!(upload, produce) } => both,
            () = ctx.cancel.cancelled() => return Err(TaskError::Cancelled),
        };
        let written = match (written, uploaded) {
            (Err(error), _) => return Err(error),
            (Ok(_), Err(error)) => return Err(error.into()),
            (Ok(None), Ok(())) => return Err(TaskError::retryable(Run::UploadIncomplete)),
            (Ok(Some(written)), Ok(())) => written,
        };
        tx.commit().await?;
        let (rows, size) = (written.rows, written.bytes);
        ctx.log
            .info(
                Text::new(Run::ExportDone)
                    .num("n", rows)
                    .bytes("size", size),
                Some(json!({ "rows": rows, "sizeBytes": size })),
            )
            .await;
        ctx.log
            .info(
                Text::new(Run::Uploaded).raw("path", format!("{BUCKET}/{path}")),
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
