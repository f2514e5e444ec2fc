//! Rows from PostgREST's JSON without serde's derived deserializers.
//!
//! A derived `Deserialize` brings, per row type, a map visitor, a sequence visitor and a
//! field-name visitor, instantiated again inside every request that reads the type: most
//! of the row-reading code in the wasm. Here the answer is parsed once into a
//! [`serde_json::Value`] (one shared parser) and each row type takes its fields out of the
//! object with the small, non-generic readers below. Same rules as the derives in
//! `domain::rows`: a missing or null optional column is `None`, a missing required one is
//! an error naming the column.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    AnalyticsReport, AnalyticsResult, AuditLog, DataPoint, ExecutionLog, MetricSeries, Profile,
    Task, TaskExecution, WorkerHeartbeat,
};
use js_sys::Array;
use serde_json::{Map, Number, Value};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};

use crate::api::error::AppError;
use crate::api::time;

/// A JSON object: one row.
pub type Object = Map<String, Value>;

/// Why a row could not be read: the column.
pub type Missing = String;

/// A row type read from a JSON object.
pub trait FromJson: Sized {
    /// Reads the row; the error names the column that is missing or of the wrong type.
    fn from_json(row: &Object) -> Result<Self, Missing>;
}

fn unreadable(column: &str) -> AppError {
    AppError::Unexpected(format!("unreadable answer: {column}"))
}

/// Parses `body` (JSON text) into a value, with the browser's `JSON.parse`: serde_json's
/// parser (and serde's error machinery with it) stays out of the wasm.
///
/// Numbers are JavaScript numbers: integers are exact up to 2^53, like in any browser
/// client.
pub fn parse(body: &str) -> Result<Value, AppError> {
    js_sys::JSON::parse(body)
        .map(|value| from_js(&value))
        .map_err(|_| unreadable("not JSON"))
}

/// The JSON value of a value `JSON.parse` made.
fn from_js(value: &JsValue) -> Value {
    if let Some(text) = value.as_string() {
        Value::String(text)
    } else if let Some(flag) = value.as_bool() {
        Value::Bool(flag)
    } else if let Some(number) = value.as_f64() {
        if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
            Value::from(number as i64)
        } else {
            Number::from_f64(number).map_or(Value::Null, Value::Number)
        }
    } else if Array::is_array(value) {
        Value::Array(
            value
                .unchecked_ref::<Array>()
                .iter()
                .map(|item| from_js(&item))
                .collect(),
        )
    } else if value.is_object() {
        let mut object = Map::new();
        for entry in js_sys::Object::entries(value.unchecked_ref()).iter() {
            let entry = entry.unchecked_into::<Array>();
            if let Some(key) = entry.get(0).as_string() {
                object.insert(key, from_js(&entry.get(1)));
            }
        }
        Value::Object(object)
    } else {
        Value::Null
    }
}

/// 2^53 - 1: larger integers are not exact in a JavaScript number.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// One row from an object.
pub fn one<T: FromJson>(value: &Value) -> Result<T, AppError> {
    let object = value
        .as_object()
        .ok_or_else(|| unreadable("not an object"))?;
    T::from_json(object).map_err(|column| unreadable(&column))
}

/// Rows from an array of objects.
pub fn many<T: FromJson>(value: &Value) -> Result<Vec<T>, AppError> {
    value
        .as_array()
        .ok_or_else(|| unreadable("not a list"))?
        .iter()
        .map(one)
        .collect()
}

fn get<'a>(row: &'a Object, column: &str) -> Option<&'a Value> {
    row.get(column).filter(|value| !value.is_null())
}

fn missing(column: &str) -> Missing {
    column.to_owned()
}

/// A text column.
pub fn text(row: &Object, column: &str) -> Result<String, Missing> {
    opt_text(row, column).ok_or_else(|| missing(column))
}

/// A nullable text column.
pub fn opt_text(row: &Object, column: &str) -> Option<String> {
    get(row, column).and_then(Value::as_str).map(str::to_owned)
}

/// An integer column.
pub fn int(row: &Object, column: &str) -> Result<i64, Missing> {
    opt_int(row, column).ok_or_else(|| missing(column))
}

/// A nullable integer column.
pub fn opt_int(row: &Object, column: &str) -> Option<i64> {
    get(row, column).and_then(Value::as_i64)
}

/// An `int4` column.
pub fn int32(row: &Object, column: &str) -> Result<i32, Missing> {
    i32::try_from(int(row, column)?).map_err(|_| missing(column))
}

/// A non-negative count (`bigint`).
pub fn count(row: &Object, column: &str) -> Result<u64, Missing> {
    get(row, column)
        .and_then(Value::as_u64)
        .ok_or_else(|| missing(column))
}

/// A number column.
pub fn float(row: &Object, column: &str) -> Result<f64, Missing> {
    get(row, column)
        .and_then(Value::as_f64)
        .ok_or_else(|| missing(column))
}

/// An object of counts (`{"pending": 3, …}`), empty when left out.
pub fn counts(row: &Object, column: &str) -> Result<Object, Missing> {
    match get(row, column) {
        None => Ok(Object::new()),
        Some(value) => {
            let counts = value.as_object().ok_or_else(|| missing(column))?;
            if counts.values().all(|count| count.as_u64().is_some()) {
                Ok(counts.clone())
            } else {
                Err(missing(column))
            }
        }
    }
}

/// A nested object.
pub fn object<'a>(row: &'a Object, column: &str) -> Result<&'a Object, Missing> {
    get(row, column)
        .and_then(Value::as_object)
        .ok_or_else(|| missing(column))
}

/// A boolean column.
pub fn boolean(row: &Object, column: &str) -> Result<bool, Missing> {
    get(row, column)
        .and_then(Value::as_bool)
        .ok_or_else(|| missing(column))
}

/// A column whose text parses as `T` (uuids, timestamps, dates, the domain's enums).
pub fn parsed<T: FromStr>(row: &Object, column: &str) -> Result<T, Missing> {
    opt_parsed(row, column)?.ok_or_else(|| missing(column))
}

/// A nullable column whose text parses as `T`; present but unreadable is an error.
pub fn opt_parsed<T: FromStr>(row: &Object, column: &str) -> Result<Option<T>, Missing> {
    match get(row, column) {
        None => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(|text| text.parse().ok())
            .map(Some)
            .ok_or_else(|| missing(column)),
    }
}

/// A `uuid` column.
pub fn uuid(row: &Object, column: &str) -> Result<Uuid, Missing> {
    parsed(row, column)
}

/// A `timestamptz` column.
pub fn time(row: &Object, column: &str) -> Result<DateTime<Utc>, Missing> {
    opt_time(row, column)?.ok_or_else(|| missing(column))
}

/// A nullable `timestamptz` column.
pub fn opt_time(row: &Object, column: &str) -> Result<Option<DateTime<Utc>>, Missing> {
    match get(row, column) {
        None => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(time::parse_time)
            .map(Some)
            .ok_or_else(|| missing(column)),
    }
}

/// A `date` column.
pub fn date(row: &Object, column: &str) -> Result<NaiveDate, Missing> {
    get(row, column)
        .and_then(Value::as_str)
        .and_then(time::parse_date)
        .ok_or_else(|| missing(column))
}

/// A nullable `jsonb` column.
pub fn opt_json(row: &Object, column: &str) -> Option<Value> {
    get(row, column).cloned()
}

/// A `jsonb` column that is never NULL: `{}` when left out.
pub fn json_object(row: &Object, column: &str) -> Value {
    opt_json(row, column).unwrap_or_else(|| Value::Object(Map::new()))
}

impl FromJson for Task {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Task {
            id: uuid(row, "id")?,
            user_id: uuid(row, "user_id")?,
            title: text(row, "title")?,
            description: opt_text(row, "description"),
            task_type: parsed(row, "type")?,
            status: parsed(row, "status")?,
            priority: parsed(row, "priority")?,
            parameters: json_object(row, "parameters"),
            progress: int32(row, "progress")?,
            result: opt_json(row, "result"),
            error_message: opt_text(row, "error_message"),
            error_text: opt_json(row, "error_text"),
            scheduled_at: opt_time(row, "scheduled_at")?,
            started_at: opt_time(row, "started_at")?,
            completed_at: opt_time(row, "completed_at")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
            attempts: int32(row, "attempts")?,
            max_attempts: int32(row, "max_attempts")?,
            recurrence: opt_text(row, "recurrence"),
            last_error: opt_text(row, "last_error"),
            last_error_text: opt_json(row, "last_error_text"),
            run_after: opt_time(row, "run_after")?,
            locked_by: opt_text(row, "locked_by"),
            locked_until: opt_time(row, "locked_until")?,
        })
    }
}

impl FromJson for TaskExecution {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(TaskExecution {
            id: uuid(row, "id")?,
            task_id: uuid(row, "task_id")?,
            attempt: int32(row, "attempt")?,
            worker_id: opt_text(row, "worker_id"),
            status: parsed(row, "status")?,
            started_at: time(row, "started_at")?,
            completed_at: opt_time(row, "completed_at")?,
            duration_ms: opt_int(row, "duration_ms"),
            result: opt_json(row, "result"),
            error_message: opt_text(row, "error_message"),
            error_text: opt_json(row, "error_text"),
        })
    }
}

impl FromJson for ExecutionLog {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(ExecutionLog {
            id: int(row, "id")?,
            execution_id: uuid(row, "execution_id")?,
            task_id: uuid(row, "task_id")?,
            level: parsed(row, "level")?,
            message: text(row, "message")?,
            message_text: opt_json(row, "message_text"),
            context: opt_json(row, "context"),
            created_at: time(row, "created_at")?,
        })
    }
}

impl FromJson for Profile {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Profile {
            id: uuid(row, "id")?,
            email: text(row, "email")?,
            name: opt_text(row, "name"),
            role: parsed(row, "role")?,
            avatar_url: opt_text(row, "avatar_url"),
            preferences: json_object(row, "preferences"),
            is_active: boolean(row, "is_active")?,
            last_login: opt_time(row, "last_login")?,
            created_at: time(row, "created_at")?,
            updated_at: time(row, "updated_at")?,
        })
    }
}

impl FromJson for AnalyticsReport {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        let metrics = get(row, "metrics")
            .and_then(Value::as_array)
            .ok_or_else(|| missing("metrics"))?
            .iter()
            .map(|metric| metric.as_str().and_then(|m| m.parse().ok()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| missing("metrics"))?;
        Ok(AnalyticsReport {
            id: uuid(row, "id")?,
            task_id: opt_parsed(row, "task_id")?,
            user_id: uuid(row, "user_id")?,
            title: text(row, "title")?,
            format: parsed(row, "format")?,
            date_range_start: date(row, "date_range_start")?,
            date_range_end: date(row, "date_range_end")?,
            metrics,
            storage_path: opt_text(row, "storage_path"),
            size_bytes: opt_int(row, "size_bytes"),
            data: opt_json(row, "data"),
            created_at: time(row, "created_at")?,
        })
    }
}

impl FromJson for AuditLog {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(AuditLog {
            id: int(row, "id")?,
            actor_id: opt_parsed(row, "actor_id")?,
            subject_user_id: opt_parsed(row, "subject_user_id")?,
            action: text(row, "action")?,
            table_name: text(row, "table_name")?,
            record_id: opt_text(row, "record_id"),
            old_data: opt_json(row, "old_data"),
            new_data: opt_json(row, "new_data"),
            ip_address: opt_text(row, "ip_address"),
            user_agent: opt_text(row, "user_agent"),
            created_at: time(row, "created_at")?,
        })
    }
}

impl FromJson for WorkerHeartbeat {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(WorkerHeartbeat {
            id: text(row, "id")?,
            hostname: text(row, "hostname")?,
            version: text(row, "version")?,
            started_at: time(row, "started_at")?,
            last_heartbeat_at: time(row, "last_heartbeat_at")?,
            running_count: int32(row, "running_count")?,
            status: text(row, "status")?,
        })
    }
}

impl FromJson for AnalyticsResult {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        let series = |series: &Object| -> Result<MetricSeries, Missing> {
            let data_points = match get(series, "dataPoints") {
                None => Vec::new(),
                Some(points) => points
                    .as_array()
                    .ok_or_else(|| missing("dataPoints"))?
                    .iter()
                    .map(|point| {
                        let point = point.as_object().ok_or_else(|| missing("dataPoints"))?;
                        Ok(DataPoint {
                            date: date(point, "date")?,
                            value: float(point, "value")?,
                        })
                    })
                    .collect::<Result<_, Missing>>()?,
            };
            Ok(MetricSeries {
                total: float(series, "total")?,
                trend: parsed(series, "trend")?,
                change: float(series, "change")?,
                data_points,
            })
        };
        let mut metrics = BTreeMap::new();
        for (key, value) in object(row, "metrics")? {
            let metric = key.parse().map_err(|_| missing("metrics"))?;
            metrics.insert(
                metric,
                series(value.as_object().ok_or_else(|| missing(key))?)?,
            );
        }
        Ok(AnalyticsResult {
            metrics,
            generated_at: time(row, "generatedAt")?,
            time_zone: opt_text(row, "timeZone"),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn json_parses_like_serde_json() {
        let text = r#"{"a": [1, -2.5, true, null, "x\u00e9"], "b": {"c": {}}, "big": 9007199254740991,
            "s": "\"q\""}"#;
        let serde: Value = serde_json::from_str(text).expect("serde_json");
        assert_eq!(parse(text).expect("JSON.parse"), serde);
        assert_eq!(parse("12").expect("number"), json!(12));
        // JavaScript has one number type: a whole number written as 1e3 is an integer.
        assert_eq!(parse("1e3").expect("number").as_i64(), Some(1000));
        assert!(parse("{nope").is_err());
    }

    /// The readers agree with the derives in `domain::rows` on the same JSON.
    #[wasm_bindgen_test]
    fn rows_read_like_the_derives() {
        let task = json!({
            "id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11", "user_id": "0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b",
            "title": "Weekly report", "description": null, "type": "analytics_report",
            "status": "running", "priority": "high", "parameters": {"format": "csv"},
            "progress": 40, "result": null, "scheduled_at": null,
            "started_at": "2024-04-01T06:00:01.5+00:00",
            "created_at": "2024-04-01T06:00:00Z", "updated_at": "2024-04-01T06:00:02Z",
            "attempts": 1, "max_attempts": 3, "recurrence": "0 6 * * 1"
        });
        let derived: Task = serde_json::from_value(task.clone()).expect("derive");
        assert_eq!(one::<Task>(&task).expect("reader"), derived);
        let list = json!([task.clone(), task]);
        assert_eq!(many::<Task>(&list).expect("list").len(), 2);

        let mut broken = json!({ "id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11" });
        let error = one::<Task>(&broken).expect_err("incomplete");
        assert_eq!(error.to_string(), unreadable("user_id").to_string());
        broken["user_id"] = json!("not a uuid");
        assert!(one::<Task>(&broken).is_err());

        let log = json!({
            "id": 7, "execution_id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11",
            "task_id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11", "level": "warn",
            "message": "slow", "context": {"ms": 900}, "created_at": "2024-04-01T06:00:00Z"
        });
        let derived: ExecutionLog = serde_json::from_value(log.clone()).expect("derive");
        assert_eq!(one::<ExecutionLog>(&log).expect("reader"), derived);

        let report = json!({
            "id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11", "task_id": null,
            "user_id": "0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b", "title": "Q1", "format": "pdf",
            "date_range_start": "2024-01-01", "date_range_end": "2024-03-31",
            "metrics": ["revenue", "orders"], "storage_path": "u/q1.pdf", "size_bytes": 2048,
            "created_at": "2024-04-01T06:00:00Z"
        });
        let derived: AnalyticsReport = serde_json::from_value(report.clone()).expect("derive");
        assert_eq!(one::<AnalyticsReport>(&report).expect("reader"), derived);

        let audit = json!({
            "id": 3, "actor_id": "0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b", "subject_user_id": null,
            "action": "UPDATE", "table_name": "profiles", "record_id": "x",
            "old_data": {"role": "guest"}, "new_data": {"role": "admin"},
            "ip_address": "127.0.0.1", "created_at": "2024-04-01T06:00:00Z"
        });
        let derived: AuditLog = serde_json::from_value(audit.clone()).expect("derive");
        assert_eq!(one::<AuditLog>(&audit).expect("reader"), derived);

        let profile = json!({
            "id": "0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b", "email": "ada@example.com",
            "name": "Ada", "role": "admin", "avatar_url": null, "preferences": {"theme": "dark"},
            "is_active": true, "last_login": null,
            "created_at": "2024-04-01T06:00:00Z", "updated_at": "2024-04-01T06:00:00Z"
        });
        let derived: Profile = serde_json::from_value(profile.clone()).expect("derive");
        assert_eq!(one::<Profile>(&profile).expect("reader"), derived);

        let worker = json!({
            "id": "w1", "hostname": "h", "version": "0.1.0",
            "started_at": "2024-04-01T06:00:00Z", "last_heartbeat_at": "2024-04-01T06:00:30Z",
            "running_count": 2, "status": "running"
        });
        let derived: WorkerHeartbeat = serde_json::from_value(worker.clone()).expect("derive");
        assert_eq!(one::<WorkerHeartbeat>(&worker).expect("reader"), derived);

        let execution = json!({
            "id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11", "task_id": "8c7d2a0e-6f1b-4f57-9a55-2f3c7b0e9d11",
            "attempt": 1, "worker_id": "w1", "status": "failed",
            "started_at": "2024-04-01T06:00:00Z", "completed_at": "2024-04-01T06:00:01Z",
            "duration_ms": 1000, "error_message": "boom"
        });
        let derived: TaskExecution = serde_json::from_value(execution.clone()).expect("derive");
        assert_eq!(one::<TaskExecution>(&execution).expect("reader"), derived);

        let result = json!({
            "metrics": {
                "revenue": {"total": 12.5, "trend": "up", "change": 4.2,
                    "dataPoints": [{"date": "2024-04-01", "value": 12.5}]},
                "orders": {"total": 0, "trend": "flat", "change": 0}
            },
            "generatedAt": "2024-04-01T06:00:00Z"
        });
        let derived: AnalyticsResult = serde_json::from_value(result.clone()).expect("derive");
        assert_eq!(one::<AnalyticsResult>(&result).expect("reader"), derived);
    }
}
