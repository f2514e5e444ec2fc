//! `/rest/v1`: PostgREST's contract over the `public` schema.
//!
//! Each request: identify the caller (JWT), parse the URL into an AST (`query`), check
//! every name against the schema cache and write parameterised SQL (`sql`), then run it in
//! one transaction opened by [`crate::request::begin_as`] so RLS decides. Errors keep
//! PostgREST's body and status mapping (`error`).

pub mod error;
pub mod query;
pub mod schema;
pub mod sql;

pub use error::ApiError;
pub use schema::{SchemaCache, SchemaCacheHandle};

use crate::jwt::Claims;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use query::{Prefer, QueryParams, Resolution, Return};
use schema::{Function, Table, Volatility};
use sql::{Returning, RpcShape, Statement};
use sqlx::{Postgres, Row, Transaction};
use std::sync::Arc;

const JSON: &str = "application/json; charset=utf-8";
const OBJECT_JSON: &str = "application/vnd.pgrst.object+json; charset=utf-8";

/// `/rest/v1`: the root description, `/rpc/{function}` and `/{table}`, all methods.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/rpc/{function}", any(rpc))
        .route("/{table}", any(table))
}

/// Listens for `NOTIFY pgrst, 'reload schema'` and reloads the cache, as PostgREST does.
/// Runs until the pool closes; reconnects after errors.
pub async fn listen_for_reload(state: AppState) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&state.db).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("pgrst").await {
                    tracing::warn!(error = %e, "cannot LISTEN pgrst");
                } else {
                    loop {
                        match listener.recv().await {
                            Ok(n)
                                if n.payload().trim() == "reload schema"
                                    || n.payload().trim().is_empty() =>
                            {
                                if let Err(e) = state.schema.reload(&state.db).await {
                                    tracing::error!(error = %e, "schema cache reload failed");
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                if state.db.is_closed() {
                                    return;
                                }
                                tracing::warn!(error = %e, "schema reload listener lost its connection");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect the schema reload listener"),
        }
        if state.db.is_closed() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// `GET /rest/v1/`: a short description of what is exposed (PostgREST serves OpenAPI here).
async fn root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = crate::request::caller(&state, &headers) {
        return ApiError::from_caller(e).into_response();
    }
    let cache = state.schema.get().await;
    let paths: serde_json::Map<String, serde_json::Value> = cache
        .tables
        .keys()
        .map(|t| (format!("/{t}"), serde_json::json!({})))
        .chain(
            cache
                .functions
                .keys()
                .map(|f| (format!("/rpc/{f}"), serde_json::json!({}))),
        )
        .collect();
    axum::Json(serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "localbase PostgREST", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
    }))
    .into_response()
}

/// Who is calling, and whether PostgREST would treat them as anonymous (401 over 403).
struct Caller {
    claims: Claims,
}

impl Caller {
    fn anonymous(&self) -> bool {
        self.claims.role == "anon"
    }
}

fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    crate::request::caller(state, headers)
        .map(|claims| Caller { claims })
        .map_err(ApiError::from_caller)
}

/// Only `public` is exposed: `Accept-Profile` / `Content-Profile` naming another schema get
/// PostgREST's PGRST106.
fn check_profile(headers: &HeaderMap) -> Result<(), ApiError> {
    for name in ["accept-profile", "content-profile"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            if v.trim() != schema::SCHEMA {
                return Err(ApiError::pgrst(
                    406,
                    "PGRST106",
                    format!(
                        "The schema must be one of the following: {}",
                        schema::SCHEMA
                    ),
                    None,
                    None,
                ));
            }
        }
    }
    Ok(())
}

fn wants_object(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/vnd.pgrst.object+json"))
}

fn prefer(headers: &HeaderMap) -> Prefer {
    Prefer::parse(
        headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

/// The rows window from `Range` (items) combined with `limit`/`offset`, and capped at
/// max-rows as PostgREST caps every read.
fn window(
    headers: &HeaderMap,
    root: &query::NodeParams,
    max_rows: Option<i64>,
) -> Result<(i64, Option<i64>), ApiError> {
    let (mut offset, mut limit) = (0, None);
    let unit_ok = headers
        .get("range-unit")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|u| u.trim().eq_ignore_ascii_case("items"));
    if let Some(range) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| unit_ok)
    {
        let (o, l) = query::parse_range(range)?;
        offset = o;
        limit = l;
    }
    if let Some(o) = root.offset {
        offset = offset.checked_add(o).ok_or_else(|| {
            ApiError::pgrst(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                Some(format!("An offset of {offset} + {o} is out of range")),
                None,
            )
        })?;
        limit = limit.map(|l| (l - o).max(0));
    }
    if let Some(l) = root.limit {
        limit = Some(limit.map_or(l, |current| current.min(l)));
    }
    if let Some(max) = max_rows {
        limit = Some(limit.map_or(max, |current| current.min(max)));
    }
    Ok((offset, limit))
}

async fn begin(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    read_only: bool,
) -> Result<Transaction<'static, Postgres>, ApiError> {
    let mut tx = crate::request::begin_as(state, &caller.claims, method, path, headers)
        .await
        .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    let cache = state.schema.get().await;
    if let Some(settings) = cache
        .role_settings
        .get(&caller.claims.role)
        .filter(|s| !s.is_empty())
    {
        let (names, values): (Vec<String>, Vec<String>) = settings.iter().cloned().unzip();
        sqlx::query("select set_config(k, v, true) from unnest($1::text[], $2::text[]) as t(k, v)")
            .bind(names)
            .bind(values)
            .execute(&mut *tx)
            .await
            .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    }
    if read_only {
        sqlx::query("set transaction read only")
            .execute(&mut *tx)
            .await
            .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    }
    Ok(tx)
}

fn bind(statement: &Statement) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(&statement.sql);
    for p in &statement.params {
        q = q.bind(p.as_deref());
    }
    q
}

/// Runs a statement answering `(body text, row count)`.
async fn fetch_body(
    tx: &mut Transaction<'static, Postgres>,
    statement: &Statement,
    caller: &Caller,
) -> Result<(Option<String>, i64), ApiError> {
    tracing::debug!(sql = %statement.sql, "rest statement");
    let row = bind(statement)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    let body: Option<String> = row
        .try_get(0)
        .map_err(|e| ApiError::internal("reading the body", &e))?;
    let count: i64 = row
        .try_get(1)
        .map_err(|e| ApiError::internal("reading the count", &e))?;
    Ok((body, count))
}

async fn commit(tx: Transaction<'static, Postgres>, caller: &Caller) -> Result<(), ApiError> {
    tx.commit()
        .await
        .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))
}

fn response(status: StatusCode, content_type: &str, body: Option<String>, head: bool) -> Response {
    let mut builder = Response::builder().status(status);
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    let body = if head {
        Body::empty()
    } else {
        body.map(Body::from).unwrap_or_else(Body::empty)
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

fn content_range(offset: i64, rows: i64, total: Option<i64>) -> String {
    let total = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    if rows > 0 {
        format!("{offset}-{}/{total}", offset + rows - 1)
    } else {
        format!("*/{total}")
    }
}

/// The name in `/{table}` or `/rpc/{function}`. A segment that is not UTF-8 once decoded
/// (`%ff`) names nothing in the schema cache: it is looked up as its lossy decoding, so the
/// caller gets PostgREST's not-found error instead of axum's plain-text rejection.
fn path_name(path: Result<Path<String>, PathRejection>, uri: &Uri) -> String {
    match path {
        Ok(Path(name)) => name,
        Err(_) => {
            let last = uri.path().rsplit('/').next().unwrap_or_default();
            let escaped = last.replace('+', "%2B");
            form_urlencoded::parse(format!("n={escaped}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect()
        }
    }
}

/// PostgREST reads bodies sent as JSON (or without a Content-Type); CSV and form bodies are
/// not implemented here. Anything else is PostgREST's PGRST102 "Content-Type not acceptable".
fn check_content_type(headers: &HeaderMap, body: &Bytes) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let mime = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = matches!(
        mime.as_str(),
        "application/json" | "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object"
    ) || mime.is_empty();
    if json {
        return Ok(());
    }
    Err(ApiError::pgrst(
        400,
        "PGRST102",
        format!("Content-Type not acceptable: {mime}"),
        None,
        None,
    ))
}

async fn table(
    State(state): State<AppState>,
    method: Method,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = path_name(path, &uri);
    match table_inner(&state, &method, &name, raw.as_deref(), &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn table_inner(
    state: &AppState,
    method: &Method,
    name: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = caller(state, headers)?;
    check_profile(headers)?;
    let cache = state.schema.get().await;
    let table = cache
        .table(name)
        .ok_or_else(|| ApiError::table_not_found(name))?;
    let pairs = query::decode_query(raw);
    let query = query::parse(&pairs, &|_| false)?;
    let path = format!("/{name}");
    match *method {
        Method::GET | Method::HEAD => {
            read(
                state, &cache, table, &caller, method, &path, raw, headers, &query,
            )
            .await
        }
        Method::POST => {
            insert(
                state, &cache, table, &caller, method, &path, headers, &query, &body,
            )
            .await
        }
        Method::PATCH => {
            update(
                state, &cache, table, &caller, method, &path, headers, &query, &body,
            )
            .await
        }
        Method::DELETE => {
            delete(
                state, &cache, table, &caller, method, &path, headers, &query,
            )
            .await
        }
        Method::OPTIONS => {
            let mut r = response(StatusCode::OK, JSON, None, false);
            set_header(&mut r, "allow", "OPTIONS,GET,HEAD,POST,PATCH,DELETE");
            Ok(r)
        }
        _ => Err(ApiError::pgrst(
            405,
            "PGRST117",
            format!("Unsupported HTTP method: {method}"),
            None,
            None,
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn read(
    state: &AppState,
    cache: &Arc<SchemaCache>,
    table: &Table,
    caller: &Caller,
    method: &Method,
    path: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    query: &QueryParams,
) -> Result<Response, ApiError> {
    let singular = wants_object(headers);
    let prefer = prefer(headers);
    let (offset, limit) = window(headers, &query.root(), state.config.max_rows)?;
    let from = sql::qualified(&table.name);
    let statement = sql::read(cache, table, &from, query, limit, offset, singular)?;
    let count_source = match prefer.count {
        Some(_) => Some(sql::count(cache, table, &from, query)?),
        None => None,
    };

    let mut tx = begin(state, caller, method, path, headers, true).await?;
    let (body, rows) = fetch_body(&mut tx, &statement, caller).await?;
    let total = match (prefer.count, &count_source) {
        (Some(mode), Some(source)) => {
            Some(read_total(&mut tx, mode, source, state.config.max_rows, caller).await?)
        }
        _ => None,
    };
    commit(tx, caller).await?;

    if singular && rows != 1 {
        return Err(ApiError::not_single(rows));
    }
    if let Some(total) = total {
        if offset > 0 && offset > total {
            let mut r = ApiError::pgrst(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                Some(format!(
                    "An offset of {offset} was requested, but there are only {total} rows."
                )),
                None,
            )
            .into_response();
            set_header(&mut r, "content-range", &format!("*/{total}"));
            return Ok(r);
        }
    }
    let status = match total {
        Some(total) if rows < total => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let content_type = if singular { OBJECT_JSON } else { JSON };
    let mut r = response(
        status,
        content_type,
        Some(body.unwrap_or_else(|| "[]".to_owned())),
        *method == Method::HEAD,
    );
    set_header(&mut r, "content-range", &content_range(offset, rows, total));
    let location = match raw {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    };
    set_header(&mut r, "content-location", &location);
    if let Some(mode) = prefer.count {
        set_header(&mut r, "preference-applied", mode.applied());
    }
    Ok(r)
}

/// The total of a read as PostgREST finds it for each `Prefer: count=…`: `exact` counts
/// every matching row; `planned` is the planner's estimate; `estimated` counts at most
/// max-rows + 1 rows and, past max-rows, answers the larger of that and the estimate (so a
/// million-row table is never counted to the end, and a small result is always exact).
async fn read_total(
    tx: &mut Transaction<'static, Postgres>,
    mode: query::Count,
    source: &sql::CountSource,
    max_rows: Option<i64>,
    caller: &Caller,
) -> Result<i64, ApiError> {
    match (mode, max_rows) {
        (query::Count::Exact, _) | (query::Count::Estimated, None) => {
            fetch_count(tx, &source.exact(), caller).await
        }
        (query::Count::Planned, _) => fetch_planned(tx, source, caller).await,
        (query::Count::Estimated, Some(max)) => {
            let counted = fetch_count(tx, &source.capped(max.saturating_add(1)), caller).await?;
            if counted > max {
                Ok(counted.max(fetch_planned(tx, source, caller).await?))
            } else {
                Ok(counted)
            }
        }
    }
}

/// The planner's row estimate for a count source (`Plan Rows` of the top plan node).
async fn fetch_planned(
    tx: &mut Transaction<'static, Postgres>,
    source: &sql::CountSource,
    caller: &Caller,
) -> Result<i64, ApiError> {
    let statement = source.planned();
    let row = bind(&statement)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    let plan: serde_json::Value = row
        .try_get(0)
        .map_err(|e| ApiError::internal("reading the query plan", &e))?;
    plan.pointer("/0/Plan/Plan Rows")
        .and_then(serde_json::Value::as_f64)
        // Plan Rows is a non-negative estimate; as an integer it saturates.
        .map(|rows| rows.round() as i64)
        .ok_or_else(|| ApiError::internal("reading the query plan", &"no Plan Rows in the plan"))
}

async fn fetch_count(
    tx: &mut Transaction<'static, Postgres>,
    statement: &Statement,
    caller: &Caller,
) -> Result<i64, ApiError> {
    let row = bind(statement)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
    row.try_get(0)
        .map_err(|e| ApiError::internal("reading the count", &e))
}

fn parse_body(body: &Bytes) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body("Empty or invalid json"));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_body(format!("Empty or invalid json: {e}")))
}

/// The columns a write names: `columns=` or the keys of the body's objects, in order.
fn body_columns(
    table: &Table,
    query: &QueryParams,
    rows: &[serde_json::Value],
) -> Result<Vec<String>, ApiError> {
    let mut columns: Vec<String> = Vec::new();
    if let Some(cols) = &query.columns {
        columns.clone_from(cols);
    } else {
        for row in rows {
            let obj = row.as_object().ok_or_else(|| {
                ApiError::invalid_body("All object keys must match: expected JSON objects")
            })?;
            for key in obj.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    for c in &columns {
        if table.column(c).is_none() {
            return Err(ApiError::body_column_not_found(&table.name, c));
        }
    }
    Ok(columns)
}

fn returning_for(prefer: &Prefer, singular: bool) -> Returning {
    match prefer.ret {
        Return::Minimal if !singular => Returning::Nothing,
        _ => Returning::Rows { singular },
    }
}

/// Runs a write and shapes its response.
#[allow(clippy::too_many_arguments)]
async fn run_write(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    statement: Statement,
    returning: Returning,
    prefer: &Prefer,
    table: &Table,
) -> Result<Response, ApiError> {
    let singular = matches!(returning, Returning::Rows { singular: true });
    let mut tx = begin(state, caller, method, path, headers, false).await?;
    let (body, rows) = match returning {
        Returning::Nothing => {
            tracing::debug!(sql = %statement.sql, "rest statement");
            let done = bind(&statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| ApiError::from_sqlx(e, caller.anonymous()))?;
            (
                None,
                i64::try_from(done.rows_affected()).unwrap_or(i64::MAX),
            )
        }
        Returning::Rows { .. } => fetch_body(&mut tx, &statement, caller).await?,
    };
    if singular && rows != 1 {
        // PostgREST rolls the write back when a single object was asked for.
        drop(tx);
        return Err(ApiError::not_single(rows));
    }
    commit(tx, caller).await?;

    let created = *method == Method::POST;
    let range = if created || rows == 0 {
        "*/*".to_owned()
    } else {
        content_range(0, rows, None)
    };
    let mut r = match prefer.ret {
        Return::Representation => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            response(
                status,
                if singular { OBJECT_JSON } else { JSON },
                body,
                false,
            )
        }
        Return::HeadersOnly | Return::Minimal => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            };
            let mut r = response(status, JSON, None, false);
            if created && prefer.ret == Return::HeadersOnly && rows == 1 {
                if let Some(location) = location(table, body.as_deref(), singular) {
                    set_header(&mut r, "location", &location);
                }
            }
            r
        }
    };
    set_header(&mut r, "content-range", &range);
    let applied = match prefer.ret {
        Return::Representation => "return=representation",
        Return::HeadersOnly => "return=headers-only",
        Return::Minimal => "return=minimal",
    };
    set_header(&mut r, "preference-applied", applied);
    Ok(r)
}

/// `Location: /table?pk=eq.value` for a single created row.
fn location(table: &Table, body: Option<&str>, singular: bool) -> Option<String> {
    if table.primary_key.is_empty() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(body?).ok()?;
    let row = if singular {
        value
    } else {
        value.as_array()?.first()?.clone()
    };
    let mut parts = Vec::new();
    for key in &table.primary_key {
        let v = row.get(key)?;
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        parts.push(format!("{key}=eq.{encoded}"));
    }
    Some(format!("/{}?{}", table.name, parts.join("&")))
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    state: &AppState,
    cache: &Arc<SchemaCache>,
    table: &Table,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &QueryParams,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let singular = wants_object(headers);
    let prefer = prefer(headers);
    check_content_type(headers, body)?;
    let rows = match parse_body(body)? {
        serde_json::Value::Array(rows) => rows,
        obj @ serde_json::Value::Object(_) => vec![obj],
        _ => {
            return Err(ApiError::invalid_body(
                "Expected a JSON object or an array of objects",
            ))
        }
    };
    let columns = body_columns(table, query, &rows)?;
    let upsert = match prefer.resolution {
        Some(resolution) => {
            let target = query
                .on_conflict
                .clone()
                .unwrap_or_else(|| table.primary_key.clone());
            Some((target, resolution == Resolution::MergeDuplicates))
        }
        None => None,
    };
    let mut returning = returning_for(&prefer, singular);
    if prefer.ret == Return::HeadersOnly {
        returning = Returning::Rows { singular };
    }
    let rows_json = serde_json::Value::Array(rows).to_string();
    let spec = sql::InsertSpec {
        rows_json,
        columns: &columns,
        upsert,
        missing_default: prefer.missing_default,
    };
    let statement = sql::insert(cache, table, spec, query, returning)?;
    run_write(
        state, caller, method, path, headers, statement, returning, &prefer, table,
    )
    .await
}

/// Supabase loads `safeupdate`: UPDATE and DELETE without a WHERE clause are refused.
fn require_filters(query: &QueryParams, verb: &str) -> Result<(), ApiError> {
    if query.root().conditions.is_empty() {
        return Err(ApiError::pgrst(
            400,
            "21000",
            format!("{verb} requires a WHERE clause"),
            None,
            None,
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn update(
    state: &AppState,
    cache: &Arc<SchemaCache>,
    table: &Table,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &QueryParams,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let singular = wants_object(headers);
    let prefer = prefer(headers);
    check_content_type(headers, body)?;
    let value = parse_body(body)?;
    if !value.is_object() {
        return Err(ApiError::invalid_body("Expected a JSON object"));
    }
    let columns = body_columns(table, query, std::slice::from_ref(&value))?;
    require_filters(query, "UPDATE")?;
    if columns.is_empty() {
        // Nothing to set: PostgREST answers without touching the table.
        let status = if prefer.ret == Return::Representation {
            StatusCode::OK
        } else {
            StatusCode::NO_CONTENT
        };
        let body = (prefer.ret == Return::Representation).then(|| "[]".to_owned());
        return Ok(response(status, JSON, body, false));
    }
    let returning = returning_for(&prefer, singular);
    let statement = sql::update(cache, table, value.to_string(), &columns, query, returning)?;
    run_write(
        state, caller, method, path, headers, statement, returning, &prefer, table,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn delete(
    state: &AppState,
    cache: &Arc<SchemaCache>,
    table: &Table,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    query: &QueryParams,
) -> Result<Response, ApiError> {
    let singular = wants_object(headers);
    let prefer = prefer(headers);
    require_filters(query, "DELETE")?;
    let returning = returning_for(&prefer, singular);
    let statement = sql::delete(cache, table, query, returning)?;
    run_write(
        state, caller, method, path, headers, statement, returning, &prefer, table,
    )
    .await
}

async fn rpc(
    State(state): State<AppState>,
    method: Method,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = path_name(path, &uri);
    match rpc_inner(&state, &method, &name, raw.as_deref(), &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn function_not_found(name: &str, args: &[String]) -> ApiError {
    let schema = schema::SCHEMA;
    let (message, details) = if args.is_empty() {
        (
            format!("Could not find the function {schema}.{name} without parameters in the schema cache"),
            format!("Searched for the function {schema}.{name} without parameters, but no matches were found in the schema cache."),
        )
    } else {
        let list = args.join(", ");
        (
            format!("Could not find the function {schema}.{name}({list}) in the schema cache"),
            format!(
                "Searched for the function {schema}.{name} with parameters {list} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache."
            ),
        )
    };
    ApiError::pgrst(404, "PGRST202", message, Some(details), None)
}

async fn rpc_inner(
    state: &AppState,
    method: &Method,
    name: &str,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = caller(state, headers)?;
    check_profile(headers)?;
    if !matches!(*method, Method::GET | Method::HEAD | Method::POST) {
        return Err(ApiError::pgrst(
            405,
            "PGRST101",
            "Only GET, HEAD and POST are allowed for functions",
            None,
            None,
        ));
    }
    let cache = state.schema.get().await;
    let overloads: &[Function] = cache.functions.get(name).map(Vec::as_slice).unwrap_or(&[]);
    let pairs = query::decode_query(raw);
    let post = *method == Method::POST;
    let query = query::parse(&pairs, &|key| {
        !post
            && overloads
                .iter()
                .any(|f| f.args.iter().any(|a| a.name == key))
    })?;

    let args: serde_json::Map<String, serde_json::Value> = if post {
        check_content_type(headers, &body)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Map::new()
        } else {
            match parse_body(&body)? {
                serde_json::Value::Object(map) => map,
                _ => {
                    return Err(ApiError::invalid_body(
                        "Expected a JSON object of named arguments",
                    ))
                }
            }
        }
    } else {
        query
            .rpc_args
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect()
    };
    let names: Vec<String> = args.keys().cloned().collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let function = overloads
        .iter()
        .find(|f| f.accepts(&name_refs))
        .ok_or_else(|| function_not_found(name, &names))?;

    let (offset, limit) = window(headers, &query.root(), state.config.max_rows)?;
    let args_json = serde_json::Value::Object(args).to_string();
    // PostgREST counts a function's rows exactly whatever the count preference.
    let count_statement = if prefer(headers).count.is_some() {
        sql::call_count(&cache, function, &names, args_json.clone(), &query)?
    } else {
        None
    };
    let (statement, shape) = sql::call(&cache, function, &names, args_json, &query, limit, offset)?;
    // PostgREST's access modes: GET/HEAD read only; POST read only unless VOLATILE.
    let read_only = !post || function.volatility != Volatility::Volatile;
    let path = format!("/rpc/{name}");
    let mut tx = begin(state, &caller, method, &path, headers, read_only).await?;
    let (body, rows) = fetch_body(&mut tx, &statement, &caller).await?;
    let total = match &count_statement {
        Some(c) => Some(fetch_count(&mut tx, c, &caller).await?),
        None => None,
    };
    commit(tx, &caller).await?;

    let head = *method == Method::HEAD;
    if wants_object(headers) && matches!(shape, RpcShape::Rows) {
        // `.single()` on a set: exactly one row, answered as an object.
        let mut items: Vec<serde_json::Value> = body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_default();
        if items.len() != 1 {
            return Err(ApiError::not_single(
                i64::try_from(items.len()).unwrap_or(i64::MAX),
            ));
        }
        let item = items.remove(0).to_string();
        return Ok(response(StatusCode::OK, OBJECT_JSON, Some(item), head));
    }
    let mut r = match shape {
        RpcShape::Void => response(StatusCode::NO_CONTENT, JSON, None, head),
        RpcShape::Value => response(
            StatusCode::OK,
            JSON,
            Some(body.unwrap_or_else(|| "null".to_owned())),
            head,
        ),
        RpcShape::Rows => {
            let status = match total {
                Some(total) if rows < total => StatusCode::PARTIAL_CONTENT,
                _ => StatusCode::OK,
            };
            let mut r = response(
                status,
                JSON,
                Some(body.unwrap_or_else(|| "[]".to_owned())),
                head,
            );
            set_header(&mut r, "content-range", &content_range(offset, rows, total));
            r
        }
    };
    if matches!(shape, RpcShape::Value) {
        set_header(&mut r, "content-range", "0-0/*");
    }
    Ok(r)
}
