//! `/bucket…`: list, read, create, update, delete and empty buckets, under RLS on
//! `storage.buckets` (the migrations let signed-in users read them; only the service key
//! writes them).

use super::error::{StorageError, StoragePath};
use super::objects::{remove_files, validate_bucket_name};
use crate::request::{begin_as, caller};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct BucketRow {
    id: String,
    name: String,
    owner_id: Option<String>,
    public: Option<bool>,
    file_size_limit: Option<i64>,
    allowed_mime_types: Option<Vec<String>>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

const BUCKET_COLUMNS: &str =
    "id, name, coalesce(owner_id, owner::text) as owner_id, public, file_size_limit, allowed_mime_types, created_at, updated_at";

fn bucket_json(b: &BucketRow) -> Value {
    let ts = |t: &Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    json!({
        "id": b.id,
        "name": b.name,
        "owner": b.owner_id.clone().unwrap_or_default(),
        "public": b.public.unwrap_or(false),
        "type": "STANDARD",
        "file_size_limit": b.file_size_limit,
        "allowed_mime_types": b.allowed_mime_types,
        "created_at": ts(&b.created_at),
        "updated_at": ts(&b.updated_at),
    })
}

/// A size as a number of bytes or a string like `10MB`, `50MiB`, `3B`.
fn parse_size(value: &Value) -> Result<Option<i64>, StorageError> {
    let invalid = || {
        StorageError::invalid_request("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .filter(|n| *n >= 0)
            .map(|n| Some(n).filter(|n| *n > 0))
            .ok_or_else(invalid),
        Value::String(s) => {
            let s = s.trim();
            let split = s
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(s.len());
            let number: f64 = s[..split].parse().map_err(|_| invalid())?;
            let factor = match s[split..].trim().to_ascii_uppercase().as_str() {
                "" | "B" => 1.0,
                "KB" => 1e3,
                "MB" => 1e6,
                "GB" => 1e9,
                "KIB" => 1024.0,
                "MIB" => 1024.0 * 1024.0,
                "GIB" => 1024.0 * 1024.0 * 1024.0,
                _ => return Err(invalid()),
            };
            Ok(Some((number * factor) as i64).filter(|n| *n > 0))
        }
        _ => Err(invalid()),
    }
}

#[derive(Deserialize, Default)]
struct BucketParams {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    file_size_limit: Option<Value>,
    #[serde(default)]
    allowed_mime_types: Option<Vec<String>>,
}

fn parse_params(body: &Bytes) -> Result<BucketParams, StorageError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(BucketParams::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| StorageError::invalid_request(format!("Invalid JSON body: {e}")))
}

/// `GET /bucket`.
pub(super) async fn list(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    let rows = sqlx::query_as::<_, BucketRow>(&format!(
        "select {BUCKET_COLUMNS} from storage.buckets order by name"
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(Value::Array(rows.iter().map(bucket_json).collect())))
}

/// `GET /bucket/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    StoragePath(id): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    let row = sqlx::query_as::<_, BucketRow>(&format!(
        "select {BUCKET_COLUMNS} from storage.buckets where id = $1"
    ))
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(StorageError::no_such_bucket)?;
    tx.commit().await?;
    Ok(Json(bucket_json(&row)))
}

/// `POST /bucket {id, name, public, file_size_limit, allowed_mime_types}` → `{"name": id}`.
pub(super) async fn create(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let params = parse_params(&body)?;
    let name = params
        .name
        .clone()
        .or_else(|| params.id.clone())
        .unwrap_or_default();
    let id = params.id.clone().unwrap_or_else(|| name.clone());
    validate_bucket_name(&id)?;
    validate_bucket_name(&name)?;
    let limit = parse_size(params.file_size_limit.as_ref().unwrap_or(&Value::Null))?;
    let owner = claims.sub.clone();
    let owner_uuid = owner.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    sqlx::query(
        "insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&name)
    .bind(owner_uuid)
    .bind(&owner)
    .bind(params.public.unwrap_or(false))
    .bind(limit)
    .bind(&params.allowed_mime_types)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(json!({ "name": id })))
}

/// `PUT /bucket/{id} {public, file_size_limit, allowed_mime_types}`.
pub(super) async fn update(
    State(state): State<AppState>,
    StoragePath(id): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let params = parse_params(&body)?;
    let limit_given = params.file_size_limit.is_some();
    let limit = parse_size(params.file_size_limit.as_ref().unwrap_or(&Value::Null))?;
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    let updated: Option<(String,)> = sqlx::query_as(
        "update storage.buckets set public = coalesce($2, public), \
                file_size_limit = case when $3 then $4 else file_size_limit end, \
                allowed_mime_types = case when $5 then $6 else allowed_mime_types end, updated_at = now() \
          where id = $1 returning id",
    )
    .bind(&id)
    .bind(params.public)
    .bind(limit_given)
    .bind(limit)
    .bind(params.allowed_mime_types.is_some())
    .bind(&params.allowed_mime_types)
    .fetch_optional(&mut *tx)
    .await?;
    updated.ok_or_else(StorageError::no_such_bucket)?;
    tx.commit().await?;
    Ok(Json(json!({ "message": "Successfully updated" })))
}

/// `DELETE /bucket/{id}`: only an empty bucket.
pub(super) async fn delete(
    State(state): State<AppState>,
    StoragePath(id): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    let (objects,): (i64,) =
        sqlx::query_as("select count(*) from storage.objects where bucket_id = $1")
            .bind(&id)
            .fetch_one(&state.db)
            .await?;
    if objects > 0 {
        return Err(StorageError::not_empty());
    }
    let deleted: Option<(String,)> =
        sqlx::query_as("delete from storage.buckets where id = $1 returning id")
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
    deleted.ok_or_else(StorageError::no_such_bucket)?;
    tx.commit().await?;
    Ok(Json(json!({ "message": "Successfully deleted" })))
}

/// `POST /bucket/{id}/empty`: deletes every object the caller may delete.
pub(super) async fn empty(
    State(state): State<AppState>,
    StoragePath(id): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let claims = caller(&state, &headers)?;
    let mut tx = begin_as(&state, &claims, &method, uri.path(), &headers).await?;
    let exists: Option<(String,)> = sqlx::query_as("select id from storage.buckets where id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
    exists.ok_or_else(StorageError::no_such_bucket)?;
    let ids: Vec<(Uuid,)> =
        sqlx::query_as("delete from storage.objects where bucket_id = $1 returning id")
            .bind(&id)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let ids: Vec<Uuid> = ids.into_iter().map(|(i,)| i).collect();
    remove_files(&state, &id, &ids).await;
    Ok(Json(json!({ "message": "Successfully emptied" })))
}

#[cfg(test)]
mod tests {
    use super::parse_size;
    use serde_json::json;

    #[test]
    fn sizes_parse_from_numbers_and_units() {
        assert_eq!(parse_size(&json!(1024)).ok(), Some(Some(1024)));
        assert_eq!(parse_size(&json!("10MB")).ok(), Some(Some(10_000_000)));
        assert_eq!(parse_size(&json!("2MiB")).ok(), Some(Some(2 * 1024 * 1024)));
        assert_eq!(parse_size(&json!(null)).ok(), Some(None));
        assert!(parse_size(&json!("lots")).is_err());
    }
}
