//! The parameters of each task type, parsed into types that can only hold valid values.
//!
//! Parameters travel as JSON in camelCase (the `tasks.parameters` column). Parsing checks
//! each field by hand so every error names the field and says what is expected; the
//! database checks the same rules with the same messages.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::json::{member, object, one_of, path, quote, reject_unknown_fields};
use crate::{DomainError, ExportDataset, ExportFormat, HttpMethod, Metric, ReportFormat, TaskType};

/// The message for anything that is not an object where the parameters should be.
const PARAMETERS_MUST_BE_AN_OBJECT: &str = "must be an object";

// ---------------------------------------------------------------------------------------
// Date ranges
// ---------------------------------------------------------------------------------------

/// An inclusive range of calendar days, `{"start": "2024-01-01", "end": "2024-03-31"}`.
///
/// Valid when `start <= end` and it covers at most [`DateRange::MAX_DAYS`] days (a leap
/// year), counting both ends: in SQL, `end - start <= 365`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct DateRange {
    /// The first day.
    pub start: NaiveDate,
    /// The last day, included.
    pub end: NaiveDate,
}

impl DateRange {
    /// The most days a range may cover, counting both ends.
    pub const MAX_DAYS: i64 = 366;

    /// A checked range, with errors about the field `dateRange`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DomainError> {
        let range = Self { start, end };
        range.validate_at("dateRange")?;
        Ok(range)
    }

    /// The `days` days ending with `today` (at least one day).
    pub fn last_days(today: NaiveDate, days: u32) -> Self {
        let back = chrono::Days::new(u64::from(days.max(1) - 1));
        Self {
            start: today.checked_sub_days(back).unwrap_or(NaiveDate::MIN),
            end: today,
        }
    }

    /// How many days the range covers, counting both ends (0 or less when reversed).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// The range of the same length just before this one, which trends compare against.
    pub fn previous(&self) -> Self {
        let length = chrono::Days::new(u64::try_from(self.days()).unwrap_or(0));
        Self {
            start: self
                .start
                .checked_sub_days(length)
                .unwrap_or(NaiveDate::MIN),
            end: self.start.pred_opt().unwrap_or(NaiveDate::MIN),
        }
    }

    /// Checks order and length, naming the range `field` in errors.
    ///
    /// Errors: `{field}.start must not be after {field}.end`,
    /// `{field} may span at most 366 days`.
    pub fn validate_at(&self, field: &str) -> Result<(), DomainError> {
        if self.start > self.end {
            return Err(DomainError::invalid(
                path(field, "start"),
                format!("must not be after {field}.end"),
            ));
        }
        if self.days() > Self::MAX_DAYS {
            return Err(DomainError::invalid(
                field,
                format!("may span at most {} days", Self::MAX_DAYS),
            ));
        }
        Ok(())
    }

    /// Parses and checks the range at `field`.
    ///
    /// Errors, besides those of [`DateRange::validate_at`]: `{field} is required`,
    /// `{field} must be an object with a start and an end date`, `unknown field
    /// "{field}.x"`, `{field}.start is required`, `{field}.start must be a date
    /// (YYYY-MM-DD)` (and the same for `end`).
    pub fn parse_at(value: Option<&Value>, field: &str) -> Result<Self, DomainError> {
        let value = value.ok_or_else(|| DomainError::invalid(field, "is required"))?;
        let map = object(
            value,
            field,
            "must be an object with a start and an end date",
        )?;
        reject_unknown_fields(map, &["start", "end"], field)?;
        let range = Self {
            start: parse_date(member(map, "start"), &path(field, "start"))?,
            end: parse_date(member(map, "end"), &path(field, "end"))?,
        };
        range.validate_at(field)?;
        Ok(range)
    }

    fn to_json(self) -> Value {
        let mut map = Map::new();
        map.insert("start".into(), Value::String(format_date(self.start)));
        map.insert("end".into(), Value::String(format_date(self.end)));
        Value::Object(map)
    }
}

impl TryFrom<Value> for DateRange {
    type Error = DomainError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::parse_at(Some(&value), "dateRange")
    }
}

/// A date written exactly as `YYYY-MM-DD`.
fn parse_date(value: Option<&Value>, field: &str) -> Result<NaiveDate, DomainError> {
    let value = value.ok_or_else(|| DomainError::invalid(field, "is required"))?;
    value
        .as_str()
        .filter(|text| {
            let bytes = text.as_bytes();
            bytes.len() == 10
                && bytes[4] == b'-'
                && bytes[7] == b'-'
                && bytes
                    .iter()
                    .enumerate()
                    .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
        })
        .and_then(|text| {
            // Digits checked above; no need for chrono's general parser (smaller wasm).
            let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
            NaiveDate::from_ymd_opt(
                i32::try_from(number(0..4)?).ok()?,
                number(5..7)?,
                number(8..10)?,
            )
        })
        .ok_or_else(|| DomainError::invalid(field, "must be a date (YYYY-MM-DD)"))
}

fn format_date(date: NaiveDate) -> String {
    // `Display` of a date is `%Y-%m-%d`, without chrono's format-string machinery.
    date.to_string()
}

// ---------------------------------------------------------------------------------------
// Parameters per task type
// ---------------------------------------------------------------------------------------

/// Implements `Serialize` through `to_json()` and `Deserialize` through `parse()`, so the
/// JSON form has one definition and deserializing applies every rule.
macro_rules! json_params {
    ($($name:ident),+) => {$(
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_json().serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                Self::parse(&value).map_err(serde::de::Error::custom)
            }
        }

        impl TryFrom<&Value> for $name {
            type Error = DomainError;

            fn try_from(value: &Value) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }
    )+};
}

/// The root object of a parameters value.
fn parameters_object(value: &Value) -> Result<&Map<String, Value>, DomainError> {
    object(value, "parameters", PARAMETERS_MUST_BE_AN_OBJECT)
}

/// Parameters of an `analytics_report` task:
/// `{"dateRange":{"start":"2024-01-01","end":"2024-03-31"},"metrics":["revenue","users"],"format":"pdf"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsReportParams {
    /// The days to measure.
    pub date_range: DateRange,
    /// What to measure: at least one, each once.
    pub metrics: Vec<Metric>,
    /// The file to produce.
    pub format: ReportFormat,
}

impl AnalyticsReportParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] = &["dateRange", "metrics", "format"];

    /// Parses and checks the parameters.
    ///
    /// Errors: see [`DateRange::parse_at`] (with `dateRange`), `metrics must list at least
    /// one metric`, `metrics must be a list, like ["revenue", "users"]`, `metrics has an
    /// unknown metric "foo": expected one of revenue, users, conversion, orders, visits`,
    /// `metrics lists "revenue" twice`, `format must be one of json, csv, xlsx, pdf`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let params = Self {
            date_range: DateRange::parse_at(member(map, "dateRange"), "dateRange")?,
            metrics: parse_metrics(member(map, "metrics"))?,
            format: one_of(member(map, "format"), "format", ReportFormat::VALUES)?,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the rules that the types alone do not: the date range, and metrics listed
    /// at least once and at most once.
    pub fn validate(&self) -> Result<(), DomainError> {
        self.date_range.validate_at("dateRange")?;
        if self.metrics.is_empty() {
            return Err(DomainError::invalid(
                "metrics",
                "must list at least one metric",
            ));
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            if self.metrics[..i].contains(metric) {
                return Err(DomainError::invalid(
                    "metrics",
                    format!("lists \"{metric}\" twice"),
                ));
            }
        }
        Ok(())
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("dateRange".into(), self.date_range.to_json());
        map.insert(
            "metrics".into(),
            Value::Array(
                self.metrics
                    .iter()
                    .map(|metric| Value::String(metric.as_str().to_owned()))
                    .collect(),
            ),
        );
        map.insert("format".into(), Value::String(self.format.as_str().into()));
        Value::Object(map)
    }
}

fn parse_metrics(value: Option<&Value>) -> Result<Vec<Metric>, DomainError> {
    let Some(value) = value else {
        return Err(DomainError::invalid(
            "metrics",
            "must list at least one metric",
        ));
    };
    let items = value.as_array().ok_or_else(|| {
        DomainError::invalid("metrics", "must be a list, like [\"revenue\", \"users\"]")
    })?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .and_then(|text| text.parse::<Metric>().ok())
                .ok_or_else(|| {
                    DomainError::invalid(
                        "metrics",
                        format!(
                            "has an unknown metric {}: expected one of {}",
                            quote(item),
                            Metric::VALUES.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

/// Parameters of an `http_request` task:
/// `{"method":"POST","url":"https://…","headers":{…}?,"body":…?,"timeoutSecs":10?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestParams {
    /// The request method.
    pub method: HttpMethod,
    /// An absolute `http://` or `https://` URL with a host, at most 2048 characters.
    pub url: String,
    /// Extra request headers: token names, single-line values.
    pub headers: Option<BTreeMap<String, String>>,
    /// The body: a JSON string is sent as is, any other JSON value as JSON.
    /// Not allowed with GET or HEAD.
    pub body: Option<Value>,
    /// Seconds before the request is abandoned, 1 to 60 (default 30).
    pub timeout_secs: Option<u32>,
}

/// How an [`HttpRequestParams`] body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody<'a> {
    /// A JSON string: sent as is (`text/plain; charset=utf-8` unless a `Content-Type`
    /// header says otherwise).
    Text(&'a str),
    /// Any other JSON value: sent serialized, as `application/json`.
    Json(&'a Value),
}

impl HttpRequestParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] =
        &["method", "url", "headers", "body", "timeoutSecs"];
    /// The longest URL, in characters.
    pub const MAX_URL_CHARS: usize = 2048;
    /// The timeout when none is given.
    pub const DEFAULT_TIMEOUT_SECS: u32 = 30;
    /// The longest timeout that may be asked for.
    pub const MAX_TIMEOUT_SECS: u32 = 60;

    /// Parses and checks the parameters.
    ///
    /// Errors: `method must be one of GET, POST, PUT, PATCH, DELETE, HEAD`, `url is
    /// required`, `url must be an absolute http:// or https:// URL`, `url must be at most
    /// 2048 characters`, `headers must be an object of header names and values`, `headers
    /// has an invalid header name "X Y"`, `headers.X-Y must be a single line of text`,
    /// `timeoutSecs must be between 1 and 60`, `body is not allowed with GET or HEAD`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let method = one_of(member(map, "method"), "method", HttpMethod::VALUES)?;
        let url = match member(map, "url") {
            None => return Err(DomainError::invalid("url", "is required")),
            Some(Value::String(url)) => url.trim().to_owned(),
            Some(_) => return Err(url_error()),
        };
        let headers = match member(map, "headers") {
            None => None,
            Some(value) => {
                let map = object(
                    value,
                    "headers",
                    "must be an object of header names and values",
                )?;
                let mut headers = BTreeMap::new();
                for (name, value) in map {
                    check_header_name(name)?;
                    let value = value.as_str().ok_or_else(|| header_value_error(name))?;
                    headers.insert(name.clone(), value.to_owned());
                }
                Some(headers)
            }
        };
        let timeout_secs = match member(map, "timeoutSecs") {
            None => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|secs| u32::try_from(secs).ok())
                    .ok_or_else(timeout_error)?,
            ),
        };
        let params = Self {
            method,
            url,
            headers,
            body: member(map, "body").cloned(),
            timeout_secs,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the URL, headers, timeout and body rules.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.url.is_empty() {
            return Err(DomainError::invalid("url", "is required"));
        }
        if self.url.chars().count() > Self::MAX_URL_CHARS {
            return Err(DomainError::invalid(
                "url",
                format!("must be at most {} characters", Self::MAX_URL_CHARS),
            ));
        }
        if !is_http_url(&self.url) {
            return Err(url_error());
        }
        for (name, value) in self.headers.iter().flatten() {
            check_header_name(name)?;
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(header_value_error(name));
            }
        }
        if let Some(secs) = self.timeout_secs {
            if !(1..=Self::MAX_TIMEOUT_SECS).contains(&secs) {
                return Err(timeout_error());
            }
        }
        if self.body.as_ref().is_some_and(|body| !body.is_null()) && !self.method.allows_body() {
            return Err(DomainError::invalid(
                "body",
                "is not allowed with GET or HEAD",
            ));
        }
        Ok(())
    }

    /// How long to wait for the response: `timeoutSecs`, or 30 seconds.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(
            self.timeout_secs.unwrap_or(Self::DEFAULT_TIMEOUT_SECS),
        ))
    }

    /// The body to send, if any.
    pub fn request_body(&self) -> Option<RequestBody<'_>> {
        match self.body.as_ref()? {
            Value::Null => None,
            Value::String(text) => Some(RequestBody::Text(text)),
            value => Some(RequestBody::Json(value)),
        }
    }

    /// The JSON form; absent optional fields are left out.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("method".into(), Value::String(self.method.as_str().into()));
        map.insert("url".into(), Value::String(self.url.clone()));
        if let Some(headers) = &self.headers {
            // Inserted one by one: collecting into the map would sort the pairs first,
            // which brings a whole sort routine into the wasm for nothing.
            let mut object = Map::new();
            for (name, value) in headers {
                object.insert(name.clone(), Value::String(value.clone()));
            }
            map.insert("headers".into(), Value::Object(object));
        }
        if let Some(body) = self.body.as_ref().filter(|body| !body.is_null()) {
            map.insert("body".into(), body.clone());
        }
        if let Some(secs) = self.timeout_secs {
            map.insert("timeoutSecs".into(), Value::from(secs));
        }
        Value::Object(map)
    }
}

fn url_error() -> DomainError {
    DomainError::invalid("url", "must be an absolute http:// or https:// URL")
}

fn timeout_error() -> DomainError {
    DomainError::invalid(
        "timeoutSecs",
        format!(
            "must be between 1 and {}",
            HttpRequestParams::MAX_TIMEOUT_SECS
        ),
    )
}

fn header_value_error(name: &str) -> DomainError {
    DomainError::invalid(path("headers", name), "must be a single line of text")
}

/// A header name is a non-empty RFC 9110 token.
fn check_header_name(name: &str) -> Result<(), DomainError> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(DomainError::invalid(
            "headers",
            format!("has an invalid header name {}", quote(&Value::from(name))),
        ));
    }
    Ok(())
}

/// `http://` or `https://` (any case), then a host (optionally with user info and a
/// numeric port), no whitespace or control characters anywhere.
fn is_http_url(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    let (host_ok, port) = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let address_ok = !address.is_empty()
            && address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (address_ok, port)
    } else {
        let (host, port) = match host_and_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_and_port, None),
        };
        let host_ok = !host.is_empty()
            && !host.starts_with('.')
            && !host.contains("..")
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%'));
        (host_ok, port)
    };
    let port_ok = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|port| port > 0));
    host_ok && port_ok
}

/// Parameters of a `data_export` task: `{"dataset":"events","format":"csv","dateRange":{…}?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataExportParams {
    /// What to export.
    pub dataset: ExportDataset,
    /// The file to produce.
    pub format: ExportFormat,
    /// Only rows from these days (by `created_at` for tasks, `occurred_at` for events);
    /// everything when absent.
    pub date_range: Option<DateRange>,
}

impl DataExportParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] = &["dataset", "format", "dateRange"];

    /// Parses and checks the parameters.
    ///
    /// Errors: `dataset must be one of tasks, events`, `format must be one of csv, json`,
    /// and those of [`DateRange::parse_at`] when `dateRange` is given.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let params = Self {
            dataset: one_of(member(map, "dataset"), "dataset", ExportDataset::VALUES)?,
            format: one_of(member(map, "format"), "format", ExportFormat::VALUES)?,
            date_range: member(map, "dateRange")
                .map(|value| DateRange::parse_at(Some(value), "dateRange"))
                .transpose()?,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the date range, if any.
    pub fn validate(&self) -> Result<(), DomainError> {
        match &self.date_range {
            Some(range) => range.validate_at("dateRange"),
            None => Ok(()),
        }
    }

    /// The JSON form; `dateRange` is left out when absent.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "dataset".into(),
            Value::String(self.dataset.as_str().into()),
        );
        map.insert("format".into(), Value::String(self.format.as_str().into()));
        if let Some(range) = self.date_range {
            map.insert("dateRange".into(), range.to_json());
        }
        Value::Object(map)
    }
}

/// Parameters of a `data_import` task: `{"path":"<user id>/events.csv"}`, the object path
/// of a CSV file in the Storage bucket [`DataImportParams::BUCKET`].
///
/// The file starts with a header row naming [`DataImportParams::CSV_COLUMNS`]; each row
/// becomes one `business_events` row of the task's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataImportParams {
    /// The object path inside the bucket, e.g. `3f6c…/events.csv`.
    pub path: String,
}

impl DataImportParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] = &["path"];
    /// The Storage bucket files are imported from.
    pub const BUCKET: &'static str = "imports";
    /// The expected CSV header: the event type (`order`, `signup`, `visit`,
    /// `conversion`), the amount (a decimal number) and when it happened (an RFC 3339
    /// timestamp or a `YYYY-MM-DD` date).
    pub const CSV_COLUMNS: &'static [&'static str] = &["event_type", "amount", "occurred_at"];
    /// The longest path, in characters.
    pub const MAX_PATH_CHARS: usize = 512;

    /// Parses and checks the parameters.
    ///
    /// Errors: `path is required`, `path must be a .csv file in the imports bucket, like
    /// <your user id>/events.csv`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let path = match member(map, "path") {
            None => return Err(DomainError::invalid("path", "is required")),
            Some(Value::String(path)) => path.clone(),
            Some(_) => return Err(import_path_error()),
        };
        let params = Self { path };
        params.validate()?;
        Ok(params)
    }

    /// The parameters to import `file_name` from the user's own folder.
    pub fn for_user(user_id: Uuid, file_name: &str) -> Result<Self, DomainError> {
        let params = Self {
            path: format!("{user_id}/{file_name}"),
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the path: at most 512 characters, relative, no empty, `.` or `..`
    /// segments, no backslashes or control characters, and a file name ending in
    /// `.csv` (any case) with something before it.
    pub fn validate(&self) -> Result<(), DomainError> {
        let path = self.path.as_str();
        if path.is_empty() {
            return Err(DomainError::invalid("path", "is required"));
        }
        let segments_ok = path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
        let file_name = path.rsplit('/').next().unwrap_or_default();
        let is_csv = file_name.len() > 4
            && file_name
                .get(file_name.len() - 4..)
                .is_some_and(|extension| extension.eq_ignore_ascii_case(".csv"));
        if path.chars().count() > Self::MAX_PATH_CHARS
            || !segments_ok
            || !is_csv
            || path.chars().any(|c| c == '\\' || c.is_control())
        {
            return Err(import_path_error());
        }
        Ok(())
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("path".into(), Value::String(self.path.clone()));
        Value::Object(map)
    }
}

fn import_path_error() -> DomainError {
    DomainError::invalid(
        "path",
        "must be a .csv file in the imports bucket, like <your user id>/events.csv",
    )
}

/// Parameters of a `cleanup` task: `{"retentionDays":30}` (optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupParams {
    /// Keep execution logs younger than this many days, 1 to 3650 (default 30).
    pub retention_days: Option<u32>,
}

impl CleanupParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] = &["retentionDays"];
    /// The retention when none is given.
    pub const DEFAULT_RETENTION_DAYS: u32 = 30;
    /// The longest retention that may be asked for (about ten years).
    pub const MAX_RETENTION_DAYS: u32 = 3650;

    /// Parses and checks the parameters.
    ///
    /// Error: `retentionDays must be between 1 and 3650`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let retention_days = match member(map, "retentionDays") {
            None => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|days| u32::try_from(days).ok())
                    .ok_or_else(retention_error)?,
            ),
        };
        let params = Self { retention_days };
        params.validate()?;
        Ok(params)
    }

    /// Checks the retention.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.retention_days {
            Some(days) if !(1..=Self::MAX_RETENTION_DAYS).contains(&days) => Err(retention_error()),
            _ => Ok(()),
        }
    }

    /// The retention to apply: `retentionDays`, or 30.
    pub fn retention_days_or_default(&self) -> u32 {
        self.retention_days.unwrap_or(Self::DEFAULT_RETENTION_DAYS)
    }

    /// The JSON form; `retentionDays` is left out when absent.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(days) = self.retention_days {
            map.insert("retentionDays".into(), Value::from(days));
        }
        Value::Object(map)
    }
}

fn retention_error() -> DomainError {
    DomainError::invalid(
        "retentionDays",
        format!(
            "must be between 1 and {}",
            CleanupParams::MAX_RETENTION_DAYS
        ),
    )
}

json_params!(
    AnalyticsReportParams,
    HttpRequestParams,
    DataExportParams,
    DataImportParams,
    CleanupParams
);

/// The parameters of a task, typed by its [`TaskType`].
///
/// Serializes as the bare parameters object (the `tasks.parameters` column); the type is
/// stored beside it, so deserialize with [`TaskParameters::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TaskParameters {
    /// For [`TaskType::AnalyticsReport`].
    AnalyticsReport(AnalyticsReportParams),
    /// For [`TaskType::DataExport`].
    DataExport(DataExportParams),
    /// For [`TaskType::DataImport`].
    DataImport(DataImportParams),
    /// For [`TaskType::HttpRequest`].
    HttpRequest(HttpRequestParams),
    /// For [`TaskType::Cleanup`].
    Cleanup(CleanupParams),
}

impl TaskParameters {
    /// Parses `value` as the parameters of `task_type`, with messages naming the field
    /// at fault (see each `*Params::parse`). Besides those: `parameters must be an
    /// object`, `unknown field "x"`.
    pub fn parse(task_type: TaskType, value: &Value) -> Result<Self, DomainError> {
        Ok(match task_type {
            TaskType::AnalyticsReport => {
                Self::AnalyticsReport(AnalyticsReportParams::parse(value)?)
            }
            TaskType::DataExport => Self::DataExport(DataExportParams::parse(value)?),
            TaskType::DataImport => Self::DataImport(DataImportParams::parse(value)?),
            TaskType::HttpRequest => Self::HttpRequest(HttpRequestParams::parse(value)?),
            TaskType::Cleanup => Self::Cleanup(CleanupParams::parse(value)?),
        })
    }

    /// The task type these parameters belong to.
    pub const fn task_type(&self) -> TaskType {
        match self {
            Self::AnalyticsReport(_) => TaskType::AnalyticsReport,
            Self::DataExport(_) => TaskType::DataExport,
            Self::DataImport(_) => TaskType::DataImport,
            Self::HttpRequest(_) => TaskType::HttpRequest,
            Self::Cleanup(_) => TaskType::Cleanup,
        }
    }

    /// Checks the rules of the parameters (for values built in code rather than parsed).
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            Self::AnalyticsReport(params) => params.validate(),
            Self::DataExport(params) => params.validate(),
            Self::DataImport(params) => params.validate(),
            Self::HttpRequest(params) => params.validate(),
            Self::Cleanup(params) => params.validate(),
        }
    }

    /// The JSON form, as stored in `tasks.parameters`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::AnalyticsReport(params) => params.to_json(),
            Self::DataExport(params) => params.to_json(),
            Self::DataImport(params) => params.to_json(),
            Self::HttpRequest(params) => params.to_json(),
            Self::Cleanup(params) => params.to_json(),
        }
    }
}

impl From<AnalyticsReportParams> for TaskParameters {
    fn from(params: AnalyticsReportParams) -> Self {
        Self::AnalyticsReport(params)
    }
}

impl From<DataExportParams> for TaskParameters {
    fn from(params: DataExportParams) -> Self {
        Self::DataExport(params)
    }
}

impl From<DataImportParams> for TaskParameters {
    fn from(params: DataImportParams) -> Self {
        Self::DataImport(params)
    }
}

impl From<HttpRequestParams> for TaskParameters {
    fn from(params: HttpRequestParams) -> Self {
        Self::HttpRequest(params)
    }
}

impl From<CleanupParams> for TaskParameters {
    fn from(params: CleanupParams) -> Self {
        Self::Cleanup(params)
    }
}

impl TaskType {
    /// Valid example parameters, to start the creation wizard with.
    ///
    /// The data import's path holds the placeholder folder `your-user-id`: build the
    /// real one with [`DataImportParams::for_user`].
    pub fn default_parameters(self) -> TaskParameters {
        match self {
            Self::AnalyticsReport => TaskParameters::AnalyticsReport(AnalyticsReportParams {
                date_range: DateRange {
                    start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN),
                    end: NaiveDate::from_ymd_opt(2024, 3, 31).unwrap_or(NaiveDate::MIN),
                },
                metrics: vec![Metric::Revenue, Metric::Users],
                format: ReportFormat::Pdf,
            }),
            Self::DataExport => TaskParameters::DataExport(DataExportParams {
                dataset: ExportDataset::Tasks,
                format: ExportFormat::Csv,
                date_range: None,
            }),
            Self::DataImport => TaskParameters::DataImport(DataImportParams {
                path: "your-user-id/events.csv".to_owned(),
            }),
            Self::HttpRequest => TaskParameters::HttpRequest(HttpRequestParams {
                method: HttpMethod::Get,
                url: "https://example.com/".to_owned(),
                headers: None,
                body: None,
                timeout_secs: None,
            }),
            Self::Cleanup => TaskParameters::Cleanup(CleanupParams {
                retention_days: Some(CleanupParams::DEFAULT_RETENTION_DAYS),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde_json::json;

    use super::*;

    fn message(result: Result<impl fmt::Debug, DomainError>) -> String {
        result.expect_err("should be rejected").to_string()
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
    }

    // --- date ranges ----------------------------------------------------------------------

    #[test]
    fn date_range_rules() {
        assert_eq!(
            message(DateRange::new(date(2024, 2, 1), date(2024, 1, 1))),
            "dateRange.start must not be after dateRange.end"
        );
        // A leap year is 366 days: allowed; one day more is not.
        assert!(DateRange::new(date(2024, 1, 1), date(2024, 12, 31)).is_ok());
        assert_eq!(
            message(DateRange::new(date(2024, 1, 1), date(2025, 1, 1))),
            "dateRange may span at most 366 days"
        );
        assert!(DateRange::new(date(2024, 1, 1), date(2024, 1, 1)).is_ok());
    }

    #[test]
    fn date_range_helpers() {
        let range = DateRange::last_days(date(2024, 3, 31), 31);
        assert_eq!(range.start, date(2024, 3, 1));
        assert_eq!(range.days(), 31);
        let previous = range.previous();
        assert_eq!(previous.start, date(2024, 1, 30));
        assert_eq!(previous.end, date(2024, 2, 29));
        assert_eq!(previous.days(), 31);
        assert_eq!(DateRange::last_days(date(2024, 3, 31), 0).days(), 1);
    }

    // --- analytics report -----------------------------------------------------------------

    fn report(value: Value) -> Result<AnalyticsReportParams, DomainError> {
        AnalyticsReportParams::parse(&value)
    }

    fn valid_report() -> Value {
        json!({
            "dateRange": {"start": "2024-01-01", "end": "2024-03-31"},
            "metrics": ["revenue", "users"],
            "format": "pdf"
        })
    }

    fn with(mut value: Value, pointer: &str, replacement: Value) -> Value {
        if let Some(slot) = value.pointer_mut(pointer) {
            *slot = replacement;
        }
        value
    }

    fn without(mut value: Value, key: &str) -> Value {
        if let Some(map) = value.as_object_mut() {
            map.remove(key);
        }
        value
    }

    #[test]
    fn analytics_example_parses_and_round_trips() {
        let text = r#"{"dateRange":{"start":"2024-01-01","end":"2024-03-31"},"metrics":["revenue","users"],"format":"pdf"}"#;
        let params: AnalyticsReportParams = serde_json::from_str(text).expect("the example");
        assert_eq!(
            params,
            AnalyticsReportParams {
                date_range: DateRange {
                    start: date(2024, 1, 1),
                    end: date(2024, 3, 31)
                },
                metrics: vec![Metric::Revenue, Metric::Users],
                format: ReportFormat::Pdf,
            }
        );
        assert_eq!(params.to_json(), valid_report());
        let text = serde_json::to_string(&params).expect("serializes");
        let back: AnalyticsReportParams = serde_json::from_str(&text).expect("round-trips");
        assert_eq!(back, params);
    }

    #[test]
    fn analytics_parameters_must_be_an_object() {
        assert_eq!(message(report(json!([]))), "parameters must be an object");
        assert_eq!(message(report(Value::Null)), "parameters must be an object");
    }

    #[test]
    fn analytics_rejects_unknown_fields() {
        let mut value = valid_report();
        if let Some(map) = value.as_object_mut() {
            map.insert("extra".into(), json!(1));
        }
        assert_eq!(message(report(value)), "unknown field \"extra\"");
        let value = with(
            valid_report(),
            "/dateRange",
            json!({"start": "2024-01-01", "end": "2024-01-02", "begin": "x"}),
        );
        assert_eq!(message(report(value)), "unknown field \"dateRange.begin\"");
    }

    #[test]
    fn analytics_date_range_messages() {
        assert_eq!(
            message(report(without(valid_report(), "dateRange"))),
            "dateRange is required"
        );
        assert_eq!(
            message(report(with(valid_report(), "/dateRange", json!("2024")))),
            "dateRange must be an object with a start and an end date"
        );
        assert_eq!(
            message(report(with(
                valid_report(),
                "/dateRange",
                json!({"end": "2024-01-02"})
            ))),
            "dateRange.start is required"
        );
        assert_eq!(
            message(report(with(
                valid_report(),
                "/dateRange",
                json!({"start": "2024-01-02"})
            ))),
            "dateRange.end is required"
        );
        for bad in [
            json!("01/02/2024"),
            json!("2024-1-2"),
            json!("2024-02-30"),
            json!("2024-01-01T00:00:00Z"),
            json!(20240101),
        ] {
            assert_eq!(
                message(report(with(valid_report(), "/dateRange/start", bad))),
                "dateRange.start must be a date (YYYY-MM-DD)"
            );
        }
        assert_eq!(
            message(report(with(
                valid_report(),
                "/dateRange/end",
                json!("soon")
            ))),
            "dateRange.end must be a date (YYYY-MM-DD)"
        );
        assert_eq!(
            message(report(with(
                valid_report(),
                "/dateRange",
                json!({"start": "2024-03-01", "end": "2024-02-01"})
            ))),
            "dateRange.start must not be after dateRange.end"
        );
        assert_eq!(
            message(report(with(
                valid_report(),
                "/dateRange",
                json!({"start": "2023-01-01", "end": "2024-01-02"})
            ))),
            "dateRange may span at most 366 days"
        );
    }

    #[test]
    fn analytics_metrics_messages() {
        assert_eq!(
            message(report(without(valid_report(), "metrics"))),
            "metrics must list at least one metric"
        );
        assert_eq!(
            message(report(with(valid_report(), "/metrics", json!([])))),
            "metrics must list at least one metric"
        );
        assert_eq!(
            message(report(with(valid_report(), "/metrics", json!("revenue")))),
            "metrics must be a list, like [\"revenue\", \"users\"]"
        );
        assert_eq!(
            message(report(with(valid_report(), "/metrics", json!(["revenue", "foo"])))),
            "metrics has an unknown metric \"foo\": expected one of revenue, users, conversion, orders, visits"
        );
        assert_eq!(
            message(report(with(valid_report(), "/metrics", json!([3])))),
            "metrics has an unknown metric 3: expected one of revenue, users, conversion, orders, visits"
        );
        assert_eq!(
            message(report(with(
                valid_report(),
                "/metrics",
                json!(["revenue", "users", "revenue"])
            ))),
            "metrics lists \"revenue\" twice"
        );
    }

    #[test]
    fn analytics_format_messages() {
        let expected = "format must be one of json, csv, xlsx, pdf";
        assert_eq!(message(report(without(valid_report(), "format"))), expected);
        assert_eq!(
            message(report(with(valid_report(), "/format", json!("docx")))),
            expected
        );
        assert_eq!(
            message(report(with(valid_report(), "/format", json!("PDF")))),
            expected
        );
        assert_eq!(
            message(report(with(valid_report(), "/format", Value::Null))),
            expected
        );
    }

    // --- http request ---------------------------------------------------------------------

    fn http(value: Value) -> Result<HttpRequestParams, DomainError> {
        HttpRequestParams::parse(&value)
    }

    #[test]
    fn http_request_round_trips() {
        let value = json!({
            "method": "POST",
            "url": "https://api.example.com/v1/hooks?x=1",
            "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
            "body": {"hello": "world"},
            "timeoutSecs": 10
        });
        let params = http(value.clone()).expect("valid");
        assert_eq!(params.method, HttpMethod::Post);
        assert_eq!(params.timeout(), Duration::from_secs(10));
        assert_eq!(
            params.request_body(),
            Some(RequestBody::Json(&json!({"hello": "world"})))
        );
        assert_eq!(params.to_json(), value);
        let back: HttpRequestParams =
            serde_json::from_value(serde_json::to_value(&params).expect("serializes"))
                .expect("deserializes");
        assert_eq!(back, params);
    }

    #[test]
    fn http_request_minimal_and_defaults() {
        let params = http(json!({"method": "GET", "url": "http://localhost:8080"})).expect("valid");
        assert_eq!(params.timeout(), Duration::from_secs(30));
        assert_eq!(params.request_body(), None);
        assert_eq!(
            params.to_json(),
            json!({"method": "GET", "url": "http://localhost:8080"})
        );
        let params = http(json!({
            "method": "PUT", "url": "https://example.com", "body": "plain text",
            "headers": null, "timeoutSecs": null
        }))
        .expect("valid");
        assert_eq!(params.request_body(), Some(RequestBody::Text("plain text")));
        assert_eq!(params.headers, None);
    }

    #[test]
    fn http_request_method_messages() {
        let expected = "method must be one of GET, POST, PUT, PATCH, DELETE, HEAD";
        assert_eq!(
            message(http(json!({"url": "https://example.com"}))),
            expected
        );
        assert_eq!(
            message(http(json!({"method": "get", "url": "https://example.com"}))),
            expected
        );
    }

    #[test]
    fn http_request_url_messages() {
        assert_eq!(message(http(json!({"method": "GET"}))), "url is required");
        assert_eq!(
            message(http(json!({"method": "GET", "url": "  "}))),
            "url is required"
        );
        let expected = "url must be an absolute http:// or https:// URL";
        for bad in [
            json!(42),
            json!("example.com"),
            json!("ftp://example.com/file"),
            json!("https://"),
            json!("https:///path"),
            json!("http://exa mple.com"),
            json!("https://example.com:99999/"),
            json!("https://example.com:/"),
            json!("https://user@/x"),
            json!("https://[::1/"),
            json!("javascript:alert(1)"),
            json!("https://.example.com"),
        ] {
            assert_eq!(
                message(http(json!({"method": "GET", "url": bad}))),
                expected,
                "{bad}"
            );
        }
        for good in [
            "https://example.com",
            "HTTPS://Example.com/a/b?c=d#e",
            "http://user:pw@example.com:8080/",
            "http://[::1]:3000/health",
            "http://127.0.0.1/",
            "https://bücher.example/",
        ] {
            assert!(
                http(json!({"method": "GET", "url": good})).is_ok(),
                "{good}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(
            message(http(json!({"method": "GET", "url": long}))),
            "url must be at most 2048 characters"
        );
    }

    #[test]
    fn http_request_header_messages() {
        let request = |headers: Value| {
            http(json!({"method": "GET", "url": "https://example.com", "headers": headers}))
        };
        assert_eq!(
            message(request(json!(["Accept: */*"]))),
            "headers must be an object of header names and values"
        );
        assert_eq!(
            message(request(json!({"X Bad": "1"}))),
            "headers has an invalid header name \"X Bad\""
        );
        assert_eq!(
            message(request(json!({"": "1"}))),
            "headers has an invalid header name \"\""
        );
        assert_eq!(
            message(request(json!({"X-Evil": "a\r\nSet-Cookie: x"}))),
            "headers.X-Evil must be a single line of text"
        );
        assert_eq!(
            message(request(json!({"X-Count": 3}))),
            "headers.X-Count must be a single line of text"
        );
        assert!(request(json!({"Accept": "*/*", "X-Tab": "a\tb"})).is_ok());
    }

    #[test]
    fn http_request_timeout_messages() {
        let expected = "timeoutSecs must be between 1 and 60";
        for bad in [
            json!(0),
            json!(61),
            json!(-1),
            json!(1.5),
            json!("10"),
            json!((1u64 << 40)),
        ] {
            assert_eq!(
                message(http(json!({
                    "method": "GET", "url": "https://example.com", "timeoutSecs": bad
                }))),
                expected
            );
        }
        for good in [1, 60] {
            assert!(http(json!({
                "method": "GET", "url": "https://example.com", "timeoutSecs": good
            }))
            .is_ok());
        }
    }

    #[test]
    fn http_request_body_is_not_allowed_with_get_or_head() {
        for method in ["GET", "HEAD"] {
            assert_eq!(
                message(http(json!({
                    "method": method, "url": "https://example.com", "body": {"a": 1}
                }))),
                "body is not allowed with GET or HEAD"
            );
        }
        assert!(http(json!({"method": "GET", "url": "https://example.com", "body": null})).is_ok());
        assert!(
            http(json!({"method": "DELETE", "url": "https://example.com", "body": [1]})).is_ok()
        );
    }

    #[test]
    fn http_request_rejects_unknown_fields() {
        assert_eq!(
            message(http(
                json!({"method": "GET", "url": "https://example.com", "timeout": 5})
            )),
            "unknown field \"timeout\""
        );
    }

    // --- data export ----------------------------------------------------------------------

    #[test]
    fn data_export_round_trips() {
        let value = json!({"dataset": "events", "format": "csv",
            "dateRange": {"start": "2024-01-01", "end": "2024-01-31"}});
        let params = DataExportParams::parse(&value).expect("valid");
        assert_eq!(params.dataset, ExportDataset::Events);
        assert_eq!(params.to_json(), value);
        let value = json!({"dataset": "tasks", "format": "json"});
        let params = DataExportParams::parse(&value).expect("valid");
        assert_eq!(params.date_range, None);
        assert_eq!(serde_json::to_value(&params).expect("serializes"), value);
    }

    #[test]
    fn data_export_messages() {
        let parse = |value: Value| DataExportParams::parse(&value);
        assert_eq!(
            message(parse(json!({"format": "csv"}))),
            "dataset must be one of tasks, events"
        );
        assert_eq!(
            message(parse(json!({"dataset": "tasks", "format": "xlsx"}))),
            "format must be one of csv, json"
        );
        assert_eq!(
            message(parse(json!({"dataset": "tasks", "format": "csv",
                "dateRange": {"start": "2024-02-01", "end": "2024-01-01"}}))),
            "dateRange.start must not be after dateRange.end"
        );
        assert_eq!(
            message(parse(
                json!({"dataset": "tasks", "format": "csv", "since": "x"})
            )),
            "unknown field \"since\""
        );
    }

    // --- data import ----------------------------------------------------------------------

    #[test]
    fn data_import_accepts_csv_paths() {
        for good in [
            "3f6c1a2e-0000-4000-8000-000000000000/events.csv",
            "user/2024/March.CSV",
            "events.csv",
        ] {
            let params = DataImportParams::parse(&json!({"path": good})).expect(good);
            assert_eq!(params.to_json(), json!({"path": good}));
        }
        let user = Uuid::nil();
        let params = DataImportParams::for_user(user, "events.csv").expect("valid");
        assert_eq!(params.path, format!("{user}/events.csv"));
        assert_eq!(
            DataImportParams::CSV_COLUMNS,
            ["event_type", "amount", "occurred_at"]
        );
    }

    #[test]
    fn data_import_messages() {
        assert_eq!(
            message(DataImportParams::parse(&json!({}))),
            "path is required"
        );
        assert_eq!(
            message(DataImportParams::parse(&json!({"path": ""}))),
            "path is required"
        );
        let expected =
            "path must be a .csv file in the imports bucket, like <your user id>/events.csv";
        let too_long = format!("{}/events.csv", "a".repeat(512));
        for bad in [
            json!(7),
            json!("user/events.txt"),
            json!("user/.csv"),
            json!("/user/events.csv"),
            json!("user//events.csv"),
            json!("user/../other/events.csv"),
            json!("./events.csv"),
            json!("user\\events.csv"),
            json!("user/events.csv/"),
            json!("user/ev\nents.csv"),
            json!(too_long),
        ] {
            assert_eq!(
                message(DataImportParams::parse(&json!({"path": bad}))),
                expected,
                "{bad}"
            );
        }
        assert_eq!(
            message(DataImportParams::parse(
                &json!({"path": "a.csv", "bucket": "x"})
            )),
            "unknown field \"bucket\""
        );
    }

    // --- cleanup --------------------------------------------------------------------------

    #[test]
    fn cleanup_round_trips() {
        let params = CleanupParams::parse(&json!({})).expect("valid");
        assert_eq!(params.retention_days_or_default(), 30);
        assert_eq!(params.to_json(), json!({}));
        let params = CleanupParams::parse(&json!({"retentionDays": 3650})).expect("valid");
        assert_eq!(params.retention_days_or_default(), 3650);
        assert_eq!(params.to_json(), json!({"retentionDays": 3650}));
    }

    #[test]
    fn cleanup_messages() {
        for bad in [json!(0), json!(3651), json!("30"), json!(-5)] {
            assert_eq!(
                message(CleanupParams::parse(&json!({"retentionDays": bad}))),
                "retentionDays must be between 1 and 3650"
            );
        }
        assert_eq!(
            message(CleanupParams::parse(&json!({"days": 3}))),
            "unknown field \"days\""
        );
    }

    // --- task parameters ------------------------------------------------------------------

    #[test]
    fn every_default_is_valid_and_round_trips() {
        for &task_type in TaskType::ALL {
            let params = task_type.default_parameters();
            assert_eq!(params.task_type(), task_type);
            params.validate().expect("default parameters are valid");
            let json = params.to_json();
            assert_eq!(serde_json::to_value(&params).expect("serializes"), json);
            let back = TaskParameters::parse(task_type, &json).expect("parses");
            assert_eq!(back, params);
        }
    }

    #[test]
    fn parameters_are_checked_against_their_type() {
        let report = TaskType::AnalyticsReport.default_parameters().to_json();
        assert_eq!(
            message(TaskParameters::parse(TaskType::HttpRequest, &report)),
            "unknown field \"dateRange\""
        );
        assert_eq!(
            message(TaskParameters::parse(TaskType::Cleanup, &json!("x"))),
            "parameters must be an object"
        );
    }
}
