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
use crate::{
    DomainError, ExportDataset, ExportFormat, HttpMethod, Metric, ReportFormat, Rule, TaskType,
};

mod analytics_report;
mod cleanup;
mod data_export;
mod data_import;
mod date_range;
mod http_request;

pub use analytics_report::AnalyticsReportParams;
pub use cleanup::CleanupParams;
pub use data_export::DataExportParams;
pub use data_import::DataImportParams;
pub use date_range::DateRange;
pub use http_request::{HttpRequestParams, RequestBody};

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
    object(value, "parameters", Rule::Object)
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

    /// The message of a rejected value.
    pub(crate) fn message(result: Result<impl fmt::Debug, DomainError>) -> String {
        result.expect_err("should be rejected").to_string()
    }

    /// A real calendar day.
    pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
    }

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
