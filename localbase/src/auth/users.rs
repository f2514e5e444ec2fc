//! `auth.users` rows, their JSON as GoTrue renders it, passwords, and the caller behind a
//! bearer token.

use super::error::AuthError;
use crate::jwt::{self, JwtError};
use crate::AppState;
use axum::http::HeaderMap;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

/// GoTrue's single instance id.
pub(super) const INSTANCE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The columns of `auth.users` localbase reads. Infinite timestamps (an admin's permanent ban
/// is `'infinity'`) are turned into NULL and the `banned` flag.
pub(super) const USER_COLUMNS: &str = "id, aud, role, email, encrypted_password, email_confirmed_at, invited_at, \
     confirmation_sent_at, recovery_sent_at, email_change, email_change_sent_at, phone, phone_confirmed_at, \
     confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, \
     case when isfinite(banned_until) then banned_until end as banned_until, \
     coalesce(banned_until > now(), false) as banned, deleted_at, is_anonymous";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct UserRow {
    pub id: Uuid,
    pub aud: Option<String>,
    pub role: Option<String>,
    pub email: Option<String>,
    pub encrypted_password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub invited_at: Option<DateTime<Utc>>,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub recovery_sent_at: Option<DateTime<Utc>>,
    pub email_change: Option<String>,
    pub email_change_sent_at: Option<DateTime<Utc>>,
    pub phone: Option<String>,
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub raw_app_meta_data: Option<Value>,
    pub raw_user_meta_data: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub banned_until: Option<DateTime<Utc>>,
    pub banned: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
}

impl UserRow {
    pub(super) fn email(&self) -> &str {
        self.email.as_deref().unwrap_or("")
    }
    pub(super) fn role(&self) -> &str {
        match self.role.as_deref() {
            Some(role) if !role.is_empty() => role,
            _ => "authenticated",
        }
    }
    pub(super) fn aud(&self) -> &str {
        match self.aud.as_deref() {
            Some(aud) if !aud.is_empty() => aud,
            _ => "authenticated",
        }
    }
    pub(super) fn app_metadata(&self) -> Value {
        self.raw_app_meta_data
            .clone()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}))
    }
    pub(super) fn user_metadata(&self) -> Value {
        self.raw_user_meta_data
            .clone()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}))
    }
}

/// RFC 3339 in UTC with sub-second digits, as Go renders `time.Time`.
pub(super) fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn ts_or_null(t: &Option<DateTime<Utc>>) -> Value {
    t.as_ref()
        .map(|t| Value::String(timestamp(t)))
        .unwrap_or(Value::Null)
}

pub(super) async fn find_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub(super) async fn find_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users where lower(email) = lower($1) and is_sso_user = false \
         order by created_at limit 1"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct IdentityRow {
    id: Uuid,
    provider_id: String,
    user_id: Uuid,
    identity_data: Value,
    provider: String,
    last_sign_in_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    email: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FactorRow {
    id: Uuid,
    friendly_name: Option<String>,
    factor_type: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    phone: Option<String>,
    last_challenged_at: Option<DateTime<Utc>>,
}

/// The user as GoTrue's `models.User` marshals it, with identities and factors.
pub(super) async fn user_json(
    conn: &mut PgConnection,
    user: &UserRow,
) -> Result<Value, sqlx::Error> {
    let identities: Vec<IdentityRow> = sqlx::query_as(
        "select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, email \
           from auth.identities where user_id = $1 order by created_at, id",
    )
    .bind(user.id)
    .fetch_all(&mut *conn)
    .await?;
    let factors: Vec<FactorRow> = sqlx::query_as(
        "select id, friendly_name, factor_type, status, created_at, updated_at, phone, last_challenged_at \
           from auth.mfa_factors where user_id = $1 order by created_at, id",
    )
    .bind(user.id)
    .fetch_all(&mut *conn)
    .await?;

    let mut out = Map::new();
    out.insert("id".into(), json!(user.id));
    out.insert("aud".into(), json!(user.aud()));
    out.insert("role".into(), json!(user.role.clone().unwrap_or_default()));
    out.insert("email".into(), json!(user.email()));
    let mut opt = |name: &str, t: &Option<DateTime<Utc>>| {
        if let Some(t) = t {
            out.insert(name.to_owned(), Value::String(timestamp(t)));
        }
    };
    opt("email_confirmed_at", &user.email_confirmed_at);
    opt("invited_at", &user.invited_at);
    opt("phone_confirmed_at", &user.phone_confirmed_at);
    opt("confirmation_sent_at", &user.confirmation_sent_at);
    opt("confirmed_at", &user.confirmed_at);
    opt("recovery_sent_at", &user.recovery_sent_at);
    opt("email_change_sent_at", &user.email_change_sent_at);
    opt("last_sign_in_at", &user.last_sign_in_at);
    opt("banned_until", &user.banned_until);
    opt("deleted_at", &user.deleted_at);
    out.insert(
        "phone".into(),
        json!(user.phone.clone().unwrap_or_default()),
    );
    if let Some(new_email) = user.email_change.as_deref().filter(|e| !e.is_empty()) {
        out.insert("new_email".into(), json!(new_email));
    }
    out.insert("app_metadata".into(), user.app_metadata());
    out.insert("user_metadata".into(), user.user_metadata());
    let identities: Vec<Value> = identities
        .into_iter()
        .map(|i| {
            let mut identity = json!({
                "identity_id": i.id,
                "id": i.provider_id,
                "user_id": i.user_id,
                "identity_data": i.identity_data,
                "provider": i.provider,
                "last_sign_in_at": ts_or_null(&i.last_sign_in_at),
                "created_at": ts_or_null(&i.created_at),
                "updated_at": ts_or_null(&i.updated_at),
            });
            if let Some(email) = i.email {
                identity["email"] = json!(email);
            }
            identity
        })
        .collect();
    out.insert("identities".into(), Value::Array(identities));
    if !factors.is_empty() {
        let factors: Vec<Value> = factors
            .into_iter()
            .map(|f| {
                // GoTrue's `models.Factor`: `friendly_name` omitted when empty, `phone` a
                // plain string, `last_challenged_at` always present.
                let mut factor = json!({
                    "id": f.id,
                    "created_at": timestamp(&f.created_at),
                    "updated_at": timestamp(&f.updated_at),
                    "status": f.status,
                    "factor_type": f.factor_type,
                    "phone": f.phone.unwrap_or_default(),
                    "last_challenged_at": ts_or_null(&f.last_challenged_at),
                });
                if let Some(name) = f.friendly_name.filter(|n| !n.is_empty()) {
                    factor["friendly_name"] = json!(name);
                }
                factor
            })
            .collect();
        out.insert("factors".into(), Value::Array(factors));
    }
    out.insert("created_at".into(), ts_or_null(&user.created_at));
    out.insert("updated_at".into(), ts_or_null(&user.updated_at));
    out.insert("is_anonymous".into(), json!(user.is_anonymous));
    Ok(Value::Object(out))
}

/// Checks an address the way GoTrue's `validateEmail` does (roughly: one `@`, a dotted domain).
pub(super) fn validate_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(AuthError::bad_request(
            "validation_failed",
            "An email address is required",
        ));
    }
    if email.len() > 255 {
        return Err(AuthError::bad_request(
            "validation_failed",
            "An email address is too long",
        ));
    }
    let invalid = || {
        AuthError::bad_request(
            "email_address_invalid",
            "Unable to validate email address: invalid format",
        )
    };
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let bad_char =
        |c: char| c.is_whitespace() || c.is_control() || c == '@' || c == '<' || c == '>';
    if local.is_empty()
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().filter(|c| *c == '@').count() != 1
        || local.chars().any(bad_char)
        || domain.chars().any(bad_char)
    {
        return Err(invalid());
    }
    Ok(email.to_lowercase())
}

/// bcrypt with cost 10 (GoTrue's), off the async threads.
pub(super) async fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, 10))
        .await
        .map_err(AuthError::internal)?
        .map_err(AuthError::internal)
}

/// True when `password` matches the stored bcrypt hash. A missing or malformed hash never matches.
pub(super) async fn verify_password(password: &str, hash: Option<&str>) -> Result<bool, AuthError> {
    let Some(hash) = hash.filter(|h| !h.is_empty()).map(str::to_owned) else {
        return Ok(false);
    };
    let password = password.to_owned();
    let verified =
        tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await
            .map_err(AuthError::internal)?;
    Ok(verified)
}

/// The caller of an endpoint that needs a signed-in user.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub user: UserRow,
    /// The `session_id` claim; the session exists (checked).
    pub session_id: Option<Uuid>,
}

/// The bearer token of the `Authorization` header (GoTrue reads no other).
pub(super) fn bearer(headers: &HeaderMap) -> Result<String, AuthError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AuthError::unauthorized(
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            )
        })
}

/// Verifies the bearer's signature and expiry.
pub(super) fn verified_claims(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<jwt::Claims, AuthError> {
    let token = bearer(headers)?;
    jwt::verify(&token, &state.config.jwt_secret).map_err(|e| {
        let reason = match e {
            JwtError::Expired => "token has invalid claims: token is expired".to_owned(),
            JwtError::BadSignature => "signature is invalid".to_owned(),
            other => other.to_string(),
        };
        AuthError::forbidden(
            "bad_jwt",
            format!("invalid JWT: unable to parse or verify signature, {reason}"),
        )
    })
}

/// The signed-in user behind the bearer token, refusing tokens whose session is gone
/// (signed out, deactivated) as GoTrue does.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Caller, AuthError> {
    let claims = verified_claims(state, headers)?;
    let sub = claims
        .sub
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::forbidden("bad_jwt", "invalid claim: missing sub claim"))?;
    let user_id = Uuid::parse_str(sub).map_err(|_| {
        AuthError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID")
    })?;
    let mut conn = state.db.acquire().await?;
    let user = find_by_id(&mut conn, user_id).await?.ok_or_else(|| {
        AuthError::forbidden(
            "user_not_found",
            "User from sub claim in JWT does not exist",
        )
    })?;
    let session_id = match claims
        .extra
        .get("session_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => {
            let id = Uuid::parse_str(raw).map_err(|_| {
                AuthError::bad_request("bad_jwt", "invalid claim: session_id claim must be a UUID")
            })?;
            let exists: Option<(Uuid,)> =
                sqlx::query_as("select id from auth.sessions where id = $1 and user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if exists.is_none() {
                return Err(AuthError::forbidden(
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                ));
            }
            Some(id)
        }
    };
    Ok(Caller { user, session_id })
}

/// The assurance level of a session (`aal1` without one).
pub(super) async fn session_aal(
    conn: &mut PgConnection,
    session_id: Option<Uuid>,
) -> Result<String, sqlx::Error> {
    let Some(session_id) = session_id else {
        return Ok("aal1".to_owned());
    };
    let aal: Option<(Option<String>,)> =
        sqlx::query_as("select aal from auth.sessions where id = $1")
            .bind(session_id)
            .fetch_optional(conn)
            .await?;
    Ok(aal.and_then(|(a,)| a).unwrap_or_else(|| "aal1".to_owned()))
}

/// True when the user has a verified MFA factor.
pub(super) async fn has_verified_factor(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let (count,): (i64,) = sqlx::query_as(
        "select count(*) from auth.mfa_factors where user_id = $1 and status = 'verified'",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(count > 0)
}

/// Merges `updates` into a metadata object; `null` values remove keys (GoTrue's
/// `UpdateUserMetaData`).
pub(super) fn merge_metadata(current: Value, updates: &Value) -> Value {
    let mut map = match current {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Value::Object(updates) = updates {
        for (k, v) in updates {
            if v.is_null() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(
            validate_email(" Ann@Example.COM ").ok(),
            Some("ann@example.com".to_owned())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn metadata_merges_and_null_removes() {
        let merged = merge_metadata(json!({"a": 1, "b": 2}), &json!({"b": null, "c": 3}));
        assert_eq!(merged, json!({"a": 1, "c": 3}));
    }
}
