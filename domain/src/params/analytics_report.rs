//! Parameters of an `analytics_report` task.

#[allow(clippy::wildcard_imports)]
use super::*;

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
            return Err(DomainError::invalid("metrics", Rule::MetricRequired));
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            if self.metrics[..i].contains(metric) {
                return Err(DomainError::invalid(
                    "metrics",
                    Rule::MetricTwice(metric.to_string()),
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
        return Err(DomainError::invalid("metrics", Rule::MetricRequired));
    };
    let items = value
        .as_array()
        .ok_or_else(|| DomainError::invalid("metrics", Rule::MetricList))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .and_then(|text| text.parse::<Metric>().ok())
                .ok_or_else(|| {
                    DomainError::invalid(
                        "metrics",
                        Rule::UnknownMetric(quote(item), Metric::VALUES),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::params::tests::{date, message};

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
}
