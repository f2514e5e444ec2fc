//! The one error type of the SPA. Every failure — a network error, a PostgREST error body,
//! a GoTrue error body, a Storage error body, a rule of `domain/` — ends up here, and its
//! `Display` is a sentence a user understands.
//!
//! [`AppError::from_response`] is a pure function of the HTTP status and body, so the
//! mapping is tested without a server.

use std::fmt;

use serde_json::Value;

use crate::i18n::{self, t, tf, Msg};

/// Something went wrong; `to_string()` says what, in words for people.
#[derive(Debug, Clone, PartialEq)]
pub enum AppError {
    /// The request never got an answer (offline, DNS, CORS, server down).
    Network,
    /// The session is gone or expired and could not be refreshed.
    SessionExpired,
    /// Row-level security, a grant or an admin check refused.
    Forbidden,
    /// The user has two-step sign-in on and this session has not used it yet: the code
    /// step is the way on (PostgREST's `mfa_required`, GoTrue's `insufficient_aal`).
    MfaRequired,
    /// The row or object does not exist (or is not visible to the caller).
    NotFound,
    /// The database refused a value; the message is the database's own, readable one
    /// (our CHECKs and triggers raise sentences, e.g. "Invalid parameters for …").
    Invalid(String),
    /// A unique constraint: the thing already exists.
    Conflict(String),
    /// Sign-in with a wrong email or password.
    InvalidCredentials,
    /// Any other message from Supabase Auth, already in words (e.g. "Unsupported
    /// provider: provider is not enabled").
    Auth(String),
    /// Too many requests in a short time.
    RateLimited,
    /// The server failed (5xx).
    Server,
    /// `/config.json` is missing or wrong.
    Config(String),
    /// An answer we could not read; a bug rather than the user's mistake.
    Unexpected(String),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network => f.write_str(t(Msg::ErrorNetwork)),
            Self::SessionExpired => f.write_str(t(Msg::ErrorSessionExpired)),
            Self::Forbidden => f.write_str(t(Msg::ErrorForbidden)),
            Self::MfaRequired => f.write_str(t(Msg::ErrorMfaRequired)),
            Self::NotFound => f.write_str(t(Msg::ErrorNotFound)),
            Self::Invalid(message) | Self::Conflict(message) | Self::Auth(message) => {
                f.write_str(message)
            }
            Self::InvalidCredentials => f.write_str(t(Msg::ErrorInvalidCredentials)),
            Self::RateLimited => f.write_str(t(Msg::ErrorRateLimited)),
            Self::Server => f.write_str(t(Msg::ErrorServer)),
            Self::Config(message) => f.write_str(&tf(Msg::ErrorConfig, &[("message", message)])),
            Self::Unexpected(message) => {
                f.write_str(&tf(Msg::ErrorUnexpected, &[("message", message)]))
            }
        }
    }
}

impl std::error::Error for AppError {}

impl From<domain::DomainError> for AppError {
    fn from(error: domain::DomainError) -> Self {
        Self::Invalid(capitalize(&i18n::errors::domain_error(&error)))
    }
}

impl AppError {
    /// `true` when signing in again is the way out.
    pub fn is_session_expired(&self) -> bool {
        matches!(self, Self::SessionExpired)
    }

    /// A PostgREST error body as the database wrote it: its message, then its hint.
    pub fn database_words(body: &str) -> Self {
        let json: Value = crate::api::decode::parse(body).unwrap_or(Value::Null);
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        match text("message") {
            Some(message) => Self::Invalid(with_hint(&message, text("hint"))),
            None => Self::Forbidden,
        }
    }

    /// Maps a failed response of any of the three services to an error.
    ///
    /// Recognizes the bodies of PostgREST `{code, message, details, hint}`, GoTrue
    /// `{code, error_code, msg}` / `{code: "…", message}` / `{error, error_description}`
    /// and Storage `{statusCode, error, message}`; falls back on the status.
    pub fn from_response(status: u16, body: &str) -> Self {
        let json: Value = crate::api::decode::parse(body).unwrap_or(Value::Null);
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);

        // Storage: {"statusCode": "403", "error": "...", "message": "..."}
        if let Some(storage_status) = json.get("statusCode") {
            let code = storage_status
                .as_str()
                .and_then(|s| s.parse::<u16>().ok())
                .or_else(|| storage_status.as_u64().and_then(|n| u16::try_from(n).ok()))
                .unwrap_or(status);
            return from_storage(code, text("error"), text("message"));
        }
        // GoTrue: {"code": 400, "error_code": "...", "msg": "..."}
        if let Some(error_code) = text("error_code") {
            return from_auth(status, &error_code, text("msg").or_else(|| text("message")));
        }
        if let Some(msg) = text("msg") {
            return from_auth(status, "", Some(msg));
        }
        // GoTrue (OAuth style): {"error": "invalid_grant", "error_description": "..."}
        if let Some(error) = text("error") {
            if json.get("message").is_none() {
                return from_auth(status, &error, text("error_description"));
            }
        }
        // PostgREST: {"code": "42501", "message": "...", "details", "hint"}
        if let Some(code) = text("code") {
            if let Some(message) = text("message") {
                if is_auth_code(&code) {
                    // GoTrue with X-Supabase-Api-Version: {"code": "invalid_credentials", "message"}
                    return from_auth(status, &code, Some(message));
                }
                let mfa = |key: &str| text(key).as_deref() == Some("mfa_required");
                if code == "42501" && (mfa("details") || mfa("hint")) {
                    return AppError::MfaRequired;
                }
                return from_postgrest(status, &code, &message, text("hint"));
            }
        }
        from_status(status)
    }
}

/// Error codes are lower-case words in GoTrue (`invalid_credentials`), digits or
/// `PGRSTnnn`/`PTnnn` in PostgREST.
fn is_auth_code(code: &str) -> bool {
    !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

fn from_postgrest(status: u16, code: &str, message: &str, hint: Option<String>) -> AppError {
    match code {
        "42501" => AppError::Forbidden,
        "PGRST116" | "PT404" | "PGRST202" | "PGRST205" | "42P01" | "42883" => AppError::NotFound,
        "PGRST301" | "PGRST302" | "PGRST303" => AppError::SessionExpired,
        "23505" => AppError::Conflict(t(Msg::ErrorExists).into()),
        "23503" => AppError::Invalid(t(Msg::ErrorRefers).into()),
        "57014" => AppError::Invalid(t(Msg::ErrorTooLong).into()),
        "23514" | "P0001" | "23502" | "22P02" | "22007" | "22008" | "22003" | "22001" => {
            AppError::Invalid(with_hint(message, hint))
        }
        _ if code.starts_with("PT") => match code.get(2..).and_then(|s| s.parse::<u16>().ok()) {
            Some(403) => AppError::Forbidden,
            Some(404) => AppError::NotFound,
            Some(401) => AppError::SessionExpired,
            _ => AppError::Invalid(with_hint(message, None)),
        },
        _ => match from_status(status) {
            AppError::Unexpected(_) if !message.is_empty() => {
                AppError::Invalid(with_hint(message, None))
            }
            other => other,
        },
    }
}

fn from_auth(status: u16, code: &str, message: Option<String>) -> AppError {
    let message = message.unwrap_or_default();
    match code {
        "invalid_credentials" | "invalid_grant"
            if code == "invalid_credentials" || message.contains("credentials") =>
        {
            AppError::InvalidCredentials
        }
        "user_already_exists" | "email_exists" => {
            AppError::Conflict(t(Msg::ErrorAccountExists).into())
        }
        "over_request_rate_limit" | "over_email_send_rate_limit" | "over_sms_send_rate_limit" => {
            AppError::RateLimited
        }
        "session_not_found"
        | "session_expired"
        | "refresh_token_not_found"
        | "refresh_token_already_used"
        | "bad_jwt"
        | "no_authorization" => AppError::SessionExpired,
        "invalid_grant" => AppError::SessionExpired,
        "insufficient_aal" | "mfa_required" => AppError::MfaRequired,
        "mfa_verification_failed" | "mfa_challenge_expired" => {
            AppError::Auth(t(Msg::ErrorWrongCode).into())
        }
        "user_banned" => AppError::Auth(t(Msg::ErrorBanned).into()),
        "email_not_confirmed" => AppError::Auth(t(Msg::ErrorEmailNotConfirmed).into()),
        "weak_password"
        | "same_password"
        | "validation_failed"
        | "provider_disabled"
        | "email_address_invalid"
        | "signup_disabled" => AppError::Auth(non_empty_or(&message, t(Msg::ErrorNotAccepted))),
        _ => match status {
            429 => AppError::RateLimited,
            500..=599 => AppError::Server,
            _ if !message.is_empty() => AppError::Auth(capitalize(&message)),
            _ => from_status(status),
        },
    }
}

fn from_storage(status: u16, error: Option<String>, message: Option<String>) -> AppError {
    let message = message.unwrap_or_default();
    match status {
        401 if message.to_ascii_lowercase().contains("jwt") => AppError::SessionExpired,
        401 | 403 => AppError::Forbidden,
        404 => AppError::NotFound,
        409 => AppError::Conflict(t(Msg::ErrorFileExists).into()),
        413 => AppError::Invalid(t(Msg::ErrorFileTooLarge).into()),
        415 => AppError::Invalid(t(Msg::ErrorFileType).into()),
        400 if error.as_deref() == Some("Duplicate") => {
            AppError::Conflict(t(Msg::ErrorFileExists).into())
        }
        400 if error.as_deref() == Some("not_found") || message.contains("not found") => {
            AppError::NotFound
        }
        400 | 422 => AppError::Invalid(non_empty_or(
            &capitalize(&message),
            t(Msg::ErrorFileRefused),
        )),
        _ => from_status(status),
    }
}

fn from_status(status: u16) -> AppError {
    match status {
        0 => AppError::Network,
        401 => AppError::SessionExpired,
        403 => AppError::Forbidden,
        404 | 406 => AppError::NotFound,
        409 => AppError::Conflict(t(Msg::ErrorExists).into()),
        429 => AppError::RateLimited,
        500..=599 => AppError::Server,
        _ => AppError::Unexpected(format!("HTTP {status}")),
    }
}

fn non_empty_or(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_owned()
    } else {
        text.trim().to_owned()
    }
}

/// A database message and its hint in words ([`i18n::errors::database`]: ours by their codes, in
/// the reader's language), capitalized.
fn with_hint(message: &str, hint: Option<String>) -> String {
    capitalize(&i18n::errors::database(message, hint.as_deref()))
}

/// The first letter in upper case: database messages start in lower case.
///
/// The upper-casing is the browser's (`String.prototype.toUpperCase`, the same Unicode
/// mapping as `char::to_uppercase`), which spares the wasm Rust's case tables.
pub fn capitalize(text: &str) -> String {
    let text = text.trim();
    match text.chars().next() {
        Some(first) if first.is_ascii() => {
            let mut out = String::with_capacity(text.len());
            out.push(first.to_ascii_uppercase());
            out.push_str(&text[1..]);
            out
        }
        Some(first) => {
            let rest = &text[first.len_utf8()..];
            let upper: String = js_sys::JsString::from(first).to_upper_case().into();
            upper + rest
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn postgrest_permission_denied_reads_as_permission() {
        let body = r#"{"code":"42501","details":null,"hint":null,"message":"new row violates row-level security policy for table \"tasks\""}"#;
        let error = AppError::from_response(403, body);
        assert_eq!(error, AppError::Forbidden);
        assert_eq!(error.to_string(), "You don't have permission to do that.");
    }

    #[wasm_bindgen_test]
    fn two_step_verification_required_reads_as_the_way_on() {
        let rpc = r#"{"code":"42501","details":"mfa_required","hint":"Sign in again and finish with the 6-digit code your app shows.","message":"Two-step verification required: enter the code from your authenticator app"}"#;
        let error = AppError::from_response(403, rpc);
        assert_eq!(error, AppError::MfaRequired);
        assert_eq!(
            error.to_string(),
            "Enter your two-step verification code to continue."
        );
        let by_hint = r#"{"code":"42501","details":null,"hint":"mfa_required","message":"permission denied"}"#;
        assert_eq!(AppError::from_response(403, by_hint), AppError::MfaRequired);
        let by_code = r#"{"code":"mfa_required","message":"MFA required"}"#;
        assert_eq!(AppError::from_response(403, by_code), AppError::MfaRequired);
        let gotrue = r#"{"code":422,"error_code":"insufficient_aal","msg":"AAL2 required to unenroll verified factor"}"#;
        assert_eq!(AppError::from_response(422, gotrue), AppError::MfaRequired);
        // Without a factor to verify, the database's words.
        let admin = r#"{"code":"42501","details":"mfa_required","hint":"Set up an authenticator app under Settings, Security, then sign in again with its code.","message":"Administrators must complete two-step verification to use admin functions"}"#;
        assert_eq!(
            AppError::database_words(admin).to_string(),
            "Administrators must complete two-step verification to use admin functions. Set up an authenticator app under Settings, Security, then sign in again with its code."
        );
    }

    #[wasm_bindgen_test]
    fn postgrest_not_found_codes() {
        let single = r#"{"code":"PGRST116","details":"The result contains 0 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}"#;
        assert_eq!(
            AppError::from_response(406, single).to_string(),
            "Not found"
        );
        let raised = r#"{"code":"PT404","details":null,"hint":"It may have been deleted, or it is not yours.","message":"Task not found"}"#;
        assert_eq!(AppError::from_response(404, raised), AppError::NotFound);
    }

    #[wasm_bindgen_test]
    fn check_violation_keeps_the_database_message() {
        let body = r#"{"code":"23514","details":null,"hint":"Correct the task parameters and try again.","message":"Invalid parameters for http request task: url must be an absolute http:// or https:// URL"}"#;
        assert_eq!(
            AppError::from_response(400, body).to_string(),
            "Invalid parameters for http request task: url must be an absolute http:// or https:// URL. Correct the task parameters and try again."
        );
        let raised = r#"{"code":"P0001","details":null,"hint":null,"message":"Only a pending or running task can be cancelled; this one is completed"}"#;
        assert_eq!(
            AppError::from_response(400, raised).to_string(),
            "Only a pending or running task can be cancelled; this one is completed"
        );
    }

    #[wasm_bindgen_test]
    fn unique_violation_and_expired_jwt() {
        let dup = r#"{"code":"23505","details":"Key (key)=(x) already exists.","hint":null,"message":"duplicate key value violates unique constraint"}"#;
        assert_eq!(
            AppError::from_response(409, dup),
            AppError::Conflict("That already exists.".into())
        );
        let jwt = r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT expired"}"#;
        assert!(AppError::from_response(401, jwt).is_session_expired());
    }

    #[wasm_bindgen_test]
    fn gotrue_bodies() {
        let wrong =
            r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#;
        assert_eq!(
            AppError::from_response(400, wrong).to_string(),
            "Wrong email or password."
        );
        let versioned = r#"{"code":"invalid_credentials","message":"Invalid login credentials"}"#;
        assert_eq!(
            AppError::from_response(400, versioned),
            AppError::InvalidCredentials
        );
        let oauth = r#"{"error":"invalid_grant","error_description":"Invalid login credentials"}"#;
        assert_eq!(
            AppError::from_response(400, oauth),
            AppError::InvalidCredentials
        );
        let refresh = r#"{"error":"invalid_grant","error_description":"Invalid Refresh Token: Already Used"}"#;
        assert!(AppError::from_response(400, refresh).is_session_expired());
        let provider = r#"{"code":400,"error_code":"validation_failed","msg":"Unsupported provider: provider is not enabled"}"#;
        assert_eq!(
            AppError::from_response(400, provider).to_string(),
            "Unsupported provider: provider is not enabled"
        );
        let exists =
            r#"{"code":422,"error_code":"user_already_exists","msg":"User already registered"}"#;
        assert!(AppError::from_response(422, exists)
            .to_string()
            .contains("already exists"));
        let rate = r#"{"code":429,"error_code":"over_request_rate_limit","msg":"Request rate limit reached"}"#;
        assert_eq!(AppError::from_response(429, rate), AppError::RateLimited);
    }

    #[wasm_bindgen_test]
    fn storage_bodies() {
        let denied = r#"{"statusCode":"403","error":"Unauthorized","message":"new row violates row-level security policy"}"#;
        assert_eq!(AppError::from_response(400, denied), AppError::Forbidden);
        let missing = r#"{"statusCode":"404","error":"not_found","message":"Object not found"}"#;
        assert_eq!(
            AppError::from_response(400, missing).to_string(),
            "Not found"
        );
        let dup =
            r#"{"statusCode":"409","error":"Duplicate","message":"The resource already exists"}"#;
        assert!(matches!(
            AppError::from_response(400, dup),
            AppError::Conflict(_)
        ));
        let big = r#"{"statusCode":"413","error":"Payload too large","message":"The object exceeded the maximum allowed size"}"#;
        assert_eq!(
            AppError::from_response(413, big).to_string(),
            "The file is too large."
        );
    }

    #[wasm_bindgen_test]
    fn status_fallbacks() {
        assert_eq!(
            AppError::from_response(502, "<html>Bad gateway</html>"),
            AppError::Server
        );
        assert_eq!(AppError::from_response(401, ""), AppError::SessionExpired);
        assert_eq!(
            AppError::Network.to_string(),
            "Can't reach the server. Check your connection and try again."
        );
    }

    #[wasm_bindgen_test]
    fn capitalize_upper_cases_the_first_letter_only() {
        assert_eq!(capitalize("  title is required "), "Title is required");
        assert_eq!(capitalize("écrit"), "Écrit");
        assert_eq!(capitalize("ßig"), "SSig");
        assert_eq!(capitalize("1 row"), "1 row");
        assert_eq!(capitalize("   "), "");
    }

    #[wasm_bindgen_test]
    fn domain_errors_read_as_sentences() {
        let error: AppError = domain::DomainError::invalid("title", domain::Rule::Required).into();
        assert_eq!(error.to_string(), "Title is required");
    }
}
