//! What every API request shares: who is calling (from `apikey` / `Authorization`), and a
//! database transaction that runs as them, set up exactly as PostgREST sets it up.

use crate::jwt::{self, Claims, JwtError};
use crate::AppState;
use axum::http::{HeaderMap, Method};
use sqlx::{Postgres, Transaction};

/// Roles a JWT may switch to. A token naming any other role is refused even when signed
/// correctly: the pool's own login role must never be reachable from a request.
pub const API_ROLES: [&str; 3] = ["anon", "authenticated", "service_role"];

/// Why the caller could not be identified.
#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    /// Neither an `apikey` header nor a bearer token.
    #[error("No API key found in request")]
    NoApiKey,
    /// The token was refused.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// A correctly signed token whose role is not one of [`API_ROLES`].
    #[error("role \"{0}\" is not allowed")]
    Role(String),
}

/// The bearer token if present, else the `apikey` header (Supabase's gateway accepts either;
/// the client libraries send both).
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    bearer.or_else(|| {
        headers
            .get("apikey")
            .and_then(|v| v.to_str().ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
    })
}

/// Verifies the caller's token. No token at all is an error: Supabase's gateway refuses
/// requests without an API key.
pub fn caller(state: &AppState, headers: &HeaderMap) -> Result<Claims, CallerError> {
    let token = token_from_headers(headers).ok_or(CallerError::NoApiKey)?;
    let claims = jwt::verify(&token, &state.config.jwt_secret)?;
    if !API_ROLES.contains(&claims.role.as_str()) {
        return Err(CallerError::Role(claims.role));
    }
    Ok(claims)
}

/// `request.headers` as PostgREST sets it: a JSON object with lower-case names.
pub fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            map.insert(
                name.as_str().to_ascii_lowercase(),
                serde_json::Value::String(v.to_owned()),
            );
        }
    }
    serde_json::Value::Object(map)
}

/// `request.cookies` as PostgREST sets it.
pub fn cookies_json(headers: &HeaderMap) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for value in headers.get_all(axum::http::header::COOKIE) {
        if let Ok(v) = value.to_str() {
            for pair in v.split(';') {
                if let Some((k, val)) = pair.trim().split_once('=') {
                    map.insert(k.to_owned(), serde_json::Value::String(val.to_owned()));
                }
            }
        }
    }
    serde_json::Value::Object(map)
}

/// Opens the request's transaction: `role`, `request.jwt.claims`, `request.method`,
/// `request.path`, `request.headers`, `request.cookies` and `search_path`, all with
/// `set_config(…, true)` so they last until the transaction ends.
pub async fn begin_as(
    state: &AppState,
    claims: &Claims,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "select set_config('search_path', 'public, extensions', true), \
                set_config('role', $1, true), \
                set_config('request.jwt.claims', $2, true), \
                set_config('request.method', $3, true), \
                set_config('request.path', $4, true), \
                set_config('request.headers', $5, true), \
                set_config('request.cookies', $6, true)",
    )
    .bind(&claims.role)
    .bind(claims.to_json().to_string())
    .bind(method.as_str())
    .bind(path)
    .bind(headers_json(headers).to_string())
    .bind(cookies_json(headers).to_string())
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}
