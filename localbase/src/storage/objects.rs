//! `/object/…`: upload, download, info, list, delete, move, copy, signed URLs.

use super::error::{StorageError, StoragePath};
use super::files::{self, Staged};
use crate::jwt::Claims;
use crate::request::{begin_as, caller};
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::{Postgres, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

/// Upstream's rules for object names, plus what keeps names from meaning anything to a
/// filesystem: not empty, at most 1024 bytes, no leading `/`, no `.`/`..` or empty segments,
/// no control characters or backslashes.
pub(super) fn validate_key(name: &str) -> Result<(), StorageError> {
    let bad = name.is_empty()
        || name.len() > 1024
        || name.starts_with('/')
        || name.chars().any(|c| c.is_control() || c == '\\')
        || name.split('/').enumerate().any(|(i, segment)| {
            segment == ".."
                || segment == "."
                || (segment.is_empty() && i + 1 < name.split('/').count())
        });
    if bad {
        return Err(StorageError::invalid_key(name));
    }
    Ok(())
}

pub(super) fn validate_bucket_name(bucket: &str) -> Result<(), StorageError> {
    let bad = bucket.is_empty()
        || bucket.len() > 100
        || bucket == "."
        || bucket == ".."
        || bucket
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(StorageError::invalid_bucket_name());
    }
    Ok(())
}

fn claims_of(state: &AppState, headers: &HeaderMap) -> Result<Claims, StorageError> {
    Ok(caller(state, headers)?)
}

async fn tx_as(
    state: &AppState,
    claims: &Claims,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Transaction<'static, Postgres>, StorageError> {
    Ok(begin_as(state, claims, method, uri.path(), headers).await?)
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct BucketLimits {
    pub public: Option<bool>,
    pub file_size_limit: Option<i64>,
    pub allowed_mime_types: Option<Vec<String>>,
}

/// The bucket's settings, read as Storage's own role (no RLS), as upstream does on upload.
async fn bucket_settings(state: &AppState, bucket: &str) -> Result<BucketLimits, StorageError> {
    sqlx::query_as::<_, BucketLimits>(
        "select public, file_size_limit, allowed_mime_types from storage.buckets where id = $1",
    )
    .bind(bucket)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(StorageError::no_such_bucket)
}

fn mime_allowed(allowed: &[String], content_type: &str) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    allowed.iter().any(|a| {
        let a = a.trim().to_ascii_lowercase();
        match a.strip_suffix("/*") {
            Some(family) => mime.split('/').next() == Some(family),
            None => a == mime,
        }
    })
}

/// `3600` → `max-age=3600`; anything else is kept as given.
fn cache_control(value: Option<&str>) -> String {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => "no-cache".to_owned(),
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => format!("max-age={v}"),
        Some(v) => v.to_owned(),
    }
}

/// What an upload carries once its body is unpacked.
struct Upload {
    bytes: Bytes,
    content_type: String,
    cache_control: String,
    user_metadata: Option<Value>,
}

async fn read_upload(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Upload, StorageError> {
    let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| StorageError::too_large())?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let header_cache = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok());
    let header_metadata = headers
        .get("x-metadata")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<Value>(v).ok());
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Ok(Upload {
            bytes,
            content_type,
            cache_control: cache_control(header_cache),
            user_metadata: header_metadata,
        });
    }
    let boundary = multer::parse_boundary(&content_type)
        .map_err(|e| StorageError::invalid_request(format!("Invalid multipart body: {e}")))?;
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut file: Option<(Bytes, String)> = None;
    let mut form_cache = None;
    let mut form_metadata = None;
    let mut form_content_type = None;
    let bad =
        |e: multer::Error| StorageError::invalid_request(format!("Invalid multipart body: {e}"));
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        let is_file = field.file_name().is_some() || name.is_empty() || name == "file";
        let part_type = field.content_type().map(|m| m.to_string());
        if is_file && file.is_none() {
            let data = field.bytes().await.map_err(bad)?;
            file = Some((
                data,
                part_type.unwrap_or_else(|| "application/octet-stream".to_owned()),
            ));
        } else {
            let text = field.text().await.map_err(bad)?;
            match name.as_str() {
                "cacheControl" => form_cache = Some(text),
                "metadata" => form_metadata = serde_json::from_str::<Value>(&text).ok(),
                "contentType" => form_content_type = Some(text),
                _ => {}
            }
        }
    }
    let (bytes, part_type) =
        file.ok_or_else(|| StorageError::invalid_request("No content provided"))?;
    Ok(Upload {
        bytes,
        content_type: form_content_type.unwrap_or(part_type),
        cache_control: cache_control(form_cache.as_deref().or(header_cache)),
        user_metadata: form_metadata.or(header_metadata),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Create,
    Upsert,
    Update,
}

/// `POST /object/{bucket}/{*path}` (an upsert with `x-upsert: true`).
pub(super) async fn create(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, StorageError> {
    let upsert = headers
        .get("x-upsert")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mode = if upsert { Mode::Upsert } else { Mode::Create };
    upload(&state, &bucket, &name, &method, &uri, &headers, body, mode).await
}

/// `PUT /object/{bucket}/{*path}`: replaces an existing object.
pub(super) async fn update(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, StorageError> {
    upload(
        &state,
        &bucket,
        &name,
        &method,
        &uri,
        &headers,
        body,
        Mode::Update,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn upload(
    state: &AppState,
    bucket: &str,
    name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    mode: Mode,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(state, headers)?;
    validate_bucket_name(bucket)?;
    validate_key(name)?;
    let settings = bucket_settings(state, bucket).await?;
    let upload = read_upload(state, headers, body).await?;
    if let Some(limit) = settings.file_size_limit.filter(|l| *l > 0) {
        if upload.bytes.len() as u64 > limit as u64 {
            return Err(StorageError::too_large());
        }
    }
    if !mime_allowed(
        settings.allowed_mime_types.as_deref().unwrap_or(&[]),
        &upload.content_type,
    ) {
        return Err(StorageError::invalid_mime(&upload.content_type));
    }

    let staged = Staged::write(&state.config, &upload.bytes).await?;
    let now = Utc::now();
    let metadata = json!({
        "eTag": staged.etag,
        "size": staged.size,
        "mimetype": upload.content_type,
        "cacheControl": upload.cache_control,
        "lastModified": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "contentLength": staged.size,
        "httpStatusCode": 200,
    });
    let owner = claims.sub.clone();
    let owner_uuid = owner.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let version = Uuid::new_v4().to_string();

    let result: Result<Uuid, StorageError> = async {
        let mut tx = tx_as(state, &claims, method, uri, headers).await?;
        // The three writes bind the same values in the same order; only the statement differs.
        let sql = match mode {
            Mode::Create => {
                "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version, user_metadata) \
                 values ($1, $2, $3, $4, $5, $6, $7) returning id"
            }
            Mode::Upsert => {
                "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version, user_metadata) \
                 values ($1, $2, $3, $4, $5, $6, $7) \
                 on conflict (bucket_id, name) do update set owner = excluded.owner, owner_id = excluded.owner_id, \
                    metadata = excluded.metadata, version = excluded.version, user_metadata = excluded.user_metadata, \
                    updated_at = now(), last_accessed_at = now() \
                 returning id"
            }
            Mode::Update => {
                "update storage.objects set owner = $3, owner_id = $4, metadata = $5, version = $6, \
                    user_metadata = coalesce($7, user_metadata), updated_at = now(), last_accessed_at = now() \
                  where bucket_id = $1 and name = $2 returning id"
            }
        };
        let row: Option<(Uuid,)> = sqlx::query_as(sql)
            .bind(bucket)
            .bind(name)
            .bind(owner_uuid)
            .bind(&owner)
            .bind(&metadata)
            .bind(&version)
            .bind(&upload.user_metadata)
            .fetch_optional(&mut *tx)
            .await?;
        let (id,) = row.ok_or_else(StorageError::no_such_key)?;
        tx.commit().await?;
        Ok(id)
    }
    .await;
    let id = match result {
        Ok(id) => id,
        Err(e) => {
            staged.discard().await;
            return Err(e);
        }
    };
    staged.commit(&state.config, bucket, id).await?;
    Ok(Json(json!({ "Id": id, "Key": format!("{bucket}/{name}") })))
}

#[derive(Debug, sqlx::FromRow)]
struct ObjectRow {
    id: Uuid,
    bucket_id: Option<String>,
    name: Option<String>,
    owner_id: Option<String>,
    metadata: Option<Value>,
    user_metadata: Option<Value>,
    version: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    last_accessed_at: Option<DateTime<Utc>>,
}

const OBJECT_COLUMNS: &str =
    "id, bucket_id, name, owner_id, metadata, user_metadata, version, created_at, updated_at, last_accessed_at";

fn ts(t: &Option<DateTime<Utc>>) -> Value {
    t.map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn object_json(row: &ObjectRow) -> Value {
    json!({
        "id": row.id,
        "bucket_id": row.bucket_id,
        "name": row.name,
        "owner": row.owner_id.clone().unwrap_or_default(),
        "owner_id": row.owner_id.clone().unwrap_or_default(),
        "version": row.version,
        "metadata": row.metadata,
        "user_metadata": row.user_metadata,
        "created_at": ts(&row.created_at),
        "updated_at": ts(&row.updated_at),
        "last_accessed_at": ts(&row.last_accessed_at),
    })
}

async fn find_object(
    conn: &mut sqlx::PgConnection,
    bucket: &str,
    name: &str,
) -> Result<ObjectRow, StorageError> {
    sqlx::query_as::<_, ObjectRow>(&format!(
        "select {OBJECT_COLUMNS} from storage.objects where bucket_id = $1 and name = $2"
    ))
    .bind(bucket)
    .bind(name)
    .fetch_optional(conn)
    .await?
    .ok_or_else(StorageError::no_such_key)
}

/// Finds an object the caller may read (RLS decides).
async fn visible_object(
    state: &AppState,
    bucket: &str,
    name: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<ObjectRow, StorageError> {
    let claims = claims_of(state, headers)?;
    validate_bucket_name(bucket)?;
    validate_key(name)?;
    let mut tx = tx_as(state, &claims, method, uri, headers).await?;
    let row = find_object(&mut tx, bucket, name).await?;
    tx.commit().await?;
    Ok(row)
}

/// The object's bytes with the headers upstream sends.
async fn serve(
    state: &AppState,
    bucket: &str,
    row: &ObjectRow,
    query: &HashMap<String, String>,
) -> Result<Response, StorageError> {
    let path = files::object_path(&state.config, bucket, row.id);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StorageError::no_such_key())
        }
        Err(e) => return Err(e.into()),
    };
    let meta = row.metadata.clone().unwrap_or(Value::Null);
    let text = |key: &str| meta.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut response = Response::new(Body::from(bytes.clone()));
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set(
        header::CONTENT_TYPE,
        text("mimetype").unwrap_or_else(|| "application/octet-stream".to_owned()),
    );
    set(header::CONTENT_LENGTH, bytes.len().to_string());
    set(
        header::CACHE_CONTROL,
        text("cacheControl").unwrap_or_else(|| "no-cache".to_owned()),
    );
    if let Some(etag) = text("eTag") {
        set(header::ETAG, etag);
    }
    let modified = text("lastModified")
        .and_then(|m| {
            DateTime::parse_from_rfc3339(&m)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
        .or(row.updated_at);
    if let Some(m) = modified {
        let system: std::time::SystemTime = m.into();
        set(header::LAST_MODIFIED, httpdate::fmt_http_date(system));
    }
    if let Some(download) = query.get("download") {
        let file_name = if download.is_empty() {
            row.name
                .as_deref()
                .and_then(|n| n.rsplit('/').next())
                .unwrap_or("download")
                .to_owned()
        } else {
            download.clone()
        };
        let safe: String = file_name
            .chars()
            .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
            .collect();
        set(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe}\""),
        );
    }
    Ok(response)
}

/// `GET /object/{bucket}/{*path}` and `/object/authenticated/{bucket}/{*path}` (and `HEAD`).
pub(super) async fn download(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, StorageError> {
    let row = visible_object(&state, &bucket, &name, &method, &uri, &headers).await?;
    serve(&state, &bucket, &row, &query).await
}

/// A public bucket, read without RLS; any other bucket is "not found".
async fn public_object(
    state: &AppState,
    bucket: &str,
    name: &str,
) -> Result<ObjectRow, StorageError> {
    validate_bucket_name(bucket)?;
    validate_key(name)?;
    let settings = bucket_settings(state, bucket).await?;
    if settings.public != Some(true) {
        return Err(StorageError::no_such_bucket());
    }
    let mut conn = state.db.acquire().await?;
    find_object(&mut conn, bucket, name).await
}

/// `GET /object/public/{bucket}/{*path}`: no JWT needed, public buckets only.
pub(super) async fn download_public(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, StorageError> {
    let row = public_object(&state, &bucket, &name).await?;
    serve(&state, &bucket, &row, &query).await
}

fn info_json(row: &ObjectRow) -> Value {
    let meta = row.metadata.clone().unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "name": row.name,
        "version": row.version,
        "bucket_id": row.bucket_id,
        "size": meta.get("size").cloned().unwrap_or(Value::Null),
        "content_type": meta.get("mimetype").cloned().unwrap_or(Value::Null),
        "cache_control": meta.get("cacheControl").cloned().unwrap_or(Value::Null),
        "etag": meta.get("eTag").cloned().unwrap_or(Value::Null),
        "metadata": row.user_metadata.clone().unwrap_or_else(|| json!({})),
        "last_modified": meta.get("lastModified").cloned().unwrap_or_else(|| ts(&row.updated_at)),
        "created_at": ts(&row.created_at),
    })
}

/// `GET /object/info/{bucket}/{*path}` (and `/object/info/authenticated/…`).
pub(super) async fn info(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let row = visible_object(&state, &bucket, &name, &method, &uri, &headers).await?;
    Ok(Json(info_json(&row)))
}

/// `GET /object/info/public/{bucket}/{*path}`.
pub(super) async fn info_public(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
) -> Result<Json<Value>, StorageError> {
    let row = public_object(&state, &bucket, &name).await?;
    Ok(Json(info_json(&row)))
}

#[derive(Deserialize, Default)]
struct SortBy {
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    order: Option<String>,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
    #[serde(default, rename = "sortBy")]
    sort_by: Option<SortBy>,
    #[serde(default)]
    search: Option<String>,
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, StorageError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| StorageError::invalid_request(format!("Invalid JSON body: {e}")))
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `POST /object/list/{bucket} {prefix, limit, offset, sortBy: {column, order}, search}`: the
/// entries one level below `prefix`, folders first (with `id: null`), then files, as
/// upstream's `storage.search`.
pub(super) async fn list(
    State(state): State<AppState>,
    StoragePath(bucket): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    validate_bucket_name(&bucket)?;
    let params: ListParams = parse_json(&body)?;
    let mut prefix = params
        .prefix
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let level = prefix.matches('/').count() as i32 + 1;
    let pattern = format!(
        "{}{}%",
        escape_like(&prefix),
        escape_like(params.search.as_deref().unwrap_or(""))
    );
    let sort = params.sort_by.unwrap_or_default();
    // Only these fixed fragments ever reach the SQL text.
    let column = match sort.column.as_deref().unwrap_or("name") {
        "updated_at" => "updated_at",
        "created_at" => "created_at",
        "last_accessed_at" => "last_accessed_at",
        _ => "name",
    };
    let order = match sort
        .order
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("desc") => "desc",
        _ => "asc",
    };
    let limit = params.limit.filter(|l| *l > 0).unwrap_or(100).min(1000);
    let offset = params.offset.filter(|o| *o > 0).unwrap_or(0);
    let sql = format!(
        "with visible as ( \
            select id, name, updated_at, created_at, last_accessed_at, metadata, path_tokens \
              from storage.objects where bucket_id = $1 and name ilike $2 escape '\\' \
         ), entries as ( \
            select distinct on (path_tokens[$3]) path_tokens[$3] as name, null::uuid as id, \
                   null::timestamptz as updated_at, null::timestamptz as created_at, \
                   null::timestamptz as last_accessed_at, null::jsonb as metadata, 0 as kind \
              from visible where array_length(path_tokens, 1) > $3 \
            union all \
            select path_tokens[$3], id, updated_at, created_at, last_accessed_at, metadata, 1 \
              from visible where array_length(path_tokens, 1) = $3 \
         ) \
         select name, id, updated_at, created_at, last_accessed_at, metadata from entries \
          order by kind, case when kind = 0 then name end {order}, {column} {order}, name \
          limit $4 offset $5"
    );
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Option<String>,
        Option<Uuid>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<Value>,
    )> = sqlx::query_as(&sql)
        .bind(&bucket)
        .bind(&pattern)
        .bind(level)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(Value::Array(
        rows.into_iter()
            .map(|(name, id, updated, created, accessed, metadata)| {
                json!({
                    "name": name,
                    "id": id,
                    "updated_at": ts(&updated),
                    "created_at": ts(&created),
                    "last_accessed_at": ts(&accessed),
                    "metadata": metadata,
                })
            })
            .collect(),
    )))
}

/// `DELETE /object/{bucket}/{*path}` → `{"message": "Successfully deleted"}`.
pub(super) async fn delete_one(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    validate_bucket_name(&bucket)?;
    validate_key(&name)?;
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    let deleted: Option<(Uuid,)> = sqlx::query_as(
        "delete from storage.objects where bucket_id = $1 and name = $2 returning id",
    )
    .bind(&bucket)
    .bind(&name)
    .fetch_optional(&mut *tx)
    .await?;
    let (id,) = deleted.ok_or_else(StorageError::no_such_key)?;
    tx.commit().await?;
    files::remove(&state.config, &bucket, id).await;
    Ok(Json(json!({ "message": "Successfully deleted" })))
}

#[derive(Deserialize, Default)]
struct DeleteMany {
    #[serde(default)]
    prefixes: Vec<String>,
}

/// `DELETE /object/{bucket} {prefixes: [names…]}` → the deleted objects.
pub(super) async fn delete_many(
    State(state): State<AppState>,
    StoragePath(bucket): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    validate_bucket_name(&bucket)?;
    let params: DeleteMany = parse_json(&body)?;
    if params.prefixes.is_empty() || params.prefixes.len() > 1000 {
        return Err(StorageError::invalid_request(
            "prefixes must hold between 1 and 1000 names",
        ));
    }
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    let rows = sqlx::query_as::<_, ObjectRow>(&format!(
        "delete from storage.objects where bucket_id = $1 and name = any($2) returning {OBJECT_COLUMNS}"
    ))
    .bind(&bucket)
    .bind(&params.prefixes)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    for row in &rows {
        files::remove(&state.config, &bucket, row.id).await;
    }
    Ok(Json(Value::Array(rows.iter().map(object_json).collect())))
}

#[derive(Deserialize, Default)]
struct MoveParams {
    #[serde(default, rename = "bucketId")]
    bucket_id: String,
    #[serde(default, rename = "sourceKey")]
    source_key: String,
    #[serde(default, rename = "destinationKey")]
    destination_key: String,
    #[serde(default, rename = "destinationBucket")]
    destination_bucket: Option<String>,
}

/// `POST /object/move {bucketId, sourceKey, destinationKey}` → `{"message": "Successfully moved"}`.
/// An UPDATE of the name: the UPDATE policy's USING sees the source, its WITH CHECK the
/// destination.
pub(super) async fn move_object(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    let params: MoveParams = parse_json(&body)?;
    validate_bucket_name(&params.bucket_id)?;
    validate_key(&params.source_key)?;
    validate_key(&params.destination_key)?;
    if params
        .destination_bucket
        .as_deref()
        .is_some_and(|b| b != params.bucket_id)
    {
        return Err(StorageError::invalid_request(
            "Moving objects between buckets is not supported locally",
        ));
    }
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    let moved: Option<(Uuid,)> = sqlx::query_as(
        "update storage.objects set name = $3, updated_at = now(), last_accessed_at = now() \
          where bucket_id = $1 and name = $2 returning id",
    )
    .bind(&params.bucket_id)
    .bind(&params.source_key)
    .bind(&params.destination_key)
    .fetch_optional(&mut *tx)
    .await?;
    moved.ok_or_else(StorageError::no_such_key)?;
    tx.commit().await?;
    Ok(Json(json!({ "message": "Successfully moved" })))
}

/// `POST /object/copy {bucketId, sourceKey, destinationKey, destinationBucket?}` → `{Id, Key}`.
pub(super) async fn copy_object(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    let params: MoveParams = parse_json(&body)?;
    let destination_bucket = params
        .destination_bucket
        .clone()
        .unwrap_or_else(|| params.bucket_id.clone());
    validate_bucket_name(&params.bucket_id)?;
    validate_bucket_name(&destination_bucket)?;
    validate_key(&params.source_key)?;
    validate_key(&params.destination_key)?;
    let owner = claims.sub.clone();
    let owner_uuid = owner.as_deref().and_then(|s| Uuid::parse_str(s).ok());
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    let source = find_object(&mut tx, &params.bucket_id, &params.source_key).await?;
    let (id,): (Uuid,) = sqlx::query_as(
        "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version, user_metadata) \
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(&destination_bucket)
    .bind(&params.destination_key)
    .bind(owner_uuid)
    .bind(&owner)
    .bind(&source.metadata)
    .bind(Uuid::new_v4().to_string())
    .bind(&source.user_metadata)
    .fetch_one(&mut *tx)
    .await?;
    // Copy the bytes before committing, so the new row never points at nothing.
    files::copy(
        &state.config,
        &params.bucket_id,
        source.id,
        &destination_bucket,
        id,
    )
    .await?;
    if let Err(e) = tx.commit().await {
        files::remove(&state.config, &destination_bucket, id).await;
        return Err(e.into());
    }
    Ok(Json(
        json!({ "Id": id, "Key": format!("{destination_bucket}/{}", params.destination_key) }),
    ))
}

/// Percent-encodes what `encodeURI` would (path separators stay).
fn encode_uri(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'();/?:@&=+$,#".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn signed_url(
    state: &AppState,
    bucket: &str,
    name: &str,
    expires_in: i64,
) -> Result<String, StorageError> {
    let now = Utc::now().timestamp();
    let url = format!("{bucket}/{name}");
    let token = crate::jwt::sign(
        &json!({ "url": url, "iat": now, "exp": now + expires_in }),
        &state.config.jwt_secret,
    )
    .map_err(StorageError::internal)?;
    Ok(format!("/object/sign/{}?token={token}", encode_uri(&url)))
}

#[derive(Deserialize, Default)]
struct SignParams {
    #[serde(default, rename = "expiresIn")]
    expires_in: Option<i64>,
    #[serde(default)]
    paths: Vec<String>,
}

fn expires_in(params: &SignParams) -> Result<i64, StorageError> {
    params
        .expires_in
        .filter(|e| *e >= 1)
        .ok_or_else(|| StorageError::invalid_request("expiresIn must be an integer of at least 1"))
}

/// `POST /object/sign/{bucket}/{*path} {expiresIn}` → `{"signedURL": "/object/sign/…?token=…"}`,
/// for an object the caller can read.
pub(super) async fn sign(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let params: SignParams = parse_json(&body)?;
    let seconds = expires_in(&params)?;
    visible_object(&state, &bucket, &name, &method, &uri, &headers).await?;
    Ok(Json(
        json!({ "signedURL": signed_url(&state, &bucket, &name, seconds)? }),
    ))
}

/// `POST /object/sign/{bucket} {expiresIn, paths}` → `[{error, path, signedURL}]`.
pub(super) async fn sign_many(
    State(state): State<AppState>,
    StoragePath(bucket): StoragePath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, StorageError> {
    let claims = claims_of(&state, &headers)?;
    validate_bucket_name(&bucket)?;
    let params: SignParams = parse_json(&body)?;
    let seconds = expires_in(&params)?;
    let mut tx = tx_as(&state, &claims, &method, &uri, &headers).await?;
    let visible: Vec<(Option<String>,)> =
        sqlx::query_as("select name from storage.objects where bucket_id = $1 and name = any($2)")
            .bind(&bucket)
            .bind(&params.paths)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let visible: std::collections::HashSet<String> =
        visible.into_iter().filter_map(|(n,)| n).collect();
    let mut out = Vec::with_capacity(params.paths.len());
    for path in &params.paths {
        if visible.contains(path) {
            out.push(json!({ "error": null, "path": path, "signedURL": signed_url(&state, &bucket, path, seconds)? }));
        } else {
            out.push(json!({
                "error": "Either the object does not exist or you do not have access to it",
                "path": path,
                "signedURL": null,
            }));
        }
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
struct SignedClaims {
    url: String,
}

/// `GET /object/sign/{bucket}/{*path}?token=…`: the token is the only credential; its `url`
/// must name this object and its `exp` must not have passed.
pub(super) async fn download_signed(
    State(state): State<AppState>,
    StoragePath((bucket, name)): StoragePath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, StorageError> {
    let token = query
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            StorageError::new(
                400,
                "InvalidRequest",
                "Error",
                "querystring must have required property 'token'",
            )
        })?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let claims = jsonwebtoken::decode::<SignedClaims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(state.config.jwt_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => StorageError::invalid_jwt("jwt expired"),
            ErrorKind::InvalidSignature => StorageError::invalid_jwt("invalid signature"),
            _ => StorageError::invalid_jwt("jwt malformed"),
        }
    })?
    .claims;
    if claims.url != format!("{bucket}/{name}") {
        return Err(StorageError::new(
            400,
            "InvalidSignature",
            "InvalidSignature",
            "The url do not match the signature",
        ));
    }
    validate_bucket_name(&bucket)?;
    validate_key(&name)?;
    let mut conn = state.db.acquire().await?;
    let row = find_object(&mut conn, &bucket, &name).await?;
    serve(&state, &bucket, &row, &query).await
}

/// Used by bucket emptying: removes the bytes of deleted objects.
pub(super) async fn remove_files(state: &AppState, bucket: &str, ids: &[Uuid]) {
    for id in ids {
        files::remove(&state.config, bucket, *id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_or_hide_are_refused() {
        for good in [
            "a.csv",
            "2222/imports/data.csv",
            "dir/sub dir/file (1).txt",
            "ünïcode/файл.txt",
        ] {
            assert!(validate_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a\\b",
            "a\u{0}b",
            "a\nb",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        assert!(validate_key(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn mime_types_match_exactly_or_by_family() {
        let allowed = vec!["text/csv".to_owned(), "image/*".to_owned()];
        assert!(mime_allowed(&allowed, "text/csv; charset=utf-8"));
        assert!(mime_allowed(&allowed, "image/png"));
        assert!(!mime_allowed(&allowed, "application/pdf"));
        assert!(mime_allowed(&[], "anything/at-all"));
    }

    #[test]
    fn cache_control_takes_seconds_or_a_header() {
        assert_eq!(cache_control(Some("3600")), "max-age=3600");
        assert_eq!(cache_control(Some("max-age=60")), "max-age=60");
        assert_eq!(cache_control(None), "no-cache");
    }
}
