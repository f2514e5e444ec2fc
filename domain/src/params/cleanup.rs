//! Parameters of a `cleanup` task.

#[allow(clippy::wildcard_imports)]
use super::*;

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
                    .ok_or_else(Self::retention_error)?,
            ),
        };
        let params = Self { retention_days };
        params.validate()?;
        Ok(params)
    }

    /// Checks the retention.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.retention_days {
            Some(days) if !(1..=Self::MAX_RETENTION_DAYS).contains(&days) => {
                Err(Self::retention_error())
            }
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

impl CleanupParams {
    /// The error for a retention outside 1..=[`Self::MAX_RETENTION_DAYS`] (or not a number).
    pub fn retention_error() -> DomainError {
        DomainError::invalid(
            "retentionDays",
            Rule::Between(Self::MAX_RETENTION_DAYS.into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::params::tests::message;

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
}
