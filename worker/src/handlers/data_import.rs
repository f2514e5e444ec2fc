//! `data_import`: business events from a CSV file in the `imports` bucket.
//!
//! The header must be `event_type,amount,occurred_at`. Every row is checked first; if
//! any is wrong, nothing is inserted and the task fails listing the errors with their
//! line numbers (the first 20). Otherwise all rows go in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{DataImportParams, EventType, TaskParameters};
use serde_json::{json, Value};

use super::{wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;

/// The bucket files are read from.
pub const BUCKET: &str = DataImportParams::BUCKET;
/// The largest file read (the bucket's own limit).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Errors listed in the task's message.
pub const MAX_LISTED_ERRORS: usize = 20;
/// Rows per INSERT statement.
const BATCH: usize = 1000;

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

/// The outcome of checking a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Every row is valid.
    Valid(Vec<EventRow>),
    /// Errors, each `line N: …` (all of them; the caller lists the first 20).
    Invalid(Vec<String>),
}

/// Checks a whole CSV file.
pub fn parse_csv(bytes: &[u8]) -> Parsed {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(bytes);
    let expected = DataImportParams::CSV_COLUMNS;
    match reader.headers() {
        Ok(header) => {
            let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
            if names != expected {
                return Parsed::Invalid(vec![format!(
                    "line 1: the header must be {} (found {})",
                    expected.join(","),
                    if names.iter().all(String::is_empty) {
                        "an empty line".to_owned()
                    } else {
                        header.iter().collect::<Vec<_>>().join(",")
                    }
                )]);
            }
        }
        Err(error) => {
            return Parsed::Invalid(vec![format!(
                "line 1: the file is not valid CSV text ({error})"
            )]);
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map(|p| p.line()).unwrap_or(0);
                errors.push(format!(
                    "line {line}: not valid CSV ({})",
                    error.kind_text()
                ));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue; // blank line
        }
        if record.len() != 3 {
            errors.push(format!(
                "line {line}: expected 3 values, found {}",
                record.len()
            ));
            continue;
        }
        let event_type = record.get(0).unwrap_or_default();
        let amount = record.get(1).unwrap_or_default();
        let occurred_at = record.get(2).unwrap_or_default();
        let mut row_errors = Vec::new();
        let parsed_type = event_type.parse::<EventType>().ok();
        if parsed_type.is_none() {
            row_errors.push(format!(
                "event_type must be one of {} (got \"{event_type}\")",
                EventType::VALUES.join(", ")
            ));
        }
        if !valid_amount(amount) {
            row_errors.push(format!(
                "amount must be a number of at least 0 with at most 2 decimals (got \"{amount}\")"
            ));
        }
        let parsed_time = parse_time(occurred_at);
        if parsed_time.is_none() {
            row_errors.push(format!(
                "occurred_at must be a date (YYYY-MM-DD) or a timestamp like 2024-03-01T12:00:00Z (got \"{occurred_at}\")"
            ));
        }
        match (parsed_type, parsed_time) {
            (Some(event_type), Some(occurred_at)) if row_errors.is_empty() => rows.push(EventRow {
                event_type,
                amount: amount.to_owned(),
                occurred_at,
            }),
            _ => errors.push(format!("line {line}: {}", row_errors.join("; "))),
        }
    }
    if errors.is_empty() {
        Parsed::Valid(rows)
    } else {
        Parsed::Invalid(errors)
    }
}

trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for ::csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            ::csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".to_owned(),
            _ => self.to_string(),
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

#[async_trait]
impl TaskHandler for DataImportHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::DataImport(params) = &ctx.params else {
            return Err(wrong_parameters("data_import"));
        };
        let storage = ctx.storage()?;
        let task = &ctx.task;
        // The service key reads any folder: only the owner's own files may be imported.
        let owner_folder = task.user_id.to_string();
        if params.path.split('/').next() != Some(owner_folder.as_str()) {
            return Err(TaskError::permanent(format!(
                "path must be in your own folder ({owner_folder}/…)"
            )));
        }
        ctx.log
            .info(format!("Downloading {BUCKET}/{}", params.path), None)
            .await;
        ctx.progress.set(5).await;
        let bytes = storage
            .download(BUCKET, &params.path, MAX_FILE_BYTES)
            .await?;
        ctx.progress.set(20).await;
        ctx.check_cancelled()?;

        let rows = match parse_csv(&bytes) {
            Parsed::Valid(rows) => rows,
            Parsed::Invalid(errors) => {
                let total = errors.len();
                let listed: Vec<&str> = errors
                    .iter()
                    .take(MAX_LISTED_ERRORS)
                    .map(String::as_str)
                    .collect();
                let mut message = format!(
                    "The file has {total} invalid row{}; nothing was imported. {}",
                    if total == 1 { "" } else { "s" },
                    listed.join(". ")
                );
                if total > MAX_LISTED_ERRORS {
                    message.push_str(&format!(". … and {} more", total - MAX_LISTED_ERRORS));
                }
                ctx.log
                    .error(
                        format!("{total} invalid rows; nothing imported"),
                        Some(json!({ "errors": listed, "errorCount": total })),
                    )
                    .await;
                return Err(TaskError::Permanent(message));
            }
        };
        if rows.is_empty() {
            return Err(TaskError::permanent(
                "The file has no rows to import (only a header, or nothing)",
            ));
        }
        ctx.log
            .info(format!("{} rows are valid; importing", rows.len()), None)
            .await;
        ctx.progress.set(40).await;

        let metadata = json!({ "importTaskId": task.id, "source": params.path });
        let mut tx = ctx.db.begin().await?;
        let batches = rows.len().div_ceil(BATCH);
        for (index, batch) in rows.chunks(BATCH).enumerate() {
            if ctx.cancel.is_cancelled() {
                // Dropping the transaction rolls back what was inserted.
                return Err(TaskError::Cancelled);
            }
            let types: Vec<&str> = batch.iter().map(|r| r.event_type.as_str()).collect();
            let amounts: Vec<&str> = batch.iter().map(|r| r.amount.as_str()).collect();
            let times: Vec<DateTime<Utc>> = batch.iter().map(|r| r.occurred_at).collect();
            sqlx::query(
                "insert into public.business_events (user_id, event_type, amount, occurred_at, metadata)
                 select $1, t, a::numeric, o, $5
                   from unnest($2::text[], $3::text[], $4::timestamptz[]) as r(t, a, o)",
            )
            .bind(task.user_id)
            .bind(&types)
            .bind(&amounts)
            .bind(&times)
            .bind(&metadata)
            .execute(&mut tx)
            .await?;
            let done = 40 + (50 * (index + 1) / batches) as i32;
            ctx.progress.set(done).await;
        }
        tx.commit().await?;
        ctx.log
            .info(format!("Imported {} events", rows.len()), None)
            .await;
        Ok(json!({ "imported": rows.len(), "bucket": BUCKET, "path": params.path }))
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
