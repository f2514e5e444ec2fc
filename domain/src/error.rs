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
    #[error("{field} {message}")]
    Invalid {
        /// Path of the offending field, in the JSON spelling (camelCase, dot-separated).
        field: String,
        /// What is wrong, starting with a verb: `must be a date (YYYY-MM-DD)`.
        message: String,
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

impl DomainError {
    /// `field` + `message`, e.g. `DomainError::invalid("title", "is required")`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
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
        let error = DomainError::invalid("dateRange.start", "must be a date (YYYY-MM-DD)");
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
