//! The wizard's form as the user typed it ([`WizardForm`], text so nothing is lost), its
//! steps, the checks of each step with `domain/`'s parsers, and the task it builds. Pure:
//! tested without a browser page.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::params::{CleanupParams, HttpRequestParams};
use domain::{
    DomainError, ExportDataset, ExportFormat, HttpMethod, Metric, NewTask, Recurrence,
    ReportFormat, Task, TaskDescription, TaskParameters, TaskPriority, TaskTitle, TaskType,
};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::api::error::capitalize;
use crate::i18n::{errors, t, Msg};

/// The wizard's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// Choose the task type.
    Type,
    /// Title, description and the type's parameters.
    Details,
    /// When, how often, how urgent, how many attempts.
    Schedule,
    /// Check and create.
    Review,
}

impl Step {
    /// All steps in order.
    pub const ALL: [Self; 4] = [Self::Type, Self::Details, Self::Schedule, Self::Review];

    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Type => t(Msg::CommonType),
            Self::Details => t(Msg::WizardDetails),
            Self::Schedule => t(Msg::WizardSchedule),
            Self::Review => t(Msg::WizardReview),
        }
    }

    pub(super) fn next(self) -> Self {
        match self {
            Self::Type => Self::Details,
            Self::Details => Self::Schedule,
            _ => Self::Review,
        }
    }

    pub(super) fn previous(self) -> Self {
        match self {
            Self::Review => Self::Schedule,
            Self::Schedule => Self::Details,
            _ => Self::Type,
        }
    }
}

/// Everything the user typed, as text, so nothing is lost on an error.
#[derive(Debug, Clone, PartialEq)]
pub struct WizardForm {
    /// The type.
    pub task_type: TaskType,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Report / export range start (YYYY-MM-DD).
    pub start: String,
    /// Report / export range end.
    pub end: String,
    /// Report metrics.
    pub metrics: Vec<Metric>,
    /// Report format.
    pub report_format: String,
    /// Export dataset.
    pub dataset: String,
    /// Export format.
    pub export_format: String,
    /// Export only a date range.
    pub export_range: bool,
    /// Import: file name in the user's folder of the imports bucket.
    pub import_file: String,
    /// HTTP method.
    pub method: String,
    /// HTTP URL.
    pub url: String,
    /// HTTP headers, one `Name: value` a line.
    pub headers: String,
    /// HTTP body (JSON or text).
    pub body: String,
    /// HTTP timeout in seconds.
    pub timeout: String,
    /// Cleanup retention in days.
    pub retention_days: String,
    /// Run at (datetime-local, the browser's time zone); empty for now.
    pub run_at: String,
    /// Cron expression; empty for once.
    pub recurrence: String,
    /// Priority.
    pub priority: TaskPriority,
    /// Attempts before failing (1–10).
    pub max_attempts: String,
}

impl WizardForm {
    /// An empty form: an analytics report of the last 30 days.
    pub fn new(today: NaiveDate) -> Self {
        let start = today - Duration::days(29);
        Self {
            task_type: TaskType::AnalyticsReport,
            title: String::new(),
            description: String::new(),
            start: start.to_string(),
            end: today.to_string(),
            metrics: vec![Metric::Revenue, Metric::Users, Metric::Conversion],
            report_format: ReportFormat::Pdf.as_str().into(),
            dataset: ExportDataset::Events.as_str().into(),
            export_format: ExportFormat::Csv.as_str().into(),
            export_range: false,
            import_file: "events.csv".into(),
            method: HttpMethod::Get.as_str().into(),
            url: String::new(),
            headers: String::new(),
            body: String::new(),
            timeout: String::new(),
            retention_days: "30".into(),
            run_at: String::new(),
            recurrence: String::new(),
            priority: TaskPriority::Medium,
            max_attempts: "3".into(),
        }
    }

    /// A form filled from an existing task (clone).
    pub fn from_task(task: &Task, today: NaiveDate) -> Self {
        let mut form = Self::new(today);
        form.task_type = task.task_type;
        form.title = task.title.clone();
        form.description = task.description.clone().unwrap_or_default();
        form.priority = task.priority;
        form.max_attempts = task.max_attempts.to_string();
        form.recurrence = task.recurrence.clone().unwrap_or_default();
        let date = |d: NaiveDate| d.to_string();
        match task.typed_parameters() {
            Ok(TaskParameters::AnalyticsReport(p)) => {
                form.start = date(p.date_range.start);
                form.end = date(p.date_range.end);
                form.metrics = p.metrics;
                form.report_format = p.format.as_str().into();
            }
            Ok(TaskParameters::DataExport(p)) => {
                form.dataset = p.dataset.as_str().into();
                form.export_format = p.format.as_str().into();
                if let Some(range) = p.date_range {
                    form.export_range = true;
                    form.start = date(range.start);
                    form.end = date(range.end);
                }
            }
            Ok(TaskParameters::DataImport(p)) => {
                form.import_file = p
                    .path
                    .split_once('/')
                    .map_or(p.path.clone(), |(_, f)| f.to_owned());
            }
            Ok(TaskParameters::HttpRequest(p)) => {
                form.method = p.method.as_str().into();
                form.url = p.url;
                form.headers = p
                    .headers
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                form.body = match p.body {
                    Some(Value::String(text)) => text,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => serde_json::to_string_pretty(&other).unwrap_or_default(),
                };
                form.timeout = p.timeout_secs.map(|s| s.to_string()).unwrap_or_default();
            }
            Ok(TaskParameters::Cleanup(p)) => {
                form.retention_days = p.retention_days.map(|d| d.to_string()).unwrap_or_default();
            }
            Err(_) => {}
        }
        form
    }
}

/// Errors by form field (`title`, `url`, `start`, …; `general` for the rest).
pub type FieldErrors = BTreeMap<String, String>;

/// The form field a domain error is about, and the message to show under it.
pub fn field_error(error: &DomainError) -> (String, String) {
    let key = match error.field() {
        Some("dateRange.start") => "start",
        Some("dateRange.end") | Some("dateRange") => "end",
        Some("path") => "import_file",
        Some(field) if field.starts_with("headers") => "headers",
        Some(field) => field,
        None => "general",
    };
    let message = match error {
        DomainError::Invalid { rule, .. } if key != "general" => capitalize(&errors::rule(rule)),
        other => capitalize(&errors::domain_error(other)),
    };
    (key.to_owned(), message)
}

fn insert(errors: &mut FieldErrors, error: &DomainError) {
    let (key, message) = field_error(error);
    errors.entry(key).or_insert(message);
}

/// The parameters JSON the form describes (before the domain's checks).
pub fn parameters_json(form: &WizardForm, user_id: Uuid) -> Result<Value, DomainError> {
    let range = || json!({ "start": form.start.trim(), "end": form.end.trim() });
    Ok(match form.task_type {
        TaskType::AnalyticsReport => json!({
            "dateRange": range(),
            "metrics": form.metrics.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "format": form.report_format,
        }),
        TaskType::DataExport => {
            let mut map = Map::new();
            map.insert("dataset".into(), json!(form.dataset));
            map.insert("format".into(), json!(form.export_format));
            if form.export_range {
                map.insert("dateRange".into(), range());
            }
            Value::Object(map)
        }
        TaskType::DataImport => {
            let file = form.import_file.trim();
            let path = if file.is_empty() {
                String::new()
            } else {
                format!("{user_id}/{file}")
            };
            json!({ "path": path })
        }
        TaskType::HttpRequest => {
            let mut map = Map::new();
            map.insert("method".into(), json!(form.method));
            map.insert("url".into(), json!(form.url.trim()));
            let mut headers = Map::new();
            for line in form.headers.lines().filter(|l| !l.trim().is_empty()) {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| DomainError::invalid("headers", domain::Rule::HeaderLines))?;
                headers.insert(name.trim().to_owned(), json!(value.trim()));
            }
            if !headers.is_empty() {
                map.insert("headers".into(), Value::Object(headers));
            }
            let body = form.body.trim();
            if !body.is_empty() {
                let value = crate::api::decode::parse(body).unwrap_or_else(|_| json!(body));
                map.insert("body".into(), value);
            }
            let timeout = form.timeout.trim();
            if !timeout.is_empty() {
                let secs: u32 = timeout
                    .parse()
                    .map_err(|_| HttpRequestParams::timeout_error())?;
                map.insert("timeoutSecs".into(), json!(secs));
            }
            Value::Object(map)
        }
        TaskType::Cleanup => {
            let days = form.retention_days.trim();
            if days.is_empty() {
                json!({})
            } else {
                let days: u32 = days.parse().map_err(|_| CleanupParams::retention_error())?;
                json!({ "retentionDays": days })
            }
        }
    })
}

/// The typed parameters, or the first thing wrong with them.
pub fn parameters(form: &WizardForm, user_id: Uuid) -> Result<TaskParameters, DomainError> {
    TaskParameters::parse(form.task_type, &parameters_json(form, user_id)?)
}

/// A `datetime-local` value in the reader's time zone (the profile's, else the
/// browser's), as UTC.
pub fn parse_local_datetime(text: &str) -> Option<DateTime<Utc>> {
    let local = crate::api::time::parse_local(text)?;
    crate::ui::format::local_to_utc(local)
}

/// When the task runs, how it repeats, how many attempts it gets.
pub type Schedule = (Option<DateTime<Utc>>, Option<Recurrence>, u8);

/// The schedule fields: run-at time, recurrence, max attempts.
pub fn schedule(form: &WizardForm, now: DateTime<Utc>) -> Result<Schedule, FieldErrors> {
    let mut errors = FieldErrors::new();
    let run_at = match form.run_at.trim() {
        "" => None,
        text => match parse_local_datetime(text) {
            None => {
                errors.insert("run_at".into(), t(Msg::WizardRunAtInvalid).into());
                None
            }
            Some(at) if at < now - Duration::minutes(5) => {
                errors.insert("run_at".into(), t(Msg::WizardRunAtPast).into());
                None
            }
            Some(at) => Some(at),
        },
    };
    let recurrence = match form.recurrence.trim() {
        "" => None,
        text => match Recurrence::parse(text) {
            Ok(r) => Some(r),
            Err(e) => {
                insert(&mut errors, &e);
                None
            }
        },
    };
    let attempts = match form.max_attempts.trim().parse::<u8>() {
        Ok(n @ 1..=10) => n,
        _ => {
            errors.insert("max_attempts".into(), t(Msg::WizardAttemptsInvalid).into());
            3
        }
    };
    if errors.is_empty() {
        Ok((run_at, recurrence, attempts))
    } else {
        Err(errors)
    }
}

/// What is wrong on `step` (empty when the user may go on).
pub fn check_step(step: Step, form: &WizardForm, user_id: Uuid, now: DateTime<Utc>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    match step {
        Step::Type => {}
        Step::Details => {
            if let Err(e) = TaskTitle::parse(&form.title) {
                insert(&mut errors, &e);
            }
            if let Err(e) = TaskDescription::parse(&form.description) {
                insert(&mut errors, &e);
            }
            if let Err(e) = parameters(form, user_id) {
                insert(&mut errors, &e);
            }
        }
        Step::Schedule => {
            if let Err(found) = schedule(form, now) {
                errors = found;
            }
        }
        Step::Review => {
            for step in [Step::Details, Step::Schedule] {
                errors.extend(check_step(step, form, user_id, now));
            }
        }
    }
    errors
}

/// The task to insert and its max attempts, or every error.
pub fn build(
    form: &WizardForm,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(NewTask, u8), FieldErrors> {
    let errors = check_step(Step::Review, form, user_id, now);
    let (Ok(title), Ok(description), Ok(params), Ok((scheduled_at, recurrence, attempts))) = (
        TaskTitle::parse(&form.title),
        TaskDescription::parse(&form.description),
        parameters(form, user_id),
        schedule(form, now),
    ) else {
        return Err(errors);
    };
    let mut task = NewTask::new(title, params);
    task.description = description;
    task.priority = form.priority;
    task.scheduled_at = scheduled_at;
    task.recurrence = recurrence;
    Ok((task, attempts))
}

/// Cron examples offered next to the recurrence field.
pub const CRON_EXAMPLES: [(&str, Msg); 4] = [
    ("0 6 * * 1", Msg::WizardCronMondays),
    ("0 9 * * 1-5", Msg::WizardCronWeekdays),
    ("0 * * * *", Msg::WizardCronHourly),
    ("30 7 1 * *", Msg::WizardCronMonthly),
];

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::api::tasks;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 4, 1).expect("date")
    }

    fn now() -> DateTime<Utc> {
        "2024-04-01T06:00:00Z".parse().expect("time")
    }

    fn user() -> Uuid {
        "22222222-2222-4222-8222-222222222222"
            .parse()
            .expect("uuid")
    }

    #[wasm_bindgen_test]
    fn details_need_a_title() {
        let form = WizardForm::new(today());
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(errors.get("title").map(String::as_str), Some("Is required"));
    }

    #[wasm_bindgen_test]
    fn report_parameters_are_checked_by_domain() {
        let mut form = WizardForm::new(today());
        form.title = "Q1".into();
        assert!(check_step(Step::Details, &form, user(), now()).is_empty());
        form.metrics.clear();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("metrics").map(String::as_str),
            Some("Must list at least one metric")
        );
        form.metrics = vec![Metric::Revenue];
        form.start = "2024-05-01".into();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("start").map(String::as_str),
            Some("Must not be after the end date")
        );
        form.start = "01/04/2024".into();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("start").map(String::as_str),
            Some("Must be a date (YYYY-MM-DD)")
        );
    }

    #[wasm_bindgen_test]
    fn http_parameters() {
        let mut form = WizardForm::new(today());
        form.title = "Ping".into();
        form.task_type = TaskType::HttpRequest;
        form.url = "ftp://example.com".into();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("url").map(String::as_str),
            Some("Must be an absolute http:// or https:// URL")
        );
        form.url = "https://example.com/hook".into();
        form.headers = "no colon here".into();
        assert!(check_step(Step::Details, &form, user(), now()).contains_key("headers"));
        form.headers = "X-Token: abc".into();
        form.body = "{\"a\":1}".into();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("body").map(String::as_str),
            Some("Is not allowed with GET or HEAD")
        );
        form.method = "POST".into();
        form.timeout = "90".into();
        let errors = check_step(Step::Details, &form, user(), now());
        assert_eq!(
            errors.get("timeoutSecs").map(String::as_str),
            Some("Must be between 1 and 60")
        );
        form.timeout = "10".into();
        let params = parameters(&form, user()).expect("valid");
        assert_eq!(
            params.to_json(),
            json!({"method":"POST","url":"https://example.com/hook","headers":{"X-Token":"abc"},"body":{"a":1},"timeoutSecs":10})
        );
    }

    #[wasm_bindgen_test]
    fn import_path_is_in_the_users_folder() {
        let mut form = WizardForm::new(today());
        form.task_type = TaskType::DataImport;
        form.import_file = "events.csv".into();
        assert_eq!(
            parameters_json(&form, user()).expect("json"),
            json!({"path": "22222222-2222-4222-8222-222222222222/events.csv"})
        );
        form.import_file = "events.txt".into();
        assert!(parameters(&form, user()).is_err());
    }

    #[wasm_bindgen_test]
    fn schedule_checks_cron_attempts_and_time() {
        let mut form = WizardForm::new(today());
        form.recurrence = "every monday".into();
        form.max_attempts = "11".into();
        let errors = check_step(Step::Schedule, &form, user(), now());
        assert!(errors
            .get("recurrence")
            .is_some_and(|m| m.contains("cron expression")));
        assert_eq!(
            errors.get("max_attempts").map(String::as_str),
            Some("Must be a whole number from 1 to 10.")
        );
        form.recurrence = "0 6 * * 1".into();
        form.max_attempts = "5".into();
        form.run_at = "2020-01-01T10:00".into();
        assert_eq!(
            check_step(Step::Schedule, &form, user(), now())
                .get("run_at")
                .map(String::as_str),
            Some("Choose a time in the future.")
        );
        form.run_at = String::new();
        assert!(check_step(Step::Schedule, &form, user(), now()).is_empty());
    }

    #[wasm_bindgen_test]
    fn the_run_time_is_read_in_the_readers_zone_and_kept_in_utc() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().expect("time");
        for (zone, utc) in [
            ("Asia/Jakarta", "2030-01-01T02:00:00Z"),
            ("Asia/Makassar", "2030-01-01T01:00:00Z"),
            ("Asia/Jayapura", "2030-01-01T00:00:00Z"),
            ("UTC", "2030-01-01T09:00:00Z"),
        ] {
            crate::i18n::set(crate::i18n::Locale {
                time_zone: zone.into(),
                ..crate::i18n::Locale::default()
            });
            assert_eq!(
                parse_local_datetime("2030-01-01T09:00"),
                Some(at(utc)),
                "{zone}"
            );
        }
        crate::i18n::set(crate::i18n::Locale::default());
    }

    #[wasm_bindgen_test]
    fn build_gives_the_insert() {
        let mut form = WizardForm::new(today());
        form.title = "  Weekly revenue ".into();
        form.recurrence = "0 6 * * 1".into();
        form.priority = TaskPriority::High;
        form.max_attempts = "5".into();
        let (task, attempts) = build(&form, user(), now()).expect("valid");
        assert_eq!(attempts, 5);
        let body = tasks::insert_body(&task, attempts);
        assert_eq!(body["title"], "Weekly revenue");
        assert_eq!(body["type"], "analytics_report");
        assert_eq!(body["priority"], "high");
        assert_eq!(body["recurrence"], "0 6 * * 1");
        assert_eq!(
            body["parameters"]["dateRange"],
            json!({"start": "2024-03-03", "end": "2024-04-01"})
        );
        assert_eq!(body["max_attempts"], 5);
        form.title.clear();
        assert!(build(&form, user(), now()).is_err_and(|e| e.contains_key("title")));
    }

    #[wasm_bindgen_test]
    fn clone_prefills_from_a_task() {
        let task: Task = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f",
            "user_id": "22222222-2222-4222-8222-222222222222",
            "title": "Ping", "type": "http_request", "status": "failed", "priority": "urgent",
            "parameters": {"method": "POST", "url": "https://example.com/x", "headers": {"A": "1"}, "body": "hi", "timeoutSecs": 5},
            "progress": 0, "created_at": "2024-04-01T06:00:00Z", "updated_at": "2024-04-01T06:00:00Z",
            "attempts": 3, "max_attempts": 4
        }))
        .expect("task");
        let form = WizardForm::from_task(&task, today());
        assert_eq!(form.task_type, TaskType::HttpRequest);
        assert_eq!(form.headers, "A: 1");
        assert_eq!(form.body, "hi");
        assert_eq!(form.timeout, "5");
        assert_eq!(form.max_attempts, "4");
        assert_eq!(form.priority, TaskPriority::Urgent);
        let rebuilt = parameters(&form, user()).expect("valid");
        assert_eq!(rebuilt.to_json(), task.parameters);
    }
}
