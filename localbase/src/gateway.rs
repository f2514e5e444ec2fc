//! What Supabase's API gateway (Kong) does in front of the services: API key check, CORS,
//! request size limit, request ids and the access log; plus the built SPA and its
//! run-time `config.json`.

use crate::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

/// Paths under the API prefixes that Supabase serves without an API key: links opened
/// from mail or by the browser (`<img src>`, redirects), which cannot carry headers.
fn is_open_path(method: &Method, path: &str) -> bool {
    const OPEN: [&str; 4] = [
        "/auth/v1/verify",
        "/auth/v1/callback",
        "/auth/v1/authorize",
        "/storage/v1/object/public/",
    ];
    OPEN.iter().any(|p| path.starts_with(p))
        || (*method == Method::GET && path.starts_with("/storage/v1/object/sign/"))
        || path.starts_with("/storage/v1/render/image/public/")
}

fn is_api_path(path: &str) -> bool {
    ["/rest/v1", "/auth/v1", "/storage/v1"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Moves an `apikey` URL parameter into the `apikey` header and out of the query (the
/// gateway accepts either; the services never see the parameter).
fn apikey_from_query(request: &mut Request) {
    let Some(query) = request.uri().query() else {
        return;
    };
    if !query.split('&').any(|p| p.starts_with("apikey=")) {
        return;
    }
    let mut key = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("apikey=") {
            Some(v) => {
                key = Some(v.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let path = request.uri().path().to_owned();
    let path_and_query = if rest.is_empty() {
        path
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    if let Some(value) = key
        .map(|k| {
            form_urlencoded::parse(format!("k={k}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect::<String>()
        })
        .and_then(|k| HeaderValue::from_str(&k).ok())
    {
        if !request.headers().contains_key("apikey") {
            request.headers_mut().insert("apikey", value);
        }
    }
}

/// Supabase's gateway refuses API requests that carry neither an `apikey` (header or URL
/// parameter) nor a bearer token: 401 `{"message":"No API key found in request"}`.
async fn require_api_key(mut request: Request, next: Next) -> Response {
    if is_api_path(request.uri().path()) {
        apikey_from_query(&mut request);
    }
    let path = request.uri().path();
    let method = request.method();
    if *method != Method::OPTIONS
        && is_api_path(path)
        && !is_open_path(method, path)
        && crate::request::token_from_headers(request.headers()).is_none()
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "message": "No API key found in request",
                "hint": "No `apikey` request header or url param was found."
            })),
        )
            .into_response();
    }
    next.run(request).await
}

/// The gateway's 413; under `/storage/v1` Storage's own (its upload limit answers before the
/// gateway's there: `{"statusCode":"413","error":"Payload too large",…}`).
fn payload_too_large(path: &str) -> Response {
    if path == "/storage/v1" || path.starts_with("/storage/v1/") {
        return crate::storage::StorageError::too_large().into_response();
    }
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        axum::Json(json!({"message": "Request size limit exceeded"})),
    )
        .into_response()
}

/// Refuses bodies over `max_body_bytes` up front (by `Content-Length`), and turns the
/// plain-text 413 of axum's body limit (streamed bodies) into the gateway's JSON.
async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.config.max_body_bytes) {
        return payload_too_large(&path);
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return payload_too_large(&path);
    }
    response
}

/// `GET /config.json`: what the SPA needs at run time.
async fn config_json(State(state): State<AppState>) -> Response {
    let mut response = axum::Json(json!({
        "supabaseUrl": state.config.site_url,
        "supabaseAnonKey": state.config.anon_key,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A fresh UUID per request, unless the client sent `x-request-id`.
#[derive(Clone, Copy, Default)]
struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .ok()
            .map(RequestId::new)
    }
}

fn cors() -> CorsLayer {
    let allow = [
        "apikey",
        "authorization",
        "content-type",
        "prefer",
        "range",
        "range-unit",
        "accept",
        "accept-profile",
        "content-profile",
        "x-client-info",
        "x-upsert",
        "x-supabase-api-version",
        "x-request-id",
        "cache-control",
    ];
    let expose = [
        "content-range",
        "content-location",
        "location",
        "preference-applied",
        "x-request-id",
    ];
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(allow.map(HeaderName::from_static))
        .expose_headers(expose.map(HeaderName::from_static))
        .max_age(Duration::from_secs(3600))
}

/// Supabase's gateway appends the client's address to `X-Forwarded-For` (and sets
/// `X-Real-IP`), which PostgREST hands to SQL in `request.headers`: the audit trail reads it.
async fn forwarded_for(mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    if let Some(ip) = peer {
        let forwarded = match request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(existing) => format!("{existing}, {ip}"),
            None => ip.clone(),
        };
        if let Ok(value) = HeaderValue::from_str(&forwarded) {
            request.headers_mut().insert("x-forwarded-for", value);
        }
        if !request.headers().contains_key("x-real-ip") {
            if let Ok(value) = HeaderValue::from_str(&ip) {
                request.headers_mut().insert("x-real-ip", value);
            }
        }
    }
    next.run(request).await
}

/// Adds `/config.json`, the SPA and the gateway's layers around the services.
pub fn wrap(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let mut router = router.route("/config.json", axum::routing::get(config_json));
    if let Some(dist) = &state.config.dist_dir {
        // `fallback` (not `not_found_service`, which answers 404) so that history-API routes
        // such as /tasks/123 load the SPA with 200.
        router = router.fallback_service(
            ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html"))),
        );
    }
    let x_request_id = HeaderName::from_static("x-request-id");
    router
        .layer(middleware::from_fn(require_api_key))
        .layer(middleware::from_fn(forwarded_for))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), limit_body))
        .layer(cors())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<Body>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                })
                .on_request(())
                .on_response(
                    |response: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                            "served"
                        );
                    },
                ),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeUuid))
}
