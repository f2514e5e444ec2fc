//! `http_request`: one outgoing HTTP call, bounded in time (`timeoutSecs`) and in the
//! size of the body read (`system_settings.http_request_max_response_bytes`).
//!
//! Result: `{status, statusText, headers (a subset), bodyPreview (≤ 2 KB), bodyBytes,
//! truncated, durationMs}`. A 5xx answer, a timeout or a connection error is retryable;
//! a 4xx answer is permanent.

use std::time::Instant;

use async_trait::async_trait;
use domain::{RequestBody, TaskParameters};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Map, Value};

use super::{wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;
use crate::http_guard::{refused_url, MAX_REDIRECTS};
use crate::queue::setting_i64;
use crate::storage::describe;
use crate::text::{Run, Text};

/// The body preview kept in the result, in bytes.
pub const PREVIEW_BYTES: usize = 2048;
/// The body cap when the setting is missing.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
/// Response headers copied into the result.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "cache-control",
    "date",
    "etag",
    "last-modified",
    "location",
    "retry-after",
    "server",
];

/// Runs `http_request` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpRequestHandler;

#[async_trait]
impl TaskHandler for HttpRequestHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::HttpRequest(params) = &ctx.params else {
            return Err(wrong_parameters("http_request"));
        };
        let max_bytes = setting_i64(&ctx.db, "http_request_max_response_bytes")
            .await?
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        let timeout = params.timeout();
        let method =
            reqwest::Method::from_bytes(params.method.as_str().as_bytes()).map_err(|_| {
                TaskError::permanent(Text::new(Run::HttpBadMethod).raw("method", params.method))
            })?;
        let url =
            reqwest::Url::parse(&params.url).map_err(|_| TaskError::permanent(Run::HttpBadUrl))?;
        if !ctx.allow_private_addresses {
            if let Some(reason) = refused_url(&url) {
                return Err(TaskError::Permanent(
                    Text::new(Run::HttpNotSent).text("detail", reason),
                ));
            }
        }

        let mut headers = HeaderMap::new();
        for (given, value) in params.headers.iter().flatten() {
            let name = HeaderName::from_bytes(given.as_bytes()).map_err(|_| {
                TaskError::permanent(Text::new(Run::HttpBadHeaderName).raw("name", given))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                TaskError::permanent(Text::new(Run::HttpBadHeaderValue).raw("name", given))
            })?;
            headers.insert(name, value);
        }
        let mut request = ctx.http.request(method, url).timeout(timeout);
        match params.request_body() {
            None => {}
            Some(RequestBody::Text(text)) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("text/plain; charset=utf-8"),
                    );
                }
                request = request.body(text.to_owned());
            }
            Some(RequestBody::Json(value)) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let bytes = serde_json::to_vec(value).map_err(|error| {
                    TaskError::permanent(Text::new(Run::HttpBody).raw("detail", error))
                })?;
                request = request.body(bytes);
            }
        }
        request = request.headers(headers);

        ctx.log
            .info(
                Text::new(Run::HttpSending)
                    .raw("method", params.method)
                    .raw("url", &params.url),
                Some(json!({ "timeoutSecs": timeout.as_secs(), "maxResponseBytes": max_bytes })),
            )
            .await;
        ctx.progress.set(10).await;

        let started = Instant::now();
        let send = request.send();
        let mut response = tokio::select! {
            response = send => response.map_err(|error| request_error(&error, timeout.as_secs()))?,
            () = ctx.cancel.cancelled() => return Err(TaskError::Cancelled),
        };
        let status = response.status();
        ctx.progress.set(50).await;

        // Read at most `max_bytes` of the body; the rest is left unread.
        let mut body: Vec<u8> = Vec::new();
        let mut truncated = false;
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk.map_err(|error| request_error(&error, timeout.as_secs()))?,
                () = ctx.cancel.cancelled() => return Err(TaskError::Cancelled),
            };
            let Some(chunk) = chunk else { break };
            let room = usize::try_from(max_bytes)
                .unwrap_or(usize::MAX)
                .saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        ctx.progress.set(90).await;

        let mut kept = Map::new();
        for name in KEPT_HEADERS {
            if let Some(value) = response.headers().get(*name).and_then(|v| v.to_str().ok()) {
                kept.insert((*name).to_owned(), Value::String(value.to_owned()));
            }
        }
        let status_text = status.canonical_reason().unwrap_or("");
        let preview = preview(&body);
        let result = json!({
            "status": status.as_u16(),
            "statusText": status_text,
            "headers": kept,
            "bodyPreview": preview,
            "bodyBytes": body.len(),
            "truncated": truncated,
            "durationMs": duration_ms,
        });
        if truncated {
            ctx.log
                .warn(Text::new(Run::HttpTruncated).num("bytes", max_bytes), None)
                .await;
        }
        let answered = Text::new(Run::HttpAnswered)
            .num("status", status.as_u16())
            .raw("reason", status_text);
        ctx.log
            .info(
                Text::new(Run::HttpResponse)
                    .num("status", status.as_u16())
                    .raw("reason", status_text)
                    .ms("duration", i64::try_from(duration_ms).unwrap_or(i64::MAX))
                    .num("bytes", body.len()),
                Some(json!({ "status": status.as_u16(), "durationMs": duration_ms })),
            )
            .await;
        if status.is_server_error() {
            return Err(TaskError::Retryable(answered));
        }
        if status.is_client_error() {
            return Err(TaskError::Permanent(answered));
        }
        Ok(result)
    }
}

/// The first [`PREVIEW_BYTES`] of the body as text, cut on a character boundary.
pub fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(PREVIEW_BYTES)]).into_owned();
    if body.len() <= PREVIEW_BYTES {
        return text;
    }
    // A multi-byte character cut at the limit becomes U+FFFD: drop it.
    let mut text = text;
    while text.ends_with('\u{FFFD}') {
        text.pop();
    }
    text
}

/// A send or read error, in words, retryable unless it is the request's own fault.
fn request_error(error: &reqwest::Error, timeout_secs: u64) -> TaskError {
    let host = || {
        error
            .url()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default()
    };
    if refused_by_guard(error) {
        TaskError::Permanent(Text::new(Run::HttpNotSent).text(
            "detail",
            Text::new(Run::HttpResolvesPrivate).raw("host", host()),
        ))
    } else if error.is_timeout() {
        TaskError::Retryable(Text::new(Run::HttpNoAnswer).num("seconds", timeout_secs))
    } else if error.is_redirect() {
        TaskError::Permanent(
            Text::new(Run::HttpRedirect)
                .raw("detail", root_cause(error))
                .num("max", MAX_REDIRECTS),
        )
    } else if error.is_builder() {
        TaskError::Permanent(Text::new(Run::HttpNotMade).raw("detail", describe(error)))
    } else if error.is_connect() {
        TaskError::Retryable(
            Text::new(Run::HttpConnect)
                .raw("host", host())
                .raw("detail", root_cause(error)),
        )
    } else {
        TaskError::Retryable(Text::new(Run::HttpFailed).raw("detail", root_cause(error)))
    }
}

/// The resolver refused every address of the host (see [`crate::http_guard`]).
fn refused_by_guard(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
        {
            return true;
        }
        cause = current.source();
    }
    false
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_cut_at_2_kb_on_a_character_boundary() {
        assert_eq!(preview(b"hello"), "hello");
        let long = "é".repeat(2000); // 4000 bytes
        let cut = preview(long.as_bytes());
        assert!(cut.len() <= PREVIEW_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(cut.chars().count(), 1024);
    }
}
