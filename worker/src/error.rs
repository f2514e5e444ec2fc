//! How an attempt can fail. The variant decides what happens next: a retryable error
//! puts the task back in the queue (with backoff) until it runs out of attempts, a
//! permanent one fails it at once. Messages are shown to the task's owner as they are, so
//! they are written for people ("The server answered 503 Service Unavailable").

/// Why an attempt did not complete.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Worth trying again later: a timeout, a 5xx answer, a lost connection.
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time: bad input, a 4xx answer, a missing file.
    #[error("{0}")]
    Permanent(String),
    /// The handler stopped because its cancellation token was tripped (the task was
    /// cancelled, the worker is shutting down, or its lease was lost).
    #[error("the task was stopped before it finished")]
    Cancelled,
}

impl TaskError {
    /// A [`TaskError::Retryable`] with this message.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable(message.into())
    }

    /// A [`TaskError::Permanent`] with this message.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    /// `true` for [`TaskError::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
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
                    Self::Permanent(format!(
                        "The database refused the operation: {}",
                        db.message()
                    ))
                } else {
                    Self::Retryable(format!("A temporary database problem: {}", db.message()))
                }
            }
            sqlx::Error::RowNotFound => Self::Permanent("A database row was not found".into()),
            _ => Self::Retryable(format!("A temporary database problem: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shown_as_they_are() {
        assert_eq!(
            TaskError::retryable("The server answered 503 Service Unavailable").to_string(),
            "The server answered 503 Service Unavailable"
        );
        assert!(TaskError::retryable("x").is_retryable());
        assert!(!TaskError::permanent("x").is_retryable());
        assert!(!TaskError::Cancelled.is_retryable());
    }

    #[test]
    fn lost_connections_are_retryable() {
        let error: TaskError = sqlx::Error::PoolTimedOut.into();
        assert!(error.is_retryable());
    }
}
