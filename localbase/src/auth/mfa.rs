//! TOTP MFA: `POST /factors` (enroll), `POST /factors/{id}/challenge`,
//! `POST /factors/{id}/verify` (→ the session upgraded to `aal2`), `DELETE /factors/{id}`.
//! SHA-1, 6 digits, 30-second steps, one step of clock skew either way, as GoTrue.

use super::error::{parse_body, rate_limit, rate_limit_account, AuthError, ClientInfo};
use super::ratelimit::Bucket;
use super::session;
use super::users::{self, Caller};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

#[derive(Deserialize, Default)]
struct EnrollParams {
    #[serde(default)]
    factor_type: Option<String>,
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

/// Percent-encodes an otpauth label or parameter.
fn encode_component(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The TOTP checker for a stored (base32) secret.
fn totp_for(secret_b32: &str) -> Result<TOTP, AuthError> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| AuthError::internal(format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).map_err(AuthError::internal)
}

async fn session_aal(state: &AppState, caller: &Caller) -> Result<String, AuthError> {
    let mut conn = state.db.acquire().await?;
    Ok(users::session_aal(&mut conn, caller.session_id).await?)
}

/// `POST /factors {factor_type: "totp", friendly_name, issuer}`.
pub(super) async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let caller = users::authenticate(&state, &headers).await?;
    let params: EnrollParams = parse_body(&body)?;
    match params.factor_type.as_deref().unwrap_or("") {
        "totp" => {}
        "phone" => {
            return Err(AuthError::unprocessable(
                "mfa_phone_enroll_not_enabled",
                "MFA enroll is disabled for Phone",
            ))
        }
        "webauthn" => {
            return Err(AuthError::unprocessable(
                "mfa_webauthn_enroll_not_enabled",
                "MFA enroll is disabled for WebAuthn",
            ))
        }
        _ => {
            return Err(AuthError::bad_request(
                "validation_failed",
                "factor_type needs to be totp, phone or webauthn",
            ))
        }
    }
    let user = &caller.user;
    let has_verified = {
        let mut conn = state.db.acquire().await?;
        users::has_verified_factor(&mut conn, user.id).await?
    };
    if has_verified && session_aal(&state, &caller).await? != "aal2" {
        return Err(AuthError::unprocessable(
            "insufficient_aal",
            "AAL2 required to enroll a new factor",
        ));
    }
    let friendly_name = params.friendly_name.unwrap_or_default();
    if !friendly_name.is_empty() {
        let taken: Option<(Uuid,)> = sqlx::query_as(
            "select id from auth.mfa_factors where user_id = $1 and friendly_name = $2",
        )
        .bind(user.id)
        .bind(&friendly_name)
        .fetch_optional(&state.db)
        .await?;
        if taken.is_some() {
            return Err(AuthError::unprocessable(
                "mfa_factor_name_conflict",
                format!("A factor with the friendly name \"{friendly_name}\" for this user already exists"),
            ));
        }
    }
    let issuer = params
        .issuer
        .filter(|i| !i.trim().is_empty())
        .unwrap_or_else(|| {
            let site = state.config.site_url.as_str();
            let host = site.split("://").nth(1).unwrap_or(site);
            host.split(['/', ':']).next().unwrap_or(host).to_owned()
        });
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    let secret = match Secret::Raw(raw.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => return Err(AuthError::internal("base32 encoding failed")),
    };
    let label = format!(
        "{}:{}",
        encode_component(&issuer),
        encode_component(user.email())
    );
    let uri = format!(
        "otpauth://totp/{label}?algorithm=SHA1&digits=6&issuer={}&period=30&secret={secret}",
        encode_component(&issuer)
    );
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(AuthError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    let qr_code = format!("data:image/svg+xml;utf-8,{svg}");

    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret) \
         values ($1, $2, $3, 'totp', 'unverified', now(), now(), $4)",
    )
    .bind(id)
    .bind(user.id)
    .bind(&friendly_name)
    .bind(&secret)
    .execute(&state.db)
    .await?;
    Ok(Json(json!({
        "id": id,
        "type": "totp",
        "friendly_name": friendly_name,
        "totp": { "qr_code": qr_code, "secret": secret, "uri": uri },
    })))
}

#[derive(sqlx::FromRow)]
struct FactorRow {
    id: Uuid,
    status: String,
    secret: Option<String>,
    factor_type: String,
}

async fn owned_factor(state: &AppState, caller: &Caller, id: &str) -> Result<FactorRow, AuthError> {
    let not_found = || AuthError::not_found("mfa_factor_not_found", "Factor not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    sqlx::query_as::<_, FactorRow>(
        "select id, status, secret, factor_type from auth.mfa_factors where id = $1 and user_id = $2",
    )
    .bind(id)
    .bind(caller.user.id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(not_found)
}

/// `POST /factors/{id}/challenge` → `{id, type, expires_at}`.
pub(super) async fn challenge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
) -> Result<Json<Value>, AuthError> {
    let caller = users::authenticate(&state, &headers).await?;
    // GoTrue: `limiterOpts.FactorChallenge`, at `MFA.RateLimitChallengeAndVerify` per minute.
    rate_limit(&state, &client, Bucket::Challenge)?;
    let factor = owned_factor(&state, &caller, &id).await?;
    let challenge_id = Uuid::new_v4();
    let ip = client.inet().unwrap_or_else(|| "0.0.0.0".to_owned());
    let (created_at,): (DateTime<Utc>,) = sqlx::query_as(
        "insert into auth.mfa_challenges (id, factor_id, created_at, ip_address) values ($1, $2, now(), $3::inet) \
         returning created_at",
    )
    .bind(challenge_id)
    .bind(factor.id)
    .bind(ip)
    .fetch_one(&state.db)
    .await?;
    sqlx::query("update auth.mfa_factors set last_challenged_at = now() where id = $1")
        .bind(factor.id)
        .execute(&state.db)
        .await?;
    Ok(Json(json!({
        "id": challenge_id,
        "type": factor.factor_type,
        "expires_at": created_at.timestamp() + state.config.auth.mfa_challenge_expiry_secs,
    })))
}

#[derive(Deserialize, Default)]
struct VerifyParams {
    #[serde(default)]
    challenge_id: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /factors/{id}/verify {challenge_id, code}` → the caller's session, now `aal2` with a
/// `totp` AMR entry (the factor becomes verified on its first success).
pub(super) async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let caller = users::authenticate(&state, &headers).await?;
    let params: VerifyParams = parse_body(&body)?;
    rate_limit(&state, &client, Bucket::FactorVerify)?;
    rate_limit_account(&state, Bucket::FactorVerify, &caller.user.id.to_string())?;
    let factor = owned_factor(&state, &caller, &id).await?;
    let session_id = caller.session_id.ok_or_else(|| {
        AuthError::forbidden(
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        )
    })?;
    let challenge_not_found = || {
        AuthError::not_found(
            "mfa_factor_not_found",
            "MFA factor with the provided challenge ID not found",
        )
    };
    let challenge_id = params
        .challenge_id
        .as_deref()
        .and_then(|c| Uuid::parse_str(c).ok())
        .ok_or_else(challenge_not_found)?;

    let mut tx = state.db.begin().await?;
    let challenge: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select created_at, verified_at from auth.mfa_challenges where id = $1 and factor_id = $2 for update",
    )
    .bind(challenge_id)
    .bind(factor.id)
    .fetch_optional(&mut *tx)
    .await?;
    let (created_at, verified_at) = challenge.ok_or_else(challenge_not_found)?;
    let expired = Utc::now()
        > created_at + chrono::Duration::seconds(state.config.auth.mfa_challenge_expiry_secs);
    if expired || verified_at.is_some() {
        sqlx::query("delete from auth.mfa_challenges where id = $1")
            .bind(challenge_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Err(AuthError::unprocessable(
            "mfa_challenge_expired",
            format!("MFA challenge {challenge_id} has expired, verify against another challenge or create a new challenge."),
        ));
    }
    let totp = totp_for(factor.secret.as_deref().unwrap_or(""))?;
    let code = params.code.unwrap_or_default();
    let valid = totp
        .check_current(code.trim())
        .map_err(AuthError::internal)?;
    if !valid {
        return Err(AuthError::unprocessable(
            "mfa_verification_failed",
            "Invalid TOTP code entered",
        ));
    }
    sqlx::query("update auth.mfa_challenges set verified_at = now() where id = $1")
        .bind(challenge_id)
        .execute(&mut *tx)
        .await?;
    if factor.status != "verified" {
        sqlx::query(
            "update auth.mfa_factors set status = 'verified', updated_at = now() where id = $1",
        )
        .bind(factor.id)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "update auth.sessions set aal = 'aal2', factor_id = $2, updated_at = now() where id = $1",
    )
    .bind(session_id)
    .bind(factor.id)
    .execute(&mut *tx)
    .await?;
    session::add_amr_claim(&mut tx, session_id, "totp").await?;
    let refresh_token = session::rotate_active_token(&mut tx, caller.user.id, session_id).await?;
    let response =
        session::session_response(&mut tx, &state, caller.user.id, session_id, &refresh_token)
            .await?;
    tx.commit().await?;
    Ok(Json(response))
}

/// `DELETE /factors/{id}` → `{id}`. A verified factor needs an `aal2` session; its sessions
/// drop back to `aal1`.
pub(super) async fn unenroll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    let caller = users::authenticate(&state, &headers).await?;
    let factor = owned_factor(&state, &caller, &id).await?;
    if factor.status == "verified" && session_aal(&state, &caller).await? != "aal2" {
        return Err(AuthError::unprocessable(
            "insufficient_aal",
            "AAL2 required to unenroll verified factor",
        ));
    }
    let mut tx = state.db.begin().await?;
    sqlx::query("delete from auth.mfa_factors where id = $1")
        .bind(factor.id)
        .execute(&mut *tx)
        .await?;
    if factor.status == "verified" {
        session::downgrade_sessions_of_factor(&mut tx, factor.id).await?;
    }
    tx.commit().await?;
    Ok(Json(json!({ "id": factor.id })))
}
