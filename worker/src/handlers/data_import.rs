//! `data_import`: business events from a CSV file in the `imports` bucket.
//!
//! The header must be `event_type,amount,occurred_at`. Every row is checked first; if
//! any is wrong, nothing is inserted and the task fails listing the errors with their
//! line numbers (the first 20). Otherwise all rows go in one transaction.
//!
//! Memory does not grow with the file: the download is written, chunk by chunk, to a
//! temporary file (unlinked at once, so nothing is left behind even if the worker dies);
//! a first pass over it checks every row keeping only a count and the first errors, a
//! second pass parses it again on a blocking thread and hands batches of rows to the
//! inserts through a channel of two batches. Progress and a log line every 10 %.

use std::io::{BufRead, BufReader, Read, Seek, Write};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DataImportParams, EventType, TaskParameters};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;
use crate::text::{Run, Text};

/// The bucket files are read from.
pub const BUCKET: &str = DataImportParams::BUCKET;
/// The largest file read: 100 MiB, about 3 million rows (a million rows take ~35 MB).
/// The `imports` bucket's own `file_size_limit` decides what users can upload.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// Errors listed in the task's message.
pub const MAX_LISTED_ERRORS: usize = 20;
/// Rows per INSERT statement.
const BATCH: usize = 1000;
/// Batches parsed ahead of the inserts.
const BATCHES_AHEAD: usize = 2;

/// Runs `data_import` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct DataImportHandler;

/// One valid row.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// `order`, `signup`, `visit` or `conversion`.
    pub event_type: EventType,
    /// The amount as written (validated: ≥ 0, at most 2 decimals, < 10^12).
    pub amount: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// The outcome of checking a whole file held in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Every row is valid.
    Valid(Vec<EventRow>),
    /// Errors, each `line N: …` (all of them; the caller lists the first 20).
    Invalid(Vec<Text>),
}

/// One data line of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A valid row.
    Valid(EventRow),
    /// `line N: …`.
    Invalid(Text),
}

/// Reads an import file one row at a time (bounded memory, whatever its size).
pub struct RowReader<R: Read> {
    reader: ::csv::Reader<BufReader<R>>,
    record: ::csv::StringRecord,
    done: bool,
}

impl<R: Read> RowReader<R> {
    /// Checks the header; `Err("line 1: …")` when it is not `event_type,amount,occurred_at`.
    /// A UTF-8 byte order mark is skipped.
    pub fn new(input: R) -> Result<Self, Text> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        if let Ok(start) = input.fill_buf() {
            if start.starts_with(b"\xef\xbb\xbf") {
                input.consume(3);
            }
        }
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(::csv::Trim::All)
            .from_reader(input);
        let expected = DataImportParams::CSV_COLUMNS;
        match reader.headers() {
            Ok(header) => {
                let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
                if names != expected {
                    let expected = expected.join(",");
                    return Err(if names.iter().all(String::is_empty) {
                        Text::new(Run::RowHeaderEmpty).raw("expected", expected)
                    } else {
                        Text::new(Run::RowHeader)
                            .raw("expected", expected)
                            .raw("found", header.iter().collect::<Vec<_>>().join(","))
                    });
                }
            }
            Err(error) => {
                return Err(Text::new(Run::RowNotCsv).raw("detail", error));
            }
        }
        Ok(Self {
            reader,
            record: ::csv::StringRecord::new(),
            done: false,
        })
    }

    /// The next data row (blank lines are skipped); `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<Row> {
        while !self.done {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    if self.record.iter().all(str::is_empty) {
                        continue; // blank line
                    }
                    return Some(check_record(&self.record));
                }
                Err(error) => {
                    let line = error.position().map(|p| p.line()).unwrap_or(0);
                    // A record that is not valid text is reported and skipped; a read
                    // error of the file itself ends the reading.
                    self.done = error.is_io_error();
                    return Some(Row::Invalid(
                        Text::new(Run::RowBadCsv)
                            .num("line", line)
                            .text("detail", error.kind_text()),
                    ));
                }
            }
        }
        None
    }
}

/// Checks one record.
fn check_record(record: &::csv::StringRecord) -> Row {
    let line = record.position().map(|p| p.line()).unwrap_or(0);
    if record.len() != 3 {
        return Row::Invalid(
            Text::new(Run::RowValues)
                .num("line", line)
                .num("n", record.len()),
        );
    }
    let event_type = record.get(0).unwrap_or_default();
    let amount = record.get(1).unwrap_or_default();
    let occurred_at = record.get(2).unwrap_or_default();
    let mut row_errors = Vec::new();
    let parsed_type = event_type.parse::<EventType>().ok();
    if parsed_type.is_none() {
        row_errors.push(
            Text::new(Run::RowEventType)
                .raw("values", EventType::VALUES.join(", "))
                .raw("value", event_type),
        );
    }
    if !valid_amount(amount) {
        row_errors.push(Text::new(Run::RowAmount).raw("value", amount));
    }
    let parsed_time = parse_time(occurred_at);
    if parsed_time.is_none() {
        row_errors.push(Text::new(Run::RowOccurredAt).raw("value", occurred_at));
    }
    match (parsed_type, parsed_time) {
        (Some(event_type), Some(occurred_at)) if row_errors.is_empty() => Row::Valid(EventRow {
            event_type,
            amount: amount.to_owned(),
            occurred_at,
        }),
        _ => Row::Invalid(
            Text::new(Run::RowProblems)
                .num("line", line)
                .list("problems", row_errors),
        ),
    }
}

/// Checks a whole CSV file held in memory (small files, tests).
pub fn parse_csv(bytes: &[u8]) -> Parsed {
    let mut reader = match RowReader::new(bytes) {
        Ok(reader) => reader,
        Err(error) => return Parsed::Invalid(vec![error]),
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    while let Some(row) = reader.next_row() {
        match row {
            Row::Valid(row) => rows.push(row),
            Row::Invalid(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Parsed::Valid(rows)
    } else {
        Parsed::Invalid(errors)
    }
}

/// What the checking pass found: the number of valid rows, the number of errors and the
/// first [`MAX_LISTED_ERRORS`] of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    /// Valid rows.
    pub valid: u64,
    /// Invalid rows (or the header).
    pub error_count: u64,
    /// The first errors, `line N: …`.
    pub errors: Vec<Text>,
}

/// Checks every row of `input`, keeping only counts and the first errors.
pub fn check_all(input: impl Read) -> Checked {
    let mut checked = Checked::default();
    let note = |checked: &mut Checked, error: Text| {
        checked.error_count += 1;
        if checked.errors.len() < MAX_LISTED_ERRORS {
            checked.errors.push(error);
        }
    };
    let mut reader = match RowReader::new(input) {
        Ok(reader) => reader,
        Err(error) => {
            note(&mut checked, error);
            return checked;
        }
    };
    while let Some(row) = reader.next_row() {
        match row {
            Row::Valid(_) => checked.valid += 1,
            Row::Invalid(error) => note(&mut checked, error),
        }
    }
    checked
}

trait KindText {
    fn kind_text(&self) -> Text;
}

impl KindText for ::csv::Error {
    fn kind_text(&self) -> Text {
        match self.kind() {
            ::csv::ErrorKind::Utf8 { .. } => Run::RowNotUtf8.into(),
            _ => Text::detail(self),
        }
    }
}

/// `12`, `12.5`, `12.50`: digits, at most 12 before the point and 2 after.
fn valid_amount(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    digits(int, 12) && frac.is_none_or(|f| digits(f, 2))
}

/// An RFC 3339 timestamp, or a date (midnight UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if text.len() == 10 {
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

/// The downloaded file: unlinked as soon as it is created, so it disappears with its
/// handle, whatever happens to the worker.
fn temporary_file(ctx: &HandlerContext) -> Result<std::fs::File, TaskError> {
    let path = std::env::temp_dir().join(format!(
        "taskdeck-import-{}-{}.csv",
        ctx.task.id,
        ctx.log.execution_id()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|error| {
            TaskError::retryable(
                Text::new(Run::ImportTempCreate)
                    .raw("dir", std::env::temp_dir().display())
                    .raw("detail", error),
            )
        })?;
    // On Unix the open handle keeps the data; elsewhere the file is left for the OS.
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

fn file_error(error: std::io::Error) -> TaskError {
    TaskError::retryable(Text::new(Run::ImportTempFailed).raw("detail", error))
}

fn thread_error(error: tokio::task::JoinError) -> TaskError {
    TaskError::retryable(Text::new(Run::ImportThread).raw("detail", error))
}

/// Downloads the object into `file`, writing progress from 5 to 20 % as it arrives.
async fn download(
    ctx: &HandlerContext,
    path: &str,
    mut file: std::fs::File,
) -> Result<(std::fs::File, u64), TaskError> {
    let storage = ctx.storage()?;
    let (declared, mut chunks) = storage
        .download_stream(BUCKET, path, MAX_FILE_BYTES)
        .await?;
    let mut received: u64 = 0;
    let mut pending = Vec::with_capacity(1024 * 1024);
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        received += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        // Writes of 1 MiB to the page cache: short enough to do on this thread.
        if pending.len() >= 1024 * 1024 {
            file.write_all(&pending).map_err(file_error)?;
            pending.clear();
            ctx.check_cancelled()?;
            if let Some(total) = declared.filter(|t| *t > 0) {
                ctx.progress
                    .set(5 + (15 * received.min(total) / total) as i32)
                    .await;
            }
        }
    }
    file.write_all(&pending).map_err(file_error)?;
    file.flush().map_err(file_error)?;
    file.rewind().map_err(file_error)?;
    Ok((file, received))
}

#[async_trait]
impl TaskHandler for DataImportHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::DataImport(params) = &ctx.params else {
            return Err(wrong_parameters("data_import"));
        };
        ctx.storage()?;
        let task = &ctx.task;
        // The service key reads any folder: only the owner's own files may be imported.
        let owner_folder = task.user_id.to_string();
        if params.path.split('/').next() != Some(owner_folder.as_str()) {
            return Err(TaskError::permanent(
                Text::new(Run::ImportOwnFolder).raw("folder", owner_folder),
            ));
        }
        ctx.log
            .info(
                Text::new(Run::ImportDownloading).raw("path", format!("{BUCKET}/{}", params.path)),
                None,
            )
            .await;
        ctx.progress.set(5).await;
        let file = temporary_file(&ctx)?;
        let (file, size) = download(&ctx, &params.path, file).await?;
        ctx.log
            .info(Text::new(Run::ImportDownloaded).bytes("size", size), None)
            .await;
        ctx.progress.set(20).await;
        ctx.check_cancelled()?;

        // First pass: every row checked, nothing kept but counts and the first errors.
        let (mut file, checked) = tokio::task::spawn_blocking(move || {
            let checked = check_all(&file);
            (file, checked)
        })
        .await
        .map_err(thread_error)?;
        if checked.error_count > 0 {
            let total = checked.error_count;
            let listed = &checked.errors;
            let more = total.saturating_sub(listed.len() as u64);
            let text = if more > 0 {
                Text::new(Run::ImportInvalidMore).num("more", more)
            } else {
                Text::new(Run::ImportInvalid)
            }
            .num("n", total)
            .list("errors", listed.clone());
            let listed: Vec<String> = listed.iter().map(Text::english).collect();
            ctx.log
                .error(
                    Text::new(Run::ImportInvalidLog).num("n", total),
                    Some(json!({ "errors": listed, "errorCount": total })),
                )
                .await;
            return Err(TaskError::Permanent(text));
        }
        let total = checked.valid;
        if total == 0 {
            return Err(TaskError::permanent(Run::ImportEmpty));
        }
        ctx.log
            .info(Text::new(Run::ImportValid).num("n", total), None)
            .await;
        ctx.progress.set(40).await;
        ctx.check_cancelled()?;

        // Second pass: a blocking thread parses again and sends batches; this task inserts
        // them, all in one transaction.
        file.rewind().map_err(file_error)?;
        let (batches, mut incoming) =
            tokio::sync::mpsc::channel::<Result<Vec<EventRow>, Text>>(BATCHES_AHEAD);
        let reader = tokio::task::spawn_blocking(move || {
            let mut rows = match RowReader::new(file) {
                Ok(rows) => rows,
                Err(error) => {
                    let _ = batches.blocking_send(Err(error));
                    return;
                }
            };
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(row) = rows.next_row() {
                match row {
                    Row::Valid(row) => batch.push(row),
                    Row::Invalid(error) => {
                        let _ = batches.blocking_send(Err(error));
                        return;
                    }
                }
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if batches.blocking_send(Ok(full)).is_err() {
                        return; // the import stopped
                    }
                }
            }
            if !batch.is_empty() {
                let _ = batches.blocking_send(Ok(batch));
            }
        });

        let metadata = json!({ "importTaskId": task.id, "source": params.path });
        let mut tx = ctx.db.begin().await?;
        let mut done: u64 = 0;
        let mut logged_tenths = 0;
        while let Some(batch) = incoming.recv().await {
            if ctx.cancel.is_cancelled() {
                // Dropping the transaction rolls back what was inserted; dropping the
                // channel stops the reader.
                return Err(TaskError::Cancelled);
            }
            let batch = batch.map_err(|error| {
                TaskError::retryable(Text::new(Run::ImportReread).text("detail", error))
            })?;
            let types: Vec<&str> = batch.iter().map(|r| r.event_type.as_str()).collect();
            let amounts: Vec<&str> = batch.iter().map(|r| r.amount.as_str()).collect();
            let times: Vec<DateTime<Utc>> = batch.iter().map(|r| r.occurred_at).collect();
            sqlx::query_file!(
                "queries/insert_events.sql",
                task.user_id,
                &types as &[&str],
                &amounts as &[&str],
                &times,
                &metadata
            )
            .execute(&mut tx)
            .await?;
            done += batch.len() as u64;
            ctx.progress.set(40 + (55 * done / total) as i32).await;
            let tenths = 10 * done / total;
            if tenths > logged_tenths && done < total {
                logged_tenths = tenths;
                ctx.log
                    .info(
                        Text::new(Run::ImportProgress)
                            .num("done", done)
                            .num("total", total)
                            .num("percent", 100 * done / total),
                        Some(json!({ "inserted": done, "total": total })),
                    )
                    .await;
            }
        }
        reader.await.map_err(thread_error)?;
        if done != total {
            return Err(TaskError::retryable(
                Text::new(Run::ImportRereadCount)
                    .num("done", done)
                    .num("total", total),
            ));
        }
        // A cancellation during the last batch still rolls back everything.
        ctx.check_cancelled()?;
        tx.commit().await?;
        ctx.log
            .info(Text::new(Run::ImportDone).num("n", total), None)
            .await;
        Ok(json!({ "imported": total, "bucket": BUCKET, "path": params.path }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_file() {
        let csv = "event_type,amount,occurred_at\norder,12.50,2024-03-01\nvisit,0,2024-03-01T10:00:00+02:00\n\n";
        let Parsed::Valid(rows) = parse_csv(csv.as_bytes()) else {
            panic!("valid");
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].event_type, EventType::Order);
        assert_eq!(rows[0].amount, "12.50");
        assert_eq!(
            rows[1].occurred_at.to_rfc3339(),
            "2024-03-01T08:00:00+00:00"
        );
    }

    #[test]
    fn errors_name_their_lines() {
        let csv = "event_type,amount,occurred_at\norder,1,2024-03-01\nsale,-1,yesterday\nvisit,1.234,2024-02-30\nsignup,1\n";
        let Parsed::Invalid(errors) = parse_csv(csv.as_bytes()) else {
            panic!("invalid");
        };
        let errors: Vec<String> = errors.iter().map(Text::english).collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("line 3: event_type must be one of"),
            "{}",
            errors[0]
        );
        assert!(errors[0].contains("amount must be"), "{}", errors[0]);
        assert!(errors[0].contains("occurred_at must be"), "{}", errors[0]);
        assert!(errors[1].starts_with("line 4: amount"), "{}", errors[1]);
        assert!(errors[1].contains("occurred_at"), "{}", errors[1]);
        assert_eq!(errors[2], "line 5: expected 3 values, found 2");
    }

    #[test]
    fn the_header_is_checked() {
        let Parsed::Invalid(errors) = parse_csv(b"type,amount,when\norder,1,2024-01-01\n") else {
            panic!("invalid");
        };
        let errors: Vec<String> = errors.iter().map(Text::english).collect();
        assert_eq!(
            errors,
            vec![
                "line 1: the header must be event_type,amount,occurred_at (found type,amount,when)"
            ]
        );
        assert!(
            matches!(parse_csv(b"\xef\xbb\xbfEvent_Type,Amount,Occurred_At\n"), Parsed::Valid(rows) if rows.is_empty())
        );
    }

    #[test]
    fn amounts() {
        for ok in ["0", "12", "12.5", "12.50", "999999999999.99"] {
            assert!(valid_amount(ok), "{ok}");
        }
        for bad in ["", "-1", "1.234", "1e3", "abc", ".5", "5.", "1000000000000"] {
            assert!(!valid_amount(bad), "{bad}");
        }
    }
}
