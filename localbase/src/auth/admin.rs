//! `/admin/users`: user administration, for a `service_role` (or `supabase_admin`) bearer only.

use super::error::{object_or_empty, parse_body, AuthError};
use super::user::{insert_user, is_unique_violation, NewUser};
use super::users::{self, USER_COLUMNS};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Only the service role (GoTrue's admin roles) may use these endpoints.
fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), AuthError> {
    let claims = users::verified_claims(state, headers)?;
    if matches!(claims.role.as_str(), "service_role" | "supabase_admin") {
        Ok(())
    } else {
        Err(AuthError::forbidden("not_admin", "User not allowed"))
    }
}

fn parse_user_id(id: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(id)
        .map_err(|_| AuthError::not_found("validation_failed", "user_id must be an UUID"))
}

fn user_not_found() -> AuthError {
    AuthError::not_found("user_not_found", "User not found")
}

/// `GET /admin/users?page=1&per_page=50` → `{users, aud}` with `X-Total-Count` and `Link`.
pub(super) async fn list_users(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    require_admin(&state, &headers)?;
    let page = query
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(50)
        .min(1000);
    let filter = query
        .get("filter")
        .map(|f| f.trim().to_owned())
        .unwrap_or_default();
    let pattern = format!(
        "%{}%",
        filter
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut conn = state.db.acquire().await?;
    let (total,): (i64,) = sqlx::query_as(
        "select count(*) from auth.users where $1 = '%%' or email ilike $1 or raw_user_meta_data ->> 'name' ilike $1",
    )
    .bind(&pattern)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, users::UserRow>(&format!(
        "select {USER_COLUMNS} from auth.users \
          where $1 = '%%' or email ilike $1 or raw_user_meta_data ->> 'name' ilike $1 \
          order by created_at desc nulls last, id limit $2 offset $3"
    ))
    .bind(&pattern)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(&mut *conn)
    .await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in &rows {
        list.push(users::user_json(&mut conn, row).await?);
    }
    let mut response = Json(json!({ "users": list, "aud": "authenticated" })).into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        response.headers_mut().insert("x-total-count", v);
    }
    let last = ((total + per_page - 1) / per_page).max(1);
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "</admin/users?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        ));
    }
    links.push(format!(
        "</admin/users?page={last}&per_page={per_page}>; rel=\"last\""
    ));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        response.headers_mut().insert("link", v);
    }
    Ok(response)
}

#[derive(Deserialize, Default)]
struct AdminUserParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email_confirm: Option<bool>,
    #[serde(default)]
    user_metadata: Option<Value>,
    #[serde(default)]
    app_metadata: Option<Value>,
    #[serde(default)]
    ban_duration: Option<String>,
    #[serde(default)]
    role: Option<String>,
}

/// `POST /admin/users {email, password, email_confirm, user_metadata, app_metadata}` → the user.
pub(super) async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let params: AdminUserParams = parse_body(&body)?;
    if params.email.as_deref().unwrap_or("").is_empty()
        && params.phone.as_deref().is_some_and(|p| !p.is_empty())
    {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone users are not supported locally",
        ));
    }
    let email = users::validate_email(params.email.as_deref().unwrap_or(""))?;
    let hash = match params.password.as_deref().filter(|p| !p.is_empty()) {
        Some(password) => {
            super::password::check_strength(&state, password).await?;
            Some(users::hash_password(password).await?)
        }
        None => None,
    };
    let exists = || {
        AuthError::unprocessable(
            "email_exists",
            "A user with this email address has already been registered",
        )
    };
    let mut tx = state.db.begin().await?;
    if users::find_by_email(&mut tx, &email).await?.is_some() {
        return Err(exists());
    }
    let role = params
        .role
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "authenticated".to_owned());
    let new = NewUser {
        email: &email,
        password_hash: hash,
        confirmed: params.email_confirm.unwrap_or(false),
        user_metadata: object_or_empty(params.user_metadata.clone()),
        app_metadata: object_or_empty(params.app_metadata.clone()),
        role: &role,
    };
    let id = match insert_user(&mut tx, new).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(exists()),
        Err(e) => return Err(e.into()),
    };
    if let Some(duration) = params.ban_duration.as_deref() {
        apply_ban(&mut tx, id, duration).await?;
    }
    let user = users::find_by_id(&mut tx, id)
        .await?
        .ok_or_else(user_not_found)?;
    let json = users::user_json(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(Json(json))
}

/// `GET /admin/users/{id}`.
pub(super) async fn get_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let id = parse_user_id(&id)?;
    let mut conn = state.db.acquire().await?;
    let user = users::find_by_id(&mut conn, id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Json(users::user_json(&mut conn, &user).await?))
}

/// Parses Go's duration syntax (`876000h`, `1h30m`, `45s`, `500ms`) into seconds.
pub(super) fn parse_go_duration(input: &str) -> Option<f64> {
    let s = input.trim();
    if s.is_empty() {
        return None;
    }
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let value: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_end..];
    }
    Some(if negative { -total } else { total })
}

async fn apply_ban(
    conn: &mut sqlx::PgConnection,
    id: Uuid,
    duration: &str,
) -> Result<(), AuthError> {
    if duration == "none" {
        sqlx::query("update auth.users set banned_until = null, updated_at = now() where id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    let secs = parse_go_duration(duration).ok_or_else(|| {
        AuthError::bad_request(
            "validation_failed",
            format!("invalid format for ban duration: time: invalid duration {duration:?}"),
        )
    })?;
    sqlx::query("update auth.users set banned_until = now() + make_interval(secs => $2), updated_at = now() where id = $1")
        .bind(id)
        .bind(secs)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `PUT /admin/users/{id} {email, password, email_confirm, user_metadata, app_metadata,
/// ban_duration, role}` → the user.
pub(super) async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let id = parse_user_id(&id)?;
    let params: AdminUserParams = parse_body(&body)?;
    let mut tx = state.db.begin().await?;
    let user = users::find_by_id(&mut tx, id)
        .await?
        .ok_or_else(user_not_found)?;
    if let Some(password) = params.password.as_deref().filter(|p| !p.is_empty()) {
        super::password::check_strength(&state, password).await?;
        let hash = users::hash_password(password).await?;
        sqlx::query(
            "update auth.users set encrypted_password = $2, updated_at = now() where id = $1",
        )
        .bind(id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(email) = params.email.as_deref().filter(|e| !e.trim().is_empty()) {
        let email = users::validate_email(email)?;
        if email != user.email().to_lowercase() {
            if users::find_by_email(&mut tx, &email).await?.is_some() {
                return Err(AuthError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            super::user::change_email(&mut tx, id, &email).await?;
        }
    }
    if params.email_confirm == Some(true) {
        sqlx::query("update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()) where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(data) = params.user_metadata.as_ref().filter(|d| d.is_object()) {
        sqlx::query(
            "update auth.users set raw_user_meta_data = $2, updated_at = now() where id = $1",
        )
        .bind(id)
        .bind(users::merge_metadata(user.user_metadata(), data))
        .execute(&mut *tx)
        .await?;
    }
    if let Some(data) = params.app_metadata.as_ref().filter(|d| d.is_object()) {
        sqlx::query(
            "update auth.users set raw_app_meta_data = $2, updated_at = now() where id = $1",
        )
        .bind(id)
        .bind(users::merge_metadata(user.app_metadata(), data))
        .execute(&mut *tx)
        .await?;
    }
    if let Some(role) = params.role.as_deref().filter(|r| !r.is_empty()) {
        sqlx::query("update auth.users set role = $2, updated_at = now() where id = $1")
            .bind(id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(duration) = params.ban_duration.as_deref().filter(|d| !d.is_empty()) {
        apply_ban(&mut tx, id, duration).await?;
    }
    let user = users::find_by_id(&mut tx, id)
        .await?
        .ok_or_else(user_not_found)?;
    let json = users::user_json(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(Json(json))
}

/// `DELETE /admin/users/{id}` → `{}` (the profile goes with it: `on delete cascade`).
pub(super) async fn delete_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let id = parse_user_id(&id)?;
    let deleted = sqlx::query("delete from auth.users where id = $1")
        .bind(id)
        .execute(&state.db)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(user_not_found());
    }
    Ok(Json(json!({})))
}

/// `GET /admin/users/{id}/factors` → the user's MFA factors.
pub(super) async fn list_factors(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let id = parse_user_id(&id)?;
    let mut conn = state.db.acquire().await?;
    let user = users::find_by_id(&mut conn, id)
        .await?
        .ok_or_else(user_not_found)?;
    let json = users::user_json(&mut conn, &user).await?;
    Ok(Json(
        json.get("factors").cloned().unwrap_or_else(|| json!([])),
    ))
}

/// `DELETE /admin/users/{id}/factors/{factor_id}` → the removed factor (e.g. a lost phone);
/// the user's sessions that relied on it drop back to `aal1`.
pub(super) async fn delete_factor(
    State(state): State<AppState>,
    Path((id, factor_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    require_admin(&state, &headers)?;
    let id = parse_user_id(&id)?;
    let not_found = || AuthError::not_found("mfa_factor_not_found", "Factor not found");
    let factor_id = Uuid::parse_str(&factor_id).map_err(|_| not_found())?;
    let mut tx = state.db.begin().await?;
    let deleted: Option<(Uuid, Option<String>, String, String)> = sqlx::query_as(
        "delete from auth.mfa_factors where id = $1 and user_id = $2 \
         returning id, friendly_name, factor_type, status",
    )
    .bind(factor_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (factor_id, friendly_name, factor_type, status) = deleted.ok_or_else(not_found)?;
    super::session::downgrade_sessions_of_factor(&mut tx, factor_id).await?;
    tx.commit().await?;
    Ok(Json(json!({
        "id": factor_id,
        "friendly_name": friendly_name.unwrap_or_default(),
        "factor_type": factor_type,
        "status": status,
    })))
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("876000h"), Some(876000.0 * 3600.0));
        assert_eq!(parse_go_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_go_duration("1.5s"), Some(1.5));
        assert_eq!(parse_go_duration("0"), Some(0.0));
        assert_eq!(parse_go_duration("forever"), None);
        assert_eq!(parse_go_duration("10"), None);
    }
}
