//! The database's readable errors, recognized: each `raise exception` message of the
//! migrations and each CHECK constraint a user can run into has a stable [`DbError`] code,
//! so that a client says it in its own language instead of showing the database's English.
//!
//! One table, [`DB_ERRORS`], maps the message (as the migration spells it, `%` for each
//! value it fills in) or the constraint's name to its code. `tests/db_errors.rs` proves
//! that every message and constraint of the table is still in `migrations/`, and that
//! every message raised there is in the table. Migrations are never edited once applied,
//! so a new message comes with a new migration and a new row here.

/// A readable error of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbError {
    /// Analytics of another user.
    AnalyticsOwnOnly,
    /// Analytics without a start or an end date.
    DateRangeRequired,
    /// A range whose start is after its end (also the reports' table-level CHECK).
    StartAfterEnd,
    /// A range over 366 days.
    RangeTooLong,
    /// Analytics without any metric.
    MetricRequired,
    /// An unknown metric (value: the metric).
    UnknownMetric,
    /// An unknown IANA time zone (value: the zone).
    UnknownTimeZone,
    /// Analytics without a session.
    SignInForAnalytics,
    /// A change to the audit trail.
    AuditAppendOnly,
    /// A data import from outside the user's own folder (value: the user's id).
    ImportOwnFolder,
    /// Invalid task parameters (values: the task type in words, what is wrong).
    InvalidParameters,
    /// A cleanup task by a non-administrator.
    CleanupAdminsOnly,
    /// A task scheduled in the past.
    ScheduledInPast,
    /// No such task (or not the caller's).
    TaskNotFound,
    /// Cancelling a task that is not pending or running (value: its status).
    CancelNotAllowed,
    /// A deactivated or read-only account changing tasks.
    ReadOnlyAccount,
    /// Retrying a task that is not failed or cancelled (value: its status).
    RetryNotAllowed,
    /// Retrying a task whose cancellation has not finished.
    StillStopping,
    /// An administrators' function called by someone else.
    AdminsOnly,
    /// An unknown role.
    RoleInvalid,
    /// An administrator changing their own role.
    OwnRole,
    /// No such user.
    UserNotFound,
    /// `active` not a boolean.
    ActiveInvalid,
    /// An administrator deactivating themselves.
    OwnAccount,
    /// A session that still needs its two-step code.
    MfaRequired,
    /// An administrator without an authenticator app.
    AdminMfaSetup,
    /// An administrator's session without its two-step code.
    AdminMfaRequired,
    /// A function that needs a session.
    SignInFirst,
    /// No such session.
    SessionNotFound,
    /// A task title empty or over 200 characters.
    TitleLength,
    /// A task description over 5000 characters.
    DescriptionLength,
    /// A recurrence over 100 characters.
    RecurrenceLength,
    /// Attempts outside 1 to 10.
    MaxAttemptsRange,
    /// Progress outside 0 to 100.
    ProgressRange,
    /// A profile name over 100 characters.
    NameLength,
    /// An avatar address over 1024 characters.
    AvatarLength,
    /// A negative amount.
    AmountNegative,
    /// A language the SPA does not speak.
    LanguageInvalid,
    /// A currency that is not an ISO 4217 code.
    CurrencyInvalid,
    /// A setting key that is not snake_case.
    SettingKeyInvalid,
}

/// Where a [`DbError`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbSource {
    /// A `raise exception` message, as the migration writes it: `%` stands for a value
    /// (`''` for a quote, as in SQL).
    Raised(&'static str),
    /// A CHECK constraint, by name (PostgreSQL names an inline one `<table>_<column>_check`
    /// and a table-level one `<table>_check`).
    Constraint(&'static str),
}

/// Every readable error of the database, most specific first.
pub const DB_ERRORS: &[(DbSource, DbError)] =
    {
        use DbError::*;
        use DbSource::{Constraint as C, Raised as R};
        &[
        (R("You can only see your own analytics"), AnalyticsOwnOnly),
        (R("start_date and end_date are required"), DateRangeRequired),
        (R("The start date must not be after the end date"), StartAfterEnd),
        (R("The date range may span at most 366 days"), RangeTooLong),
        (R("Choose at least one metric"), MetricRequired),
        (
            R("Unknown metric \"%\": expected one of revenue, users, conversion, orders, visits"),
            UnknownMetric,
        ),
        (R("Unknown time zone ''%''"), UnknownTimeZone),
        (R("Sign in to see analytics"), SignInForAnalytics),
        (
            R("The audit trail is append-only: entries cannot be changed or removed"),
            AuditAppendOnly,
        ),
        (
            R("Invalid parameters for data import task: path must be in your own folder (%/…)"),
            ImportOwnFolder,
        ),
        (R("Invalid parameters for % task: %"), InvalidParameters),
        (R("Only administrators can create cleanup tasks"), CleanupAdminsOnly),
        (R("scheduled_at must not be in the past"), ScheduledInPast),
        (R("Task not found"), TaskNotFound),
        (
            R("Only a pending or running task can be cancelled; this one is %"),
            CancelNotAllowed,
        ),
        (
            R("Your account cannot change tasks (it is deactivated or read-only)"),
            ReadOnlyAccount,
        ),
        (
            R("Only a failed or cancelled task can be retried; this one is %"),
            RetryNotAllowed,
        ),
        (R("This task is still stopping; try again in a few seconds"), StillStopping),
        (R("Only administrators can do this"), AdminsOnly),
        (R("Role must be one of admin, business_user, guest"), RoleInvalid),
        (R("You cannot change your own role"), OwnRole),
        (R("User not found"), UserNotFound),
        (R("active must be true or false"), ActiveInvalid),
        (R("You cannot deactivate your own account"), OwnAccount),
        (
            R("Two-step verification required: enter the code from your authenticator app"),
            MfaRequired,
        ),
        (
            R("Two-step verification required: administrators must set up an authenticator app"),
            AdminMfaSetup,
        ),
        (
            R("Administrators must complete two-step verification to use admin functions"),
            AdminMfaRequired,
        ),
        (R("Sign in first"), SignInFirst),
        (R("Session not found"), SessionNotFound),
        (C("tasks_title_check"), TitleLength),
        (C("tasks_description_check"), DescriptionLength),
        (C("tasks_recurrence_check"), RecurrenceLength),
        (C("tasks_max_attempts_check"), MaxAttemptsRange),
        (C("tasks_progress_check"), ProgressRange),
        (C("profiles_name_check"), NameLength),
        (C("profiles_avatar_url_check"), AvatarLength),
        (C("business_events_amount_check"), AmountNegative),
        (C("analytics_reports_check"), StartAfterEnd),
        (C("profiles_language_check"), LanguageInvalid),
        (C("system_settings_currency_check"), CurrencyInvalid),
        (C("system_settings_key_check"), SettingKeyInvalid),
    ]
    };

/// A database message recognized: its code and the values it names, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// The code.
    pub error: DbError,
    /// The values in place of the `%`s (none for a constraint).
    pub values: Vec<String>,
}

impl DbError {
    /// The code of `message` (PostgREST's `message` of an error), if it is one of
    /// [`DB_ERRORS`]: a raised message matched with its values, or a CHECK violation
    /// (`new row for relation "tasks" violates check constraint "tasks_title_check"`).
    pub fn recognize(message: &str) -> Option<Recognized> {
        let message = message.trim();
        let constraint = message
            .split_once("violates check constraint \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(name, _)| name);
        DB_ERRORS.iter().find_map(|(source, error)| {
            let values = match (source, constraint) {
                (DbSource::Constraint(name), Some(found)) if *name == found => Vec::new(),
                (DbSource::Raised(pattern), None) => fill_in(&pattern.replace("''", "'"), message)?,
                _ => return None,
            };
            Some(Recognized {
                error: *error,
                values,
            })
        })
    }
}

/// The values of `message` at the `%`s of `pattern`, when it has that shape.
fn fill_in(pattern: &str, message: &str) -> Option<Vec<String>> {
    let mut parts = pattern.split('%');
    let first = parts.next().unwrap_or_default();
    let mut rest = message.strip_prefix(first)?;
    let mut values = Vec::new();
    let mut parts = parts.peekable();
    while let Some(part) = parts.next() {
        let end = if parts.peek().is_none() {
            // The last piece ends the message.
            rest.strip_suffix(part).map(str::len)?
        } else if part.is_empty() {
            return None;
        } else {
            rest.find(part)?
        };
        values.push(rest[..end].to_owned());
        rest = &rest[end + part.len()..];
    }
    rest.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recognized(message: &str) -> Option<(DbError, Vec<String>)> {
        DbError::recognize(message).map(|r| (r.error, r.values))
    }

    #[test]
    fn raised_messages_are_recognized_with_their_values() {
        assert_eq!(
            recognized("Task not found"),
            Some((DbError::TaskNotFound, vec![]))
        );
        assert_eq!(
            recognized("Only a pending or running task can be cancelled; this one is completed"),
            Some((DbError::CancelNotAllowed, vec!["completed".into()]))
        );
        assert_eq!(
            recognized("Unknown time zone 'Mars/Base'"),
            Some((DbError::UnknownTimeZone, vec!["Mars/Base".into()]))
        );
        assert_eq!(
            recognized("Invalid parameters for http request task: url is required"),
            Some((
                DbError::InvalidParameters,
                vec!["http request".into(), "url is required".into()]
            ))
        );
        assert_eq!(
            recognized(
                "Invalid parameters for data import task: path must be in your own folder (42/…)"
            ),
            Some((DbError::ImportOwnFolder, vec!["42".into()]))
        );
    }

    #[test]
    fn check_violations_are_recognized_by_constraint() {
        assert_eq!(
            recognized(
                "new row for relation \"tasks\" violates check constraint \"tasks_title_check\""
            ),
            Some((DbError::TitleLength, vec![]))
        );
        assert_eq!(
            recognized("new row for relation \"x\" violates check constraint \"x_check\""),
            None
        );
    }

    #[test]
    fn other_messages_are_not() {
        assert_eq!(recognized("Task not found, really"), None);
        assert_eq!(recognized("something else"), None);
        assert_eq!(recognized(""), None);
    }
}
