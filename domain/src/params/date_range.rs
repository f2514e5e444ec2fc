//! Inclusive ranges of calendar days.

#[allow(clippy::wildcard_imports)]
use super::*;

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
                Rule::StartAfterEnd(field.to_owned()),
            ));
        }
        if self.days() > Self::MAX_DAYS {
            return Err(DomainError::invalid(
                field,
                Rule::SpanAtMostDays(Self::MAX_DAYS),
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
        let value = value.ok_or_else(|| DomainError::invalid(field, Rule::Required))?;
        let map = object(value, field, Rule::DateRangeObject)?;
        reject_unknown_fields(map, &["start", "end"], field)?;
        let range = Self {
            start: parse_date(member(map, "start"), &path(field, "start"))?,
            end: parse_date(member(map, "end"), &path(field, "end"))?,
        };
        range.validate_at(field)?;
        Ok(range)
    }

    pub(super) fn to_json(self) -> Value {
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
    let value = value.ok_or_else(|| DomainError::invalid(field, Rule::Required))?;
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
        .ok_or_else(|| DomainError::invalid(field, Rule::Date))
}

fn format_date(date: NaiveDate) -> String {
    // `Display` of a date is `%Y-%m-%d`, without chrono's format-string machinery.
    date.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::tests::{date, message};

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
}
