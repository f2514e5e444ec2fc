//! Sessions: `auth.sessions` + `auth.refresh_tokens` + `auth.mfa_amr_claims`, the access
//! token's claims, `POST /token` (password and refresh-token grants) and `POST /logout`.

use super::error::{parse_body, rate_limit, rate_limit_account, AuthError, ClientInfo};
use super::ratelimit::Bucket;
use super::users::{self, UserRow, INSTANCE_ID};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// A bcrypt hash (cost 10) of nothing anyone types, checked against when the address is unknown.
const DUMMY_HASH: &str = "$2b$10$7EqJtq98hPqEX7fNZaFWoOa5pMfmBuHiE1JhqyRN0iUKPG1DjEIhq";

/// A fresh opaque refresh token (~131 bits).
pub(super) fn new_refresh_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(22)
        .map(char::from)
        .collect()
}

/// Starts a session for `user_id` signed in by `method` (`password`, `otp`, `recovery`…):
/// the session row, its first AMR claim and its first refresh token. Returns the session id and
/// the refresh token. Also stamps `last_sign_in_at`.
pub(super) async fn create_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    method: &str,
    client: &ClientInfo,
) -> Result<(Uuid, String), sqlx::Error> {
    let session_id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip) \
         values ($1, $2, now(), now(), 'aal1', $3, $4::inet)",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(&client.user_agent)
    .bind(client.inet())
    .execute(&mut *conn)
    .await?;
    add_amr_claim(conn, session_id, method).await?;
    let token = new_refresh_token();
    insert_refresh_token(conn, user_id, session_id, &token, None).await?;
    sqlx::query("update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok((session_id, token))
}

/// Records (or refreshes) an authentication method of a session.
pub(super) async fn add_amr_claim(
    conn: &mut PgConnection,
    session_id: Uuid,
    method: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id) \
         values ($1, now(), now(), $2, $3) \
         on conflict (session_id, authentication_method) do update set updated_at = now()",
    )
    .bind(session_id)
    .bind(method)
    .bind(Uuid::new_v4())
    .execute(conn)
    .await?;
    Ok(())
}

/// GoTrue's `DowngradeSessionsToAAL1` (internal/models/factor.go): the sessions a removed TOTP
/// factor raised lose their `totp` AMR claim and go back to `aal1`.
pub(super) async fn downgrade_sessions_of_factor(
    conn: &mut PgConnection,
    factor_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "delete from auth.mfa_amr_claims where authentication_method = 'totp' \
           and session_id in (select id from auth.sessions where factor_id = $1)",
    )
    .bind(factor_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update auth.sessions set aal = 'aal1', factor_id = null, updated_at = now() where factor_id = $1",
    )
    .bind(factor_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_refresh_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    token: &str,
    parent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) \
         values ($1::uuid, $2, $3, false, now(), now(), $4, $5)",
    )
    .bind(INSTANCE_ID)
    .bind(token)
    .bind(user_id.to_string())
    .bind(parent)
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends the session's active refresh token and issues its successor (used when the
/// session's assurance level changes).
pub(super) async fn rotate_active_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<String, sqlx::Error> {
    let active: Option<(String,)> = sqlx::query_as(
        "update auth.refresh_tokens set revoked = true, updated_at = now() \
          where session_id = $1 and revoked = false returning token",
    )
    .bind(session_id)
    .fetch_optional(&mut *conn)
    .await?;
    let token = new_refresh_token();
    insert_refresh_token(
        conn,
        user_id,
        session_id,
        &token,
        active.as_ref().map(|(t,)| t.as_str()),
    )
    .await?;
    Ok(token)
}

/// The access token for a session: GoTrue's claims, signed with the project's secret.
pub(super) async fn access_token(
    conn: &mut PgConnection,
    state: &AppState,
    user: &UserRow,
    session_id: Uuid,
) -> Result<(String, i64), AuthError> {
    let aal: Option<(Option<String>,)> =
        sqlx::query_as("select aal from auth.sessions where id = $1")
            .bind(session_id)
            .fetch_optional(&mut *conn)
            .await?;
    let aal = aal.and_then(|(a,)| a).unwrap_or_else(|| "aal1".to_owned());
    let amr: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "select authentication_method, updated_at from auth.mfa_amr_claims where session_id = $1 \
          order by floor(extract(epoch from updated_at)) desc, created_at, id",
    )
    .bind(session_id)
    .fetch_all(&mut *conn)
    .await?;
    let now = Utc::now().timestamp();
    let exp = now + state.config.jwt_expiry_secs;
    let claims = json!({
        "iss": format!("{}/auth/v1", state.config.site_url.trim_end_matches('/')),
        "sub": user.id,
        "aud": user.aud(),
        "exp": exp,
        "iat": now,
        "email": user.email(),
        "phone": user.phone.clone().unwrap_or_default(),
        "app_metadata": user.app_metadata(),
        "user_metadata": user.user_metadata(),
        "role": user.role(),
        "aal": aal,
        "amr": amr.iter().map(|(method, at)| json!({"method": method, "timestamp": at.timestamp()})).collect::<Vec<_>>(),
        "session_id": session_id,
        "is_anonymous": user.is_anonymous,
    });
    let token = crate::jwt::sign(&claims, &state.config.jwt_secret)?;
    Ok((token, exp))
}

/// GoTrue's `AccessTokenResponse`: `{access_token, token_type, expires_in, expires_at,
/// refresh_token, user}`.
pub(super) async fn session_response(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    refresh_token: &str,
) -> Result<Value, AuthError> {
    let user = users::find_by_id(conn, user_id)
        .await?
        .ok_or_else(|| AuthError::internal("the session's user vanished"))?;
    let (token, expires_at) = access_token(conn, state, &user, session_id).await?;
    Ok(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": state.config.jwt_expiry_secs,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": users::user_json(conn, &user).await?,
    }))
}

#[derive(Deserialize, Default)]
struct PasswordGrant {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize, Default)]
struct RefreshGrant {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST /token?grant_type=password|refresh_token`.
pub(super) async fn token(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let grant_type = query.get("grant_type").map(String::as_str).unwrap_or("");
    if !matches!(grant_type, "password" | "refresh_token") {
        return Err(AuthError::oauth("unsupported_grant_type", ""));
    }
    // GoTrue (`Token` in internal/api/token.go): one per-IP limiter for both grants,
    // `rate_limit.token_refresh`, counted before the grant runs.
    rate_limit(&state, &client, Bucket::Token)?;
    match grant_type {
        "password" => password_grant(&state, &client, parse_body(&body)?)
            .await
            .map(Json),
        "refresh_token" => refresh_grant(&state, &client, parse_body(&body)?)
            .await
            .map(Json),
        _ => Err(AuthError::oauth("unsupported_grant_type", "")),
    }
}

async fn password_grant(
    state: &AppState,
    client: &ClientInfo,
    params: PasswordGrant,
) -> Result<Value, AuthError> {
    let invalid = || AuthError::bad_request("invalid_credentials", "Invalid login credentials");
    let password = params.password.unwrap_or_default();
    let email = params.email.unwrap_or_default();
    if email.trim().is_empty() {
        if params.phone.is_some_and(|p| !p.is_empty()) {
            return Err(AuthError::unprocessable(
                "phone_provider_disabled",
                "Phone logins are disabled",
            ));
        }
        return Err(AuthError::bad_request(
            "validation_failed",
            "missing email or phone",
        ));
    }
    // Counted per address whether or not it has an account.
    rate_limit_account(state, Bucket::SignIn, &email)?;
    let mut tx = state.db.begin().await?;
    let Some(user) = users::find_by_email(&mut tx, email.trim()).await? else {
        // Spend the time a real check takes, so timing does not tell which addresses exist.
        users::verify_password(&password, Some(DUMMY_HASH)).await?;
        return Err(invalid());
    };
    // The password is checked before the ban so the answer never tells a stranger whether an
    // account exists; a user without a password (magic link only) costs a bcrypt check too.
    let hash = user.encrypted_password.as_deref().filter(|h| !h.is_empty());
    let matches = users::verify_password(&password, Some(hash.unwrap_or(DUMMY_HASH))).await?;
    if !matches || hash.is_none() || user.deleted_at.is_some() {
        return Err(invalid());
    }
    if user.banned {
        return Err(AuthError::bad_request("user_banned", "User is banned"));
    }
    if user.email_confirmed_at.is_none() {
        return Err(AuthError::bad_request(
            "email_not_confirmed",
            "Email not confirmed",
        ));
    }
    let (session_id, refresh_token) = create_session(&mut tx, user.id, "password", client).await?;
    sqlx::query("update auth.identities set last_sign_in_at = now(), updated_at = now() where user_id = $1 and provider = 'email'")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    let mut response =
        session_response(&mut tx, state, user.id, session_id, &refresh_token).await?;
    // GoTrue signs in with a password that today's rules would refuse, and says so in the
    // session (`weak_password`, what supabase-js returns as `data.weakPassword`).
    if let Err(weak) = super::password::check_strength(state, &password).await {
        if let Some(reasons) = weak.reasons {
            response["weak_password"] = json!({ "message": weak.msg, "reasons": reasons });
        }
    }
    tx.commit().await?;
    Ok(response)
}

#[derive(sqlx::FromRow)]
struct RefreshTokenRow {
    id: i64,
    token: Option<String>,
    revoked: Option<bool>,
    updated_at: Option<DateTime<Utc>>,
    session_id: Option<Uuid>,
    user_id: Option<String>,
}

async fn refresh_grant(
    state: &AppState,
    client: &ClientInfo,
    params: RefreshGrant,
) -> Result<Value, AuthError> {
    let presented = params.refresh_token.unwrap_or_default();
    if presented.is_empty() {
        return Err(AuthError::oauth(
            "invalid_request",
            "refresh_token required",
        ));
    }
    let not_found = || {
        AuthError::bad_request(
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    };

    let mut tx = state.db.begin().await?;
    let row: Option<RefreshTokenRow> = sqlx::query_as(
        "select id, token, revoked, updated_at, session_id, user_id from auth.refresh_tokens where token = $1 for update",
    )
    .bind(&presented)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or_else(not_found)?;
    let user_id = row
        .user_id
        .as_deref()
        .and_then(|u| Uuid::parse_str(u).ok())
        .ok_or_else(not_found)?;
    let user = users::find_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(not_found)?;
    if user.banned {
        return Err(AuthError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let no_session = || {
        AuthError::bad_request(
            "session_not_found",
            "Invalid Refresh Token: No Valid Session Found",
        )
    };
    let session_id = row.session_id.ok_or_else(no_session)?;
    let session: Option<(Uuid,)> =
        sqlx::query_as("select id from auth.sessions where id = $1 for update")
            .bind(session_id)
            .fetch_optional(&mut *tx)
            .await?;
    if session.is_none() {
        return Err(no_session());
    }

    let issued = if row.revoked.unwrap_or(false) {
        let active: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "select token, parent from auth.refresh_tokens where session_id = $1 and revoked = false order by id desc limit 1",
        )
        .bind(session_id)
        .fetch_optional(&mut *tx)
        .await?;
        match active {
            // The client lost the answer to its last refresh: hand back the token it missed.
            Some((Some(token), Some(parent))) if Some(&parent) == row.token.as_ref() => token,
            _ => {
                let reuse_until = row.updated_at.unwrap_or_else(Utc::now)
                    + chrono::Duration::seconds(
                        state.config.auth.refresh_token_reuse_interval_secs,
                    );
                if Utc::now() > reuse_until {
                    // A spent token came back: assume it leaked and end the whole session, so
                    // neither its refresh tokens nor its access tokens work any more.
                    tracing::warn!(%session_id, refresh_token_id = row.id, "auth: refresh token reuse detected, session revoked");
                    sqlx::query("delete from auth.sessions where id = $1")
                        .bind(session_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Err(AuthError::bad_request(
                        "refresh_token_already_used",
                        "Invalid Refresh Token: Already Used",
                    ));
                }
                let token = new_refresh_token();
                insert_refresh_token(&mut tx, user_id, session_id, &token, Some(&presented))
                    .await?;
                token
            }
        }
    } else {
        sqlx::query(
            "update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1",
        )
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        let token = new_refresh_token();
        insert_refresh_token(&mut tx, user_id, session_id, &token, Some(&presented)).await?;
        token
    };
    sqlx::query(
        "update auth.sessions set refreshed_at = (now() at time zone 'utc'), updated_at = now(), \
                user_agent = $2, ip = $3::inet where id = $1",
    )
    .bind(session_id)
    .bind(&client.user_agent)
    .bind(client.inet())
    .execute(&mut *tx)
    .await?;
    let response = session_response(&mut tx, state, user_id, session_id, &issued).await?;
    tx.commit().await?;
    Ok(response)
}

/// `POST /logout?scope=global|local|others` → 204.
pub(super) async fn logout(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<StatusCode, AuthError> {
    let scope = query.get("scope").map(String::as_str).unwrap_or("global");
    if !matches!(scope, "global" | "local" | "others") {
        return Err(AuthError::bad_request(
            "validation_failed",
            format!("Unsupported logout scope {scope:?}"),
        ));
    }
    let caller = users::authenticate(&state, &headers).await?;
    let user_id = caller.user.id;
    match (scope, caller.session_id) {
        ("local", Some(session)) => {
            sqlx::query("delete from auth.sessions where id = $1")
                .bind(session)
                .execute(&state.db)
                .await?;
        }
        ("others", Some(session)) => {
            sqlx::query("delete from auth.sessions where user_id = $1 and id <> $2")
                .bind(user_id)
                .bind(session)
                .execute(&state.db)
                .await?;
        }
        ("others", None) => {}
        _ => {
            sqlx::query("delete from auth.sessions where user_id = $1")
                .bind(user_id)
                .execute(&state.db)
                .await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_is_a_real_bcrypt_hash() {
        assert_eq!(
            bcrypt::verify("anything", super::DUMMY_HASH).ok(),
            Some(false)
        );
        assert!(super::new_refresh_token().len() == 22);
    }
}
