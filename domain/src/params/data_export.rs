//! Parameters of a `data_export` task.

#[allow(clippy::wildcard_imports)]
use super::*;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::params::tests::message;

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
}
