//! A small client of the Supabase Storage API with the service-role key: upload and
//! download objects. The service key bypasses RLS, so callers choose paths inside the
//! task owner's folder (`<user id>/…`).

use std::time::Duration;

use reqwest::{StatusCode, Url};

use crate::error::TaskError;
use crate::text::{Run, Text};

/// Uploads and downloads through `{SUPABASE_URL}/storage/v1`.
#[derive(Clone)]
pub struct StorageClient {
    base: Url,
    key: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for StorageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("StorageClient")
            .field("base", &self.base.as_str())
            .finish()
    }
}

/// What went wrong talking to Storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// 404.
    #[error("The file {bucket}/{path} was not found in Storage")]
    NotFound {
        /// Bucket.
        bucket: String,
        /// Object path.
        path: String,
    },
    /// Larger than the caller's limit.
    #[error("The file {bucket}/{path} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Bucket.
        bucket: String,
        /// Object path.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// Another 4xx: will not succeed on retry.
    #[error("Storage refused the request ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: StatusCode,
        /// Storage's message.
        message: String,
    },
    /// A 5xx, a timeout or no connection: worth retrying.
    #[error("Storage is unavailable: {0}")]
    Unavailable(String),
    /// The URL could not be built (a configuration mistake).
    #[error("The Storage URL is invalid: {0}")]
    BadUrl(String),
}

impl From<StorageError> for TaskError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable(detail) => {
                TaskError::Retryable(Text::new(Run::StorageUnavailable).raw("detail", detail))
            }
            StorageError::NotFound { bucket, path } => TaskError::Permanent(
                Text::new(Run::StorageNotFound).raw("path", format!("{bucket}/{path}")),
            ),
            StorageError::TooLarge {
                bucket,
                path,
                limit,
            } => TaskError::Permanent(
                Text::new(Run::StorageTooLarge)
                    .raw("path", format!("{bucket}/{path}"))
                    .bytes("limit", limit),
            ),
            StorageError::Rejected { status, message } => TaskError::Permanent(
                Text::new(Run::StorageRefused)
                    .raw("status", status)
                    .raw("detail", message),
            ),
            StorageError::BadUrl(detail) => {
                TaskError::Permanent(Text::new(Run::StorageBadUrl).raw("detail", detail))
            }
        }
    }
}

impl StorageClient {
    /// A client of the Storage API at `supabase_url` (e.g. `http://127.0.0.1:54321`).
    pub fn new(
        supabase_url: &str,
        service_role_key: &str,
        http: reqwest::Client,
    ) -> Result<Self, StorageError> {
        let base = Url::parse(supabase_url.trim_end_matches('/'))
            .map_err(|error| StorageError::BadUrl(format!("{supabase_url}: {error}")))?;
        if base.cannot_be_a_base() {
            return Err(StorageError::BadUrl(supabase_url.to_owned()));
        }
        Ok(Self {
            base,
            key: service_role_key.to_owned(),
            http,
            timeout: Duration::from_secs(120),
        })
    }

    /// `{base}/storage/v1/object/{prefix…}/{bucket}/{path}`, each segment percent-encoded.
    fn object_url(&self, prefix: &[&str], bucket: &str, path: &str) -> Result<Url, StorageError> {
        let mut url = self.base.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| StorageError::BadUrl(self.base.to_string()))?;
            segments.pop_if_empty();
            segments.extend(["storage", "v1", "object"]);
            segments.extend(prefix.iter().copied());
            segments.push(bucket);
            segments.extend(path.split('/'));
        }
        Ok(url)
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .bearer_auth(&self.key)
            .header("apikey", &self.key)
            .timeout(self.timeout)
    }

    /// Uploads (or replaces, `x-upsert: true`) an object.
    pub async fn upload(
        &self,
        bucket: &str,
        path: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let url = self.object_url(&[], bucket, path)?;
        let response = self
            .authorize(self.http.post(url))
            .header("x-upsert", "true")
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header("cache-control", "max-age=3600")
            .body(bytes)
            .send()
            .await
            .map_err(|error| StorageError::Unavailable(describe(&error)))?;
        check(response, bucket, path).await.map(|_| ())
    }

    /// Downloads an object through `/object/authenticated/…`, refusing more than
    /// `max_bytes`.
    pub async fn download(
        &self,
        bucket: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, StorageError> {
        let url = self.object_url(&["authenticated"], bucket, path)?;
        let response = self
            .authorize(self.http.get(url))
            .send()
            .await
            .map_err(|error| StorageError::Unavailable(describe(&error)))?;
        let mut response = check(response, bucket, path).await?;
        let too_large = || StorageError::TooLarge {
            bucket: bucket.to_owned(),
            path: path.to_owned(),
            limit: max_bytes,
        };
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| StorageError::Unavailable(describe(&error)))?
        {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Downloads an object as it arrives, for files too large to hold: the declared size
    /// (if Storage sent one) and the chunks. Refuses more than `max_bytes`, by the declared
    /// size up front and by counting as the chunks come. No overall time limit (the task's
    /// own limit applies); a stalled connection ends with the server's or the OS's timeout.
    pub async fn download_stream(
        &self,
        bucket: &str,
        path: &str,
        max_bytes: u64,
    ) -> Result<
        (
            Option<u64>,
            impl futures_util::Stream<Item = Result<bytes::Bytes, StorageError>> + Send + Unpin,
        ),
        StorageError,
    > {
        use futures_util::StreamExt;
        let url = self.object_url(&["authenticated"], bucket, path)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.key)
            .header("apikey", &self.key)
            .send()
            .await
            .map_err(|error| StorageError::Unavailable(describe(&error)))?;
        let response = check(response, bucket, path).await?;
        let too_large = {
            let (bucket, path) = (bucket.to_owned(), path.to_owned());
            move || StorageError::TooLarge {
                bucket: bucket.clone(),
                path: path.clone(),
                limit: max_bytes,
            }
        };
        let declared = response.content_length();
        if declared.is_some_and(|len| len > max_bytes) {
            return Err(too_large());
        }
        let mut seen: u64 = 0;
        let chunks = response
            .bytes_stream()
            .map(move |chunk| {
                let chunk = chunk.map_err(|error| StorageError::Unavailable(describe(&error)))?;
                seen += chunk.len() as u64;
                if seen > max_bytes {
                    return Err(too_large());
                }
                Ok(chunk)
            })
            .boxed();
        Ok((declared, chunks))
    }

    /// Uploads (or replaces, `x-upsert: true`) an object whose bytes are produced while it
    /// is sent (`reqwest::Body::wrap_stream`, chunked). An error item in the body aborts
    /// the request, so Storage keeps no truncated object. No overall time limit (the task's
    /// own limit applies).
    pub async fn upload_stream(
        &self,
        bucket: &str,
        path: &str,
        body: reqwest::Body,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let url = self.object_url(&[], bucket, path)?;
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.key)
            .header("apikey", &self.key)
            .header("x-upsert", "true")
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header("cache-control", "max-age=3600")
            .body(body)
            .send()
            .await
            .map_err(|error| StorageError::Unavailable(describe(&error)))?;
        check(response, bucket, path).await.map(|_| ())
    }
}

/// Maps a non-2xx answer to an error, keeping Storage's `message`.
async fn check(
    response: reqwest::Response,
    bucket: &str,
    path: &str,
) -> Result<reqwest::Response, StorageError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|body| {
            body.get("message")
                .or_else(|| body.get("error"))
                .and_then(|m| m.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| text.chars().take(200).collect());
    // Storage answers a missing object with 404, or 400 with statusCode "404".
    if status == StatusCode::NOT_FOUND || message.to_lowercase().contains("not found") {
        return Err(StorageError::NotFound {
            bucket: bucket.to_owned(),
            path: path.to_owned(),
        });
    }
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(StorageError::Unavailable(format!("{status}: {message}")));
    }
    Err(StorageError::Rejected { status, message })
}

/// reqwest's error with its causes, for people.
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_urls_encode_each_segment() {
        let client = StorageClient::new("http://127.0.0.1:54321/", "key", reqwest::Client::new())
            .expect("valid url");
        let url = client
            .object_url(&[], "reports", "u1/t 1/report.pdf")
            .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:54321/storage/v1/object/reports/u1/t%201/report.pdf"
        );
        let url = client
            .object_url(&["authenticated"], "imports", "u1/events.csv")
            .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:54321/storage/v1/object/authenticated/imports/u1/events.csv"
        );
    }

    #[test]
    fn a_base_with_a_path_keeps_it() {
        let client = StorageClient::new(
            "https://example.test/supabase",
            "key",
            reqwest::Client::new(),
        )
        .expect("valid url");
        let url = client.object_url(&[], "reports", "a.json").expect("url");
        assert_eq!(
            url.as_str(),
            "https://example.test/supabase/storage/v1/object/reports/a.json"
        );
    }

    #[test]
    fn the_key_is_not_printed() {
        let client = StorageClient::new("http://x", "very-secret", reqwest::Client::new())
            .expect("valid url");
        assert!(!format!("{client:?}").contains("very-secret"));
    }
}
