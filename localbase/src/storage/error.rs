//! Storage's error body and status rules.
//!
//! Upstream renders every error as `{"statusCode": "<status>", "code": "<ErrorCode>",
//! "error": "<legacy error>", "message": "…"}` and, for backwards compatibility, answers
//! with HTTP 400 for every error whose status is not 500 (`StorageBackendError.userStatusCode`):
//! an RLS denial is HTTP 400 with `"statusCode": "403"`. The clients read `statusCode` from
//! the body.

use crate::request::CallerError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The URL's path parameters (bucket, object name), refused in Storage's words when they do
/// not decode to UTF-8 (`%ff`), instead of axum's plain-text rejection.
pub struct StoragePath<T>(pub T);

impl<T, S> FromRequestParts<S> for StoragePath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = StorageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(StoragePath(value)),
            Err(_) => {
                let raw = parts.uri.path();
                let decoded: String =
                    form_urlencoded::parse(format!("k={}", raw.replace('+', "%2B")).as_bytes())
                        .map(|(_, v)| v.into_owned())
                        .collect();
                Err(StorageError::invalid_key(&decoded))
            }
        }
    }
}

/// An error answered the way Storage answers it (see the module documentation).
#[derive(Debug, Clone)]
pub struct StorageError {
    /// The status the error stands for (the body's `statusCode`).
    pub status: u16,
    /// Upstream's `ErrorCode` (`NoSuchKey`, `AccessDenied`…).
    pub code: &'static str,
    /// The legacy `error` field (`not_found`, `Unauthorized`, `Duplicate`…).
    pub error: String,
    /// The human-readable `message`.
    pub message: String,
}

impl StorageError {
    /// An error with every field given.
    pub fn new(
        status: u16,
        code: &'static str,
        error: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        StorageError {
            status,
            code,
            error: error.into(),
            message: message.into(),
        }
    }
    /// 404 `NoSuchKey`: no such object, or none the caller may see.
    pub fn no_such_key() -> Self {
        Self::new(404, "NoSuchKey", "not_found", "Object not found")
    }
    /// 404 `NoSuchBucket`: no such bucket, or none the caller may see.
    pub fn no_such_bucket() -> Self {
        Self::new(404, "NoSuchBucket", "Bucket not found", "Bucket not found")
    }
    /// 403 `AccessDenied`: PostgreSQL refused the operation (SQLSTATE 42501: an RLS policy).
    pub fn access_denied() -> Self {
        Self::new(
            403,
            "AccessDenied",
            "Unauthorized",
            "new row violates row-level security policy",
        )
    }
    /// 409 `ResourceAlreadyExists`: the bucket or object exists (SQLSTATE 23505).
    pub fn duplicate() -> Self {
        Self::new(
            409,
            "ResourceAlreadyExists",
            "Duplicate",
            "The resource already exists",
        )
    }
    /// 400 `InvalidKey`: an object name Storage does not accept.
    pub fn invalid_key(key: &str) -> Self {
        Self::new(
            400,
            "InvalidKey",
            "InvalidKey",
            format!("Invalid key: {key}"),
        )
    }
    /// 400 `InvalidBucketName`: a bucket name Storage does not accept.
    pub fn invalid_bucket_name() -> Self {
        Self::new(
            400,
            "InvalidBucketName",
            "Invalid Input",
            "Bucket name invalid",
        )
    }
    /// 413 `EntityTooLarge`: the body exceeds the bucket's or the server's size limit.
    pub fn too_large() -> Self {
        Self::new(
            413,
            "EntityTooLarge",
            "Payload too large",
            "The object exceeded the maximum allowed size",
        )
    }
    /// 415 `InvalidMimeType`: the bucket's `allowed_mime_types` exclude `mime`.
    pub fn invalid_mime(mime: &str) -> Self {
        Self::new(
            415,
            "InvalidMimeType",
            "invalid_mime_type",
            format!("mime type {mime} is not supported"),
        )
    }
    /// 400 `InvalidRequest`: a malformed request (body, multipart form).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequest", "InvalidRequest", message)
    }
    /// 400 `InvalidJWT`: an expired, badly signed or malformed token (or a signed URL's).
    pub fn invalid_jwt(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidJWT", "InvalidJWT", message)
    }
    /// 409 `ResourceNotEmpty`: a bucket that still holds objects cannot be deleted.
    pub fn not_empty() -> Self {
        Self::new(
            409,
            "ResourceNotEmpty",
            "ResourceNotEmpty",
            "The bucket you tried to delete is not empty",
        )
    }
    /// A 500: the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error.cause_chain = %cause, "storage: unexpected failure");
        Self::new(500, "InternalError", "internal", "Internal Server Error")
    }
}

impl From<sqlx::Error> for StorageError {
    /// PostgreSQL's verdicts in Storage's words: RLS → 403, unique → 409, foreign key → 404.
    fn from(e: sqlx::Error) -> Self {
        let code = e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned());
        match code.as_deref() {
            Some("42501") => StorageError::access_denied(),
            Some("23505") => StorageError::duplicate(),
            Some("23503") => StorageError::new(
                404,
                "InvalidRequest",
                "InvalidRequest",
                "The related resource does not exist",
            ),
            Some("57014") => StorageError::new(
                544,
                "DatabaseTimeout",
                "DatabaseTimeout",
                "The connection to the database timed out",
            ),
            _ => StorageError::internal(e),
        }
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        StorageError::internal(e)
    }
}

impl From<CallerError> for StorageError {
    fn from(e: CallerError) -> Self {
        match e {
            CallerError::NoApiKey => StorageError::new(
                400,
                "InvalidRequest",
                "Error",
                "headers must have required property 'authorization'",
            ),
            CallerError::Jwt(crate::jwt::JwtError::Expired) => {
                StorageError::invalid_jwt("jwt expired")
            }
            CallerError::Jwt(crate::jwt::JwtError::BadSignature) => {
                StorageError::invalid_jwt("invalid signature")
            }
            CallerError::Jwt(_) => StorageError::invalid_jwt("jwt malformed"),
            CallerError::Role(role) => {
                StorageError::invalid_jwt(format!("role \"{role}\" is not allowed"))
            }
        }
    }
}

impl IntoResponse for StorageError {
    fn into_response(self) -> Response {
        let http = if self.status >= 500 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = json!({
            "statusCode": self.status.to_string(),
            "code": self.code,
            "error": self.error,
            "message": self.message,
        });
        (http, axum::Json(body)).into_response()
    }
}
