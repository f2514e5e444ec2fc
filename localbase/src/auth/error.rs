//! GoTrue's error bodies, the API-version switch, and small request helpers shared by the
//! handlers (client identity, JSON bodies, rate limits).

use super::ratelimit::Bucket;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;

/// The header that selects the newer error format.
pub(super) const API_VERSION_HEADER: &str = "x-supabase-api-version";
const API_VERSION_2024: &str = "2024-01-01";

/// An error answered the way GoTrue answers it.
#[derive(Debug, Clone)]
pub struct AuthError {
    /// The HTTP status (also the body's `code` in the pre-2024 format).
    pub status: StatusCode,
    /// GoTrue's `ErrorCode` (`invalid_credentials`, `user_not_found`…), or the OAuth2 `error`.
    pub error_code: &'static str,
    /// The human-readable `msg` (`message` in the 2024 format, `error_description` for OAuth2).
    pub msg: String,
    /// `weak_password.reasons` for weak-password errors.
    pub reasons: Option<Vec<&'static str>>,
    /// An OAuth2-style error (`{"error","error_description"}`), as GoTrue still answers for
    /// a few `/token` failures.
    pub oauth: bool,
}

impl AuthError {
    /// An error in GoTrue's usual format.
    pub fn new(status: StatusCode, error_code: &'static str, msg: impl Into<String>) -> Self {
        AuthError {
            status,
            error_code,
            msg: msg.into(),
            reasons: None,
            oauth: false,
        }
    }
    /// A 400.
    pub fn bad_request(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error_code, msg)
    }
    /// A 401.
    pub fn unauthorized(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error_code, msg)
    }
    /// A 403.
    pub fn forbidden(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, error_code, msg)
    }
    /// A 404.
    pub fn not_found(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error_code, msg)
    }
    /// A 422, GoTrue's status for a request it understood but refuses.
    pub fn unprocessable(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, error_code, msg)
    }
    /// A 429: a rate limit was hit.
    pub fn too_many(error_code: &'static str, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, error_code, msg)
    }
    /// `{"error": error, "error_description": description}` with status 400.
    pub fn oauth(error: &'static str, description: impl Into<String>) -> Self {
        AuthError {
            oauth: true,
            ..Self::bad_request(error, description)
        }
    }
    /// GoTrue's 422 `weak_password` with the reasons (`length`, `characters`, `pwned`).
    pub fn weak_password(reasons: Vec<&'static str>, msg: impl Into<String>) -> Self {
        AuthError {
            reasons: Some(reasons),
            ..Self::unprocessable("weak_password", msg)
        }
    }
    /// A 500: the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error.cause_chain = %cause, "auth: unexpected failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            "Unexpected failure, please check server logs for more information",
        )
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::internal(e)
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(e: anyhow::Error) -> Self {
        AuthError::internal(format!("{e:#}"))
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error_code,
            self.msg
        )
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = if self.oauth {
            json!({ "error": self.error_code, "error_description": self.msg })
        } else {
            let mut body = json!({ "code": self.status.as_u16(), "error_code": self.error_code, "msg": self.msg });
            if let Some(reasons) = &self.reasons {
                body["weak_password"] = json!({ "reasons": reasons });
            }
            body
        };
        let status = self.status;
        let mut response = (status, axum::Json(body)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// True when the header asks for API version 2024-01-01 or later.
fn wants_2024_errors(value: Option<&HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
        .and_then(|date| chrono::NaiveDate::from_ymd_opt(2024, 1, 1).map(|v2024| date >= v2024))
        .unwrap_or(false)
}

/// Rewrites GoTrue errors into the 2024-01-01 format when the request asks for it, and echoes
/// the version header back, as GoTrue does.
pub(super) async fn api_version_layer(request: Request, next: Next) -> Response {
    let new_format = wants_2024_errors(request.headers().get(API_VERSION_HEADER));
    let mut response = next.run(request).await;
    if !new_format {
        return response;
    }
    response.headers_mut().insert(
        API_VERSION_HEADER,
        HeaderValue::from_static(API_VERSION_2024),
    );
    let Some(error) = response.extensions().get::<AuthError>().cloned() else {
        return response;
    };
    if error.oauth {
        return response;
    }
    let mut body = json!({ "code": error.error_code, "message": error.msg });
    if let Some(reasons) = &error.reasons {
        body["weak_password"] = json!({ "reasons": reasons });
    }
    let mut rewritten = (error.status, axum::Json(body)).into_response();
    rewritten.headers_mut().insert(
        API_VERSION_HEADER,
        HeaderValue::from_static(API_VERSION_2024),
    );
    rewritten
}

/// Who is on the other end: the IP (the socket's when served, else the first
/// `X-Forwarded-For` entry, else `unknown`) and the user agent.
#[derive(Debug, Clone)]
pub(super) struct ClientInfo {
    pub ip: String,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The IP when it is one (for `inet` columns).
    pub(super) fn inet(&self) -> Option<String> {
        self.ip
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .or_else(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(ClientInfo { ip, user_agent })
    }
}

/// Parses a JSON request body (an empty body is `{}`), failing as GoTrue does.
pub(super) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AuthError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        AuthError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )
    })
}

/// A JSON object, or `{}` for anything else (metadata columns).
pub(super) fn object_or_empty(value: Option<Value>) -> Value {
    match value {
        Some(Value::Object(map)) => Value::Object(map),
        _ => json!({}),
    }
}

/// Counts a request against the IP's limit for `bucket`. Every bucket has its own counter, as
/// each of GoTrue's limiters does (`internal/api/apilimiter`), even where two share a setting.
pub(super) fn rate_limit(
    state: &AppState,
    client: &ClientInfo,
    bucket: Bucket,
) -> Result<(), AuthError> {
    let limits = &state.config.auth.rate_limits;
    let (limit, window) = match bucket {
        // `sign_in_sign_ups` is GOTRUE_RATE_LIMIT_OTP in the CLI: sign-ups, OTP/magic-link/
        // recovery requests and `PUT /user`.
        Bucket::Signup | Bucket::User | Bucket::Otp => {
            (limits.sign_in_sign_ups, limits.sign_in_window_secs)
        }
        Bucket::SignIn => (limits.sign_in_per_account, limits.sign_in_window_secs),
        Bucket::Token => (limits.token_refresh, limits.token_refresh_window_secs),
        Bucket::Verify => (
            limits.token_verifications,
            limits.token_verifications_window_secs,
        ),
        Bucket::Challenge | Bucket::FactorVerify => (
            limits.mfa_challenge_and_verify,
            limits.mfa_challenge_and_verify_window_secs,
        ),
        Bucket::Email => (limits.email_sent, limits.email_window_secs),
    };
    if state
        .config
        .auth
        .limiter
        .allow(bucket, &client.ip, limit, window)
    {
        return Ok(());
    }
    Err(match bucket {
        // GoTrue's `EmailRateLimitExceeded` (internal/api/mail.go).
        Bucket::Email => {
            AuthError::too_many("over_email_send_rate_limit", "email rate limit exceeded")
        }
        _ => AuthError::too_many("over_request_rate_limit", "Request rate limit reached"),
    })
}

/// Counts a request against an account's limit for `bucket`: `account` is an email address
/// (lower-cased here; whether it has a user does not matter) or a user id. Mails to one address
/// are spaced by `email_max_frequency_secs`, answered as GoTrue answers its `max_frequency`.
pub(super) fn rate_limit_account(
    state: &AppState,
    bucket: Bucket,
    account: &str,
) -> Result<(), AuthError> {
    let limits = &state.config.auth.rate_limits;
    let (limit, window) = match bucket {
        Bucket::SignIn => (limits.sign_in_per_account, limits.sign_in_window_secs),
        Bucket::Verify | Bucket::FactorVerify => (
            limits.token_verifications_per_account,
            limits.token_verifications_window_secs,
        ),
        Bucket::Email => (1, limits.email_max_frequency_secs),
        Bucket::Token | Bucket::Signup | Bucket::User | Bucket::Otp | Bucket::Challenge => {
            return Ok(())
        }
    };
    if bucket == Bucket::Email && window == 0 {
        return Ok(());
    }
    let key = format!("account:{}", account.trim().to_lowercase());
    match state.config.auth.limiter.check(bucket, &key, limit, window) {
        Ok(()) => Ok(()),
        Err(left) if bucket == Bucket::Email => Err(AuthError::too_many(
            "over_email_send_rate_limit",
            format!(
                "For security purposes, you can only request this after {} seconds.",
                left.as_secs()
            ),
        )),
        Err(_) => Err(AuthError::too_many(
            "over_request_rate_limit",
            "Request rate limit reached",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2024_format_is_chosen_by_date() {
        assert!(wants_2024_errors(Some(&HeaderValue::from_static(
            "2024-01-01"
        ))));
        assert!(wants_2024_errors(Some(&HeaderValue::from_static(
            "2025-06-30"
        ))));
        assert!(!wants_2024_errors(Some(&HeaderValue::from_static(
            "2023-12-31"
        ))));
        assert!(!wants_2024_errors(Some(&HeaderValue::from_static("soon"))));
        assert!(!wants_2024_errors(None));
    }
}
