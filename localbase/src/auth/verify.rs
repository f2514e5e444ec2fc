//! Mailed one-time tokens: `POST /recover`, `POST /otp` (and `/magiclink`), and redeeming them
//! with `POST /verify` (a code or a token hash → a session) or `GET /verify` (the mailed link →
//! a 303 to `redirect_to` with the session in the URL fragment).
//!
//! As in GoTrue, a mail carries a 6-digit code and a link whose `token` is the token hash
//! `hex(sha224(email + code))`; only the hash is stored (`auth.users.recovery_token`,
//! `confirmation_token`).

use super::error::{
    object_or_empty, parse_body, rate_limit, rate_limit_account, AuthError, ClientInfo,
};
use super::mail;
use super::ratelimit::Bucket;
use super::session;
use super::users::{self, UserRow};
use crate::{AppState, Config};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha224};
use std::collections::HashMap;

/// GoTrue's token hash of a mailed code.
pub(super) fn token_hash(email: &str, code: &str) -> String {
    hex::encode(Sha224::digest(
        format!("{}{}", email.to_lowercase(), code).as_bytes(),
    ))
}

fn new_code() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32))
}

/// Percent-encodes a query or fragment value (spaces as `+`, like Go's `url.Values`).
pub(super) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let end = rest
        .find(['/', '?', '#'])
        .map(|i| scheme_end + i)
        .unwrap_or(url.len());
    Some(&url[..end])
}

fn glob_match(pattern: &str, candidate: &str) -> bool {
    match pattern.split_once('*') {
        None => {
            candidate == pattern
                || candidate.starts_with(&format!("{}/", pattern.trim_end_matches('/')))
                || candidate.starts_with(&format!("{pattern}?"))
                || candidate.starts_with(&format!("{pattern}#"))
        }
        Some((prefix, suffix)) => {
            candidate.len() >= prefix.len() + suffix.len()
                && candidate.starts_with(prefix)
                && candidate.ends_with(suffix)
        }
    }
}

/// `redirect_to` when it points at the site (same origin) or an allowed URL, else the site URL
/// (GoTrue's rule).
pub(super) fn redirect_target(config: &Config, requested: Option<&str>) -> String {
    let site = config.site_url.trim_end_matches('/').to_owned();
    let Some(requested) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return site;
    };
    let same_origin = origin(requested).is_some() && origin(requested) == origin(&site);
    let listed = config
        .auth
        .additional_redirect_urls
        .iter()
        .any(|allowed| glob_match(allowed, requested));
    if same_origin || listed {
        requested.to_owned()
    } else {
        site
    }
}

#[derive(Deserialize, Default)]
struct RecoverParams {
    #[serde(default)]
    email: Option<String>,
}

/// `POST /recover {email}` → 200 `{}` whether or not the address has an account.
pub(super) async fn recover(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    // GoTrue: `limitHandler(limiterOpts.Recover)` before anything else.
    rate_limit(&state, &client, Bucket::Otp)?;
    let params: RecoverParams = parse_body(&body)?;
    let email = users::validate_email(params.email.as_deref().unwrap_or(""))?;
    rate_limit(&state, &client, Bucket::Email)?;
    rate_limit_account(&state, Bucket::Email, &email)?;
    let mut conn = state.db.acquire().await?;
    if let Some(user) = users::find_by_email(&mut conn, &email).await? {
        let redirect = redirect_target(&state.config, query.get("redirect_to").map(String::as_str));
        send_link(&state, &mut conn, &user, "recovery", &redirect).await?;
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
struct OtpParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    create_user: Option<bool>,
    #[serde(default)]
    data: Option<Value>,
}

/// `POST /otp {email, create_user, data}` (and the older `POST /magiclink {email}`): mails a
/// magic link and a code, creating the user first unless `create_user` is false.
pub(super) async fn otp(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    // GoTrue: `limitHandler(limiterOpts.Otp)` (`MagicLink` for `/magiclink`, same rate).
    rate_limit(&state, &client, Bucket::Otp)?;
    let params: OtpParams = parse_body(&body)?;
    if params.email.as_deref().unwrap_or("").is_empty()
        && params.phone.as_deref().is_some_and(|p| !p.is_empty())
    {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        ));
    }
    let email = users::validate_email(params.email.as_deref().unwrap_or(""))?;
    rate_limit(&state, &client, Bucket::Email)?;
    let mut tx = state.db.begin().await?;
    let user = match users::find_by_email(&mut tx, &email).await? {
        Some(user) => user,
        None => {
            if params.create_user == Some(false) || state.config.auth.disable_signup {
                return Err(AuthError::unprocessable(
                    "otp_disabled",
                    "Signups not allowed for otp",
                ));
            }
            let new = super::user::NewUser {
                email: &email,
                password_hash: None,
                confirmed: true,
                user_metadata: object_or_empty(params.data),
                app_metadata: json!({}),
                role: "authenticated",
            };
            let id = super::user::insert_user(&mut tx, new).await?;
            users::find_by_id(&mut tx, id)
                .await?
                .ok_or_else(|| AuthError::internal("new user vanished"))?
        }
    };
    // Mails to one address are spaced out (GoTrue's `max_frequency`).
    rate_limit_account(&state, Bucket::Email, &email)?;
    let redirect = redirect_target(&state.config, query.get("redirect_to").map(String::as_str));
    send_link(&state, &mut tx, &user, "magiclink", &redirect).await?;
    tx.commit().await?;
    Ok(Json(json!({})))
}

/// Stores a new token hash for `kind` and mails the link and code, in the language of the
/// user's metadata (`user_metadata.language`, which the SPA keeps in step with the profile).
async fn send_link(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    user: &UserRow,
    kind: &str,
    redirect: &str,
) -> Result<(), AuthError> {
    let code = new_code();
    let hash = token_hash(user.email(), &code);
    sqlx::query(
        "update auth.users set recovery_token = $2, recovery_sent_at = now() where id = $1",
    )
    .bind(user.id)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    let link = format!(
        "{}/auth/v1/verify?token={}&type={}&redirect_to={}",
        state.config.site_url.trim_end_matches('/'),
        hash,
        kind,
        encode(redirect)
    );
    let language = user
        .raw_user_meta_data
        .as_ref()
        .and_then(|data| data.get("language"))
        .and_then(Value::as_str);
    let words = mail::Words::for_mail(kind, language);
    mail::deliver(state, user.email(), kind, &words, &link, &code).await
}

#[derive(Deserialize, Default)]
struct VerifyParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    token_hash: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    redirect_to: Option<String>,
}

/// Which stored token a verification type redeems.
fn token_column(kind: &str) -> Result<(&'static str, &'static str), AuthError> {
    match kind {
        "recovery" | "magiclink" | "email" => Ok(("recovery_token", "recovery_sent_at")),
        "signup" | "invite" => Ok(("confirmation_token", "confirmation_sent_at")),
        "email_change" => Ok(("email_change_token_new", "email_change_sent_at")),
        "sms" | "phone_change" => Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        )),
        _ => Err(AuthError::bad_request(
            "validation_failed",
            "Verify requires a verification type",
        )),
    }
}

/// Redeems a token hash of `kind`: clears it, confirms the address, starts a session.
async fn redeem(
    state: &AppState,
    client: &ClientInfo,
    kind: &str,
    hash: &str,
    expired_msg: &str,
) -> Result<Value, AuthError> {
    let (column, sent_column) = token_column(kind)?;
    let expired = || AuthError::forbidden("otp_expired", expired_msg.to_owned());
    let mut tx = state.db.begin().await?;
    // Both names come from the fixed table above, never from the request.
    let found: Option<(uuid::Uuid, bool)> = sqlx::query_as(&format!(
        "select id, coalesce({sent_column} + make_interval(secs => $2) < now(), true) from auth.users \
          where {column} = $1 and {column} <> '' for update"
    ))
    .bind(hash)
    .bind(state.config.auth.otp_expiry_secs as f64)
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, is_expired) = found.ok_or_else(expired)?;
    if is_expired {
        return Err(expired());
    }
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(expired)?;
    if user.banned {
        return Err(AuthError::forbidden("user_banned", "User is banned"));
    }
    sqlx::query(&format!(
        "update auth.users set {column} = '', email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() \
          where id = $1"
    ))
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    if kind == "email_change" {
        if let Some(new_email) = user.email_change.as_deref().filter(|e| !e.is_empty()) {
            super::user::change_email(&mut tx, user_id, new_email).await?;
        }
    }
    let (session_id, refresh_token) =
        session::create_session(&mut tx, user_id, "otp", client).await?;
    let response =
        session::session_response(&mut tx, state, user_id, session_id, &refresh_token).await?;
    tx.commit().await?;
    Ok(response)
}

/// `POST /verify {type, token + email | token_hash}` → a session.
pub(super) async fn verify_post(
    State(state): State<AppState>,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let params: VerifyParams = parse_body(&body)?;
    rate_limit(&state, &client, Bucket::Verify)?;
    let kind = params.kind.unwrap_or_default();
    let _ = params.redirect_to;
    let hash = match (
        params.token_hash.filter(|h| !h.is_empty()),
        params.token.filter(|t| !t.is_empty()),
    ) {
        (Some(hash), _) => hash,
        (None, Some(token)) => {
            let email = params
                .email
                .filter(|e| !e.trim().is_empty())
                .ok_or_else(|| {
                    AuthError::bad_request(
                        "validation_failed",
                        "Only an email address or phone number should be provided on verify",
                    )
                })?;
            rate_limit_account(&state, Bucket::Verify, &email)?;
            token_hash(email.trim(), token.trim())
        }
        (None, None) => {
            return Err(AuthError::bad_request(
                "validation_failed",
                "Verify requires either a token or a token hash",
            ))
        }
    };
    redeem(
        &state,
        &client,
        &kind,
        &hash,
        "Token has expired or is invalid",
    )
    .await
    .map(Json)
}

/// `GET /verify?token=<hash>&type=…&redirect_to=…` → 303 to `redirect_to` with
/// `#access_token=…&expires_at=…&expires_in=…&refresh_token=…&token_type=bearer&type=…`, or with
/// `#error=…&error_code=…&error_description=…` when the link is no good.
pub(super) async fn verify_get(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientInfo,
) -> Result<Response, AuthError> {
    let kind = query.get("type").cloned().unwrap_or_default();
    let token = query.get("token").cloned().unwrap_or_default();
    let redirect = redirect_target(&state.config, query.get("redirect_to").map(String::as_str));
    if token.is_empty() {
        return Err(AuthError::bad_request(
            "validation_failed",
            "Verify requires a token or a token hash",
        ));
    }
    let fragment = match rate_limit(&state, &client, Bucket::Verify) {
        Err(e) => error_fragment(&e),
        Ok(()) => match redeem(
            &state,
            &client,
            &kind,
            &token,
            "Email link is invalid or has expired",
        )
        .await
        {
            Ok(session) => {
                let field = |name: &str| {
                    session
                        .get(name)
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .unwrap_or_default()
                };
                format!(
                    "access_token={}&expires_at={}&expires_in={}&refresh_token={}&token_type=bearer&type={}",
                    encode(&field("access_token")),
                    field("expires_at"),
                    field("expires_in"),
                    encode(&field("refresh_token")),
                    encode(&kind)
                )
            }
            Err(e) if e.status.is_server_error() => return Err(e),
            Err(e) => error_fragment(&e),
        },
    };
    let separator = if redirect.contains('#') { "&" } else { "#" };
    let location = format!("{redirect}{separator}{fragment}");
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

fn error_fragment(e: &AuthError) -> String {
    let error = match e.status {
        StatusCode::FORBIDDEN => "access_denied",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        _ => "invalid_request",
    };
    format!(
        "error={error}&error_code={}&error_description={}",
        encode(e.error_code),
        encode(&e.msg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_site_or_the_allow_list() {
        let config = Config::local("/tmp/unused", "http://127.0.0.1:54321");
        assert_eq!(
            redirect_target(&config, Some("http://127.0.0.1:54321/auth/reset-password")),
            "http://127.0.0.1:54321/auth/reset-password"
        );
        assert_eq!(
            redirect_target(&config, Some("http://localhost:8080/x")),
            "http://localhost:8080/x"
        );
        assert_eq!(
            redirect_target(&config, Some("https://evil.example/steal")),
            "http://127.0.0.1:54321"
        );
        assert_eq!(
            redirect_target(&config, Some("http://127.0.0.1:54321.evil.example/")),
            "http://127.0.0.1:54321"
        );
        assert_eq!(redirect_target(&config, None), "http://127.0.0.1:54321");
    }

    #[test]
    fn values_are_percent_encoded() {
        assert_eq!(encode("a b/c?d=e&f"), "a+b%2Fc%3Fd%3De%26f");
    }

    #[test]
    fn token_hashes_are_sha224_hex_of_email_and_code() {
        assert_eq!(token_hash("Ann@Example.com", "123456").len(), 56);
        assert_eq!(
            token_hash("Ann@Example.com", "123456"),
            token_hash("ann@example.com", "123456")
        );
    }
}
