//! Errors in words: the domain's rules ([`domain::Rule`]) and the database's readable
//! errors ([`domain::db_errors`]) by their stable codes, in the current language.

use domain::db_errors::{DbError, Recognized};
use domain::{DomainError, Rule};

use super::{fill, t, tf, Msg};

/// The name of a field (`dateRange.start` → "start date") as a sentence starts it, or
/// its path for a field without a name in the catalogs.
pub fn field(path: &str) -> String {
    let msg = match path {
        "title" => Msg::FieldTitle,
        "description" => Msg::FieldDescription,
        "name" => Msg::FieldName,
        "email" => Msg::FieldEmail,
        "password" => Msg::FieldPassword,
        "url" => Msg::FieldUrl,
        "method" => Msg::FieldMethod,
        "body" => Msg::FieldBody,
        "timeoutSecs" => Msg::FieldTimeout,
        "retentionDays" => Msg::FieldRetention,
        "path" => Msg::FieldPath,
        "metrics" => Msg::FieldMetrics,
        "format" => Msg::FieldFormat,
        "dataset" => Msg::FieldDataset,
        "recurrence" => Msg::FieldRecurrence,
        "parameters" => Msg::FieldParameters,
        "dateRange" => Msg::FieldDateRange,
        "dateRange.start" => Msg::FieldStart,
        "dateRange.end" => Msg::FieldEnd,
        p if p == "headers" || p.starts_with("headers.") => Msg::FieldHeaders,
        other => return other.to_owned(),
    };
    t(msg).to_owned()
}

/// What a rule says, after the field's name (`must be at most 200 characters`).
pub fn rule(rule: &Rule) -> String {
    let n = |msg, n: String| tf(msg, &[("n", &n)]);
    match rule {
        Rule::Required => t(Msg::RuleRequired).to_owned(),
        Rule::AtMostChars(max) => n(Msg::RuleAtMostChars, max.to_string()),
        Rule::AtLeastChars(min) => n(Msg::RuleAtLeastChars, min.to_string()),
        Rule::LetterAndDigit => t(Msg::RuleLetterAndDigit).to_owned(),
        Rule::Email => t(Msg::RuleEmail).to_owned(),
        Rule::Date => t(Msg::RuleDate).to_owned(),
        Rule::StartAfterEnd(_) => t(Msg::RuleStartAfterEnd).to_owned(),
        Rule::SpanAtMostDays(days) => n(Msg::RuleSpanAtMostDays, days.to_string()),
        Rule::DateRangeObject => t(Msg::RuleDateRangeObject).to_owned(),
        Rule::Object => t(Msg::RuleObject).to_owned(),
        Rule::HeadersObject => t(Msg::RuleHeadersObject).to_owned(),
        Rule::HeaderLines => t(Msg::RuleHeaderLines).to_owned(),
        Rule::OneOf(values) => tf(Msg::RuleOneOf, &[("values", &values.join(", "))]),
        Rule::MetricRequired => t(Msg::RuleMetricRequired).to_owned(),
        Rule::MetricTwice(metric) => tf(Msg::RuleMetricTwice, &[("metric", metric)]),
        Rule::MetricList => t(Msg::RuleMetricList).to_owned(),
        Rule::UnknownMetric(metric, values) => tf(
            Msg::RuleUnknownMetric,
            &[("metric", metric), ("values", &values.join(", "))],
        ),
        Rule::Between(max) => n(Msg::RuleBetween, max.to_string()),
        Rule::Url => t(Msg::RuleUrl).to_owned(),
        Rule::BodyNotAllowed => t(Msg::RuleBodyNotAllowed).to_owned(),
        Rule::SingleLine => t(Msg::RuleSingleLine).to_owned(),
        Rule::HeaderName(name) => tf(Msg::RuleHeaderName, &[("name", name)]),
        Rule::ImportPath => t(Msg::RuleImportPath).to_owned(),
        Rule::Cron => t(Msg::RuleCron).to_owned(),
    }
}

/// A domain error as a sentence (not yet capitalized): the field's name, then its rule.
pub fn domain_error(error: &DomainError) -> String {
    match error {
        DomainError::Invalid {
            field: path,
            rule: r,
        } => tf(
            Msg::RuleSentence,
            &[("field", &field(path)), ("rule", &rule(r))],
        ),
        DomainError::UnknownField { field: path } => tf(Msg::RuleUnknownField, &[("field", path)]),
        DomainError::UnknownValue {
            kind,
            value,
            expected,
        } => tf(
            Msg::RuleUnknownValue,
            &[
                ("kind", kind),
                ("value", value),
                ("values", &expected.join(", ")),
            ],
        ),
    }
}

/// A database error body's `message` (and `hint`) in words: a recognized message in the
/// current language, any other the database's own words after a sentence saying so; then
/// the hint (ours in the current language, any other as it is).
pub fn database(message: &str, hint: Option<&str>) -> String {
    let text = match DbError::recognize(message) {
        Some(recognized) => recognized_text(recognized),
        None => tf(Msg::DbUnknown, &[("message", message.trim())]),
    };
    let Some(hint) = hint.map(str::trim).filter(|h| !h.is_empty()) else {
        return text;
    };
    let hint = match hint {
        "Ask another administrator." => t(Msg::HintAskAdmin),
        "Correct the task parameters and try again." => t(Msg::HintCorrectParameters),
        "It may have been deleted, or it is not yours." => t(Msg::HintDeleted),
        "It may have ended already." => t(Msg::HintEnded),
        "Set one up under Settings, Security, then sign in again with its code." => {
            t(Msg::HintSetUpMfa)
        }
        "Set up an authenticator app under Settings, Security, then sign in again with its code." => {
            t(Msg::HintSetUpApp)
        }
        "Sign in again and finish with the 6-digit code your app shows." => t(Msg::HintSignInCode),
        "Choose your time zone again under Settings, Profile." => t(Msg::HintTimeZone),
        other => other,
    };
    let period = if text.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("{text}{period} {hint}")
}

fn recognized_text(Recognized { error, values }: Recognized) -> String {
    let value = |i: usize| values.get(i).map(String::as_str).unwrap_or_default();
    let msg = match error {
        DbError::AnalyticsOwnOnly => Msg::DbAnalyticsOwnOnly,
        DbError::DateRangeRequired => Msg::DbDateRangeRequired,
        DbError::StartAfterEnd => Msg::DbStartAfterEnd,
        DbError::RangeTooLong => Msg::DbRangeTooLong,
        DbError::MetricRequired => Msg::DbMetricRequired,
        DbError::UnknownMetric => Msg::DbUnknownMetric,
        DbError::UnknownTimeZone => Msg::DbUnknownTimeZone,
        DbError::SignInForAnalytics => Msg::DbSignInForAnalytics,
        DbError::AuditAppendOnly => Msg::DbAuditAppendOnly,
        DbError::ImportOwnFolder => Msg::DbImportOwnFolder,
        DbError::InvalidParameters => Msg::DbInvalidParameters,
        DbError::CleanupAdminsOnly => Msg::DbCleanupAdminsOnly,
        DbError::ScheduledInPast => Msg::DbScheduledInPast,
        DbError::TaskNotFound => Msg::DbTaskNotFound,
        DbError::CancelNotAllowed => Msg::DbCancelNotAllowed,
        DbError::ReadOnlyAccount => Msg::DbReadOnlyAccount,
        DbError::RetryNotAllowed => Msg::DbRetryNotAllowed,
        DbError::StillStopping => Msg::DbStillStopping,
        DbError::AdminsOnly => Msg::DbAdminsOnly,
        DbError::RoleInvalid => Msg::DbRoleInvalid,
        DbError::OwnRole => Msg::DbOwnRole,
        DbError::UserNotFound => Msg::DbUserNotFound,
        DbError::ActiveInvalid => Msg::DbActiveInvalid,
        DbError::OwnAccount => Msg::DbOwnAccount,
        DbError::MfaRequired => Msg::DbMfaRequired,
        DbError::AdminMfaSetup => Msg::DbAdminMfaSetup,
        DbError::AdminMfaRequired => Msg::DbAdminMfaRequired,
        DbError::SignInFirst => Msg::DbSignInFirst,
        DbError::SessionNotFound => Msg::DbSessionNotFound,
        DbError::TitleLength => Msg::DbTitleLength,
        DbError::DescriptionLength => Msg::DbDescriptionLength,
        DbError::RecurrenceLength => Msg::DbRecurrenceLength,
        DbError::MaxAttemptsRange => Msg::DbMaxAttemptsRange,
        DbError::ProgressRange => Msg::DbProgressRange,
        DbError::NameLength => Msg::DbNameLength,
        DbError::AvatarLength => Msg::DbAvatarLength,
        DbError::AmountNegative => Msg::DbAmountNegative,
        DbError::LanguageInvalid => Msg::DbLanguageInvalid,
        DbError::CurrencyInvalid => Msg::DbCurrencyInvalid,
        DbError::SettingKeyInvalid => Msg::DbSettingKeyInvalid,
    };
    // A status is a value of the domain; its name is in the catalogs (lower-cased by the
    // browser: Rust's case tables would cost the wasm 3 KB).
    let status = value(0)
        .parse::<domain::TaskStatus>()
        .map(|s| String::from(js_sys::JsString::from(super::label(s)).to_lower_case()))
        .unwrap_or_else(|_| value(0).to_owned());
    fill(
        t(msg),
        &[
            ("value", value(0)),
            ("status", &status),
            ("detail", value(1)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::i18n::{set_lang, Lang};

    #[wasm_bindgen_test]
    fn rules_and_database_errors_speak_both_languages() {
        let error = DomainError::invalid("title", Rule::AtMostChars(200));
        let cancel = "Only a pending or running task can be cancelled; this one is completed";
        set_lang(Lang::Id);
        let id = (
            domain_error(&error),
            database(cancel, None),
            database(
                "Task not found",
                Some("It may have been deleted, or it is not yours."),
            ),
            database("boom", None),
        );
        set_lang(Lang::En);
        assert_eq!(domain_error(&error), "title must be at most 200 characters");
        assert_eq!(id.0, "judul maksimal 200 karakter");
        assert_eq!(database(cancel, None), cancel);
        assert_eq!(
            id.1,
            "Hanya tugas yang menunggu atau berjalan yang dapat dibatalkan; tugas ini selesai"
        );
        assert_eq!(
            id.2,
            "Tugas tidak ditemukan. Mungkin sudah dihapus, atau bukan milik Anda."
        );
        assert_eq!(id.3, "Database menolak permintaan ini: boom");
        assert_eq!(
            database("boom", Some("Try later.")),
            "The database refused this: boom. Try later."
        );
    }
}
