//! The one error type of the crate: what is wrong, where, in words a business user reads.

/// A value was rejected by one of Taskdeck's rules.
///
/// Every variant's `Display` is a complete sentence fragment meant to be shown as is, e.g.
/// `dateRange.start must be a date (YYYY-MM-DD)`. The database's CHECK constraints and
/// triggers raise the same messages, so the SPA shows the same words whichever side
/// rejected the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field holds a value the rules reject.
    ///
    /// `field` is the JSON path of the value as the user sent it (`title`,
    /// `dateRange.start`, `headers.X-Api-Key`); `message` completes the sentence.
    #[error("{field} {rule}")]
    Invalid {
        /// Path of the offending field, in the JSON spelling (camelCase, dot-separated).
        field: String,
        /// What is wrong: a stable code with its values; its `Display` starts with a verb
        /// (`must be a date (YYYY-MM-DD)`).
        rule: Rule,
    },

    /// An object has a field that its type does not know (often a typo).
    #[error("unknown field \"{field}\"")]
    UnknownField {
        /// Path of the unexpected field, e.g. `dateRange.begin`.
        field: String,
    },

    /// A string is not one of an enum's values (from `FromStr`).
    #[error("unknown {kind} \"{value}\": expected one of {}", expected.join(", "))]
    UnknownValue {
        /// What was being parsed, in words: `task type`, `priority`.
        kind: &'static str,
        /// The rejected text.
        value: String,
        /// Every accepted value, in their canonical order.
        expected: &'static [&'static str],
    },
}

/// The rule a value broke: a stable code (and the values it names) that a client may say
/// in its own words (the SPA has a message per variant); `Display` is the English fragment
/// after the field's name, the words the worker and the database use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    /// `is required`.
    #[error("is required")]
    Required,
    /// `must be at most {0} characters`.
    #[error("must be at most {0} characters")]
    AtMostChars(usize),
    /// `must be at least {0} characters`.
    #[error("must be at least {0} characters")]
    AtLeastChars(usize),
    /// A password without a letter or a digit.
    #[error("must contain a letter and a digit")]
    LetterAndDigit,
    /// Not an email address.
    #[error("must be an email address, like name@example.com")]
    Email,
    /// Not a `YYYY-MM-DD` date.
    #[error("must be a date (YYYY-MM-DD)")]
    Date,
    /// A range's start after its end; `{0}` is the range's path.
    #[error("must not be after {0}.end")]
    StartAfterEnd(String),
    /// A range longer than `{0}` days.
    #[error("may span at most {0} days")]
    SpanAtMostDays(i64),
    /// A date range that is not `{start, end}`.
    #[error("must be an object with a start and an end date")]
    DateRangeObject,
    /// Parameters that are not an object.
    #[error("must be an object")]
    Object,
    /// Headers that are not an object.
    #[error("must be an object of header names and values")]
    HeadersObject,
    /// Headers typed as lines, one of which is not `Name: value` (the SPA's form).
    #[error("must be one \"Name: value\" per line")]
    HeaderLines,
    /// Not one of the values `{0}`.
    #[error("must be one of {}", .0.join(", "))]
    OneOf(&'static [&'static str]),
    /// No metric.
    #[error("must list at least one metric")]
    MetricRequired,
    /// A metric twice.
    #[error("lists \"{0}\" twice")]
    MetricTwice(String),
    /// Metrics that are not a list.
    #[error("must be a list, like [\"revenue\", \"users\"]")]
    MetricList,
    /// An unknown metric (`{0}` as it was sent, quoted), expected one of `{1}`.
    #[error("has an unknown metric {}: expected one of {}", .0, .1.join(", "))]
    UnknownMetric(String, &'static [&'static str]),
    /// A number outside `1..={0}`.
    #[error("must be between 1 and {0}")]
    Between(u64),
    /// Not an absolute http(s) URL.
    #[error("must be an absolute http:// or https:// URL")]
    Url,
    /// A body with GET or HEAD.
    #[error("is not allowed with GET or HEAD")]
    BodyNotAllowed,
    /// A header value over several lines.
    #[error("must be a single line of text")]
    SingleLine,
    /// An invalid header name (`{0}`, quoted).
    #[error("has an invalid header name {0}")]
    HeaderName(String),
    /// An import path outside the imports bucket's own folder.
    #[error("must be a .csv file in the imports bucket, like <your user id>/events.csv")]
    ImportPath,
    /// Not a cron expression.
    #[error("must be a cron expression with 5 or 6 fields, like \"0 6 * * 1\"")]
    Cron,
}

impl DomainError {
    /// `field` + `rule`, e.g. `DomainError::invalid("title", Rule::Required)`.
    pub fn invalid(field: impl Into<String>, rule: Rule) -> Self {
        Self::Invalid {
            field: field.into(),
            rule,
        }
    }

    /// The rule broken, for an invalid value.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            Self::Invalid { rule, .. } => Some(rule),
            _ => None,
        }
    }

    /// An unknown field at `field` (its full path).
    pub fn unknown_field(field: impl Into<String>) -> Self {
        Self::UnknownField {
            field: field.into(),
        }
    }

    /// The path of the field the error is about, for forms that highlight it.
    /// `None` for an enum value parsed outside any field.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } | Self::UnknownField { field } => Some(field),
            Self::UnknownValue { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_reads_as_field_then_message() {
        let error = DomainError::invalid("dateRange.start", Rule::Date);
        assert_eq!(
            error.to_string(),
            "dateRange.start must be a date (YYYY-MM-DD)"
        );
        assert_eq!(error.field(), Some("dateRange.start"));
    }

    #[test]
    fn unknown_field_names_the_field() {
        let error = DomainError::unknown_field("dateRange.begin");
        assert_eq!(error.to_string(), "unknown field \"dateRange.begin\"");
        assert_eq!(error.field(), Some("dateRange.begin"));
    }

    #[test]
    fn unknown_value_lists_the_expected_values() {
        let error = DomainError::UnknownValue {
            kind: "priority",
            value: "asap".into(),
            expected: &["low", "medium"],
        };
        assert_eq!(
            error.to_string(),
            "unknown priority \"asap\": expected one of low, medium"
        );
        assert_eq!(error.field(), None);
    }
}
