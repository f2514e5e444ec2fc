//! How an attempt can fail. The variant decides what happens next: a retryable error
//! puts the task back in the queue (with backoff) until it runs out of attempts, a
//! permanent one fails it at once. Its [`Text`] is shown to the task's owner in their
//! language, so it is written for people ("The server answered 503 Service Unavailable").

use crate::text::{Run, Text};

/// Why an attempt did not complete.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Worth trying again later: a timeout, a 5xx answer, a lost connection.
    #[error("{0}")]
    Retryable(Text),
    /// Will fail the same way every time: bad input, a 4xx answer, a missing file.
    #[error("{0}")]
    Permanent(Text),
    /// The handler stopped because its cancellation token was tripped (the task was
    /// cancelled, the worker is shutting down, or its lease was lost).
    #[error("the task was stopped before it finished")]
    Cancelled,
}

impl TaskError {
    /// A [`TaskError::Retryable`] saying `text`.
    pub fn retryable(text: impl Into<Text>) -> Self {
        Self::Retryable(text.into())
    }

    /// A [`TaskError::Permanent`] saying `text`.
    pub fn permanent(text: impl Into<Text>) -> Self {
        Self::Permanent(text.into())
    }

    /// `true` for [`TaskError::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }

    /// What it says to people.
    pub fn text(&self) -> Text {
        match self {
            Self::Retryable(text) | Self::Permanent(text) => text.clone(),
            Self::Cancelled => Text::new(Run::StoppedEarly),
        }
    }
}

impl From<sqlx::Error> for TaskError {
    /// Database errors from a handler: a rule the data broke (SQLSTATE classes 22, 23,
    /// 42, P0) will break again, so it is permanent; anything else (connection lost, pool
    /// timed out, serialization failure) is retryable.
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
                if ["22", "23", "42", "P0"]
                    .iter()
                    .any(|class| code.starts_with(class))
                {
                    Self::Permanent(Text::new(Run::DbRefused).raw("detail", db.message()))
                } else {
                    Self::Retryable(Text::new(Run::DbTemporary).raw("detail", db.message()))
                }
            }
            sqlx::Error::RowNotFound => Self::Permanent(Run::DbRowMissing.into()),
            _ => Self::Retryable(Text::new(Run::DbTemporary).raw("detail", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_their_text() {
        let answered = Text::new(Run::HttpAnswered)
            .num("status", 503)
            .raw("reason", "Service Unavailable");
        assert_eq!(
            TaskError::retryable(answered).to_string(),
            "The server answered 503 Service Unavailable"
        );
        assert!(TaskError::retryable(Run::StoppedEarly).is_retryable());
        assert!(!TaskError::permanent(Run::StoppedEarly).is_retryable());
        assert!(!TaskError::Cancelled.is_retryable());
        assert_eq!(TaskError::Cancelled.text().run(), Run::StoppedEarly);
    }

    #[test]
    fn lost_connections_are_retryable() {
        let error: TaskError = sqlx::Error::PoolTimedOut.into();
        assert!(error.is_retryable());
        assert_eq!(error.text().run(), Run::DbTemporary);
    }
}
