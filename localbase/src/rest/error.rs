//! PostgREST's error body `{"code","details","hint","message"}` and its status mapping.

use crate::jwt::JwtError;
use crate::request::CallerError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered the way PostgREST answers it.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status PostgREST answers with.
    pub status: StatusCode,
    /// `code`: a `PGRSTxxx` code or a PostgreSQL SQLSTATE (`42501`, `23505`…).
    pub code: String,
    /// `message`: what went wrong.
    pub message: String,
    /// `details`: more about it, or null.
    pub details: Option<String>,
    /// `hint`: how to fix it, or null.
    pub hint: Option<String>,
}

impl ApiError {
    /// A PostgREST error (`PGRSTxxx` or a SQLSTATE PostgREST raises itself).
    pub fn pgrst(
        status: u16,
        code: &str,
        message: impl Into<String>,
        details: Option<String>,
        hint: Option<String>,
    ) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.to_owned(),
            message: message.into(),
            details,
            hint,
        }
    }

    /// PGRST205.
    pub fn table_not_found(table: &str) -> ApiError {
        ApiError::pgrst(
            404,
            "PGRST205",
            format!(
                "Could not find the table '{}.{table}' in the schema cache",
                super::schema::SCHEMA
            ),
            None,
            None,
        )
    }

    /// 42703, as PostgREST reports an unknown column in `select`, filters or order.
    pub fn column_not_found(table: &str, column: &str) -> ApiError {
        ApiError::pgrst(
            400,
            "42703",
            format!("column {table}.{column} does not exist"),
            None,
            None,
        )
    }

    /// PGRST204: a body or `columns=` key that is not a column.
    pub fn body_column_not_found(table: &str, column: &str) -> ApiError {
        ApiError::pgrst(
            400,
            "PGRST204",
            format!("Could not find the '{column}' column of '{table}' in the schema cache"),
            None,
            None,
        )
    }

    /// PGRST102.
    pub fn invalid_body(details: impl Into<String>) -> ApiError {
        ApiError::pgrst(
            400,
            "PGRST102",
            "Invalid request body",
            Some(details.into()),
            None,
        )
    }

    /// PGRST116.
    pub fn not_single(rows: i64) -> ApiError {
        ApiError::pgrst(
            406,
            "PGRST116",
            "JSON object requested, multiple (or no) rows returned",
            Some(format!("The result contains {rows} rows")),
            None,
        )
    }

    /// An unexpected failure: logged in full, answered without internals.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, context, "internal error in /rest/v1");
        ApiError::pgrst(500, "PGRSTX00", "Internal server error", None, None)
    }

    /// Maps a database error. `anonymous` selects 401 over 403 for 42501.
    pub fn from_sqlx(error: sqlx::Error, anonymous: bool) -> ApiError {
        match error {
            sqlx::Error::Database(db) => {
                let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let status = status_for_sqlstate(&code, anonymous);
                if status >= 500 {
                    tracing::error!(code = %code, message = %db.message(), detail = ?pg.and_then(|p| p.detail()), "database error in /rest/v1");
                }
                ApiError {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    code,
                    message: db.message().to_owned(),
                    details: pg.and_then(|p| p.detail()).map(str::to_owned),
                    hint: pg.and_then(|p| p.hint()).map(str::to_owned),
                }
            }
            sqlx::Error::PoolTimedOut => {
                tracing::error!("database pool timed out in /rest/v1");
                ApiError::pgrst(
                    504,
                    "PGRST003",
                    "Timed out acquiring connection from connection pool.",
                    None,
                    None,
                )
            }
            other => {
                tracing::error!(error = %other, "database connection error in /rest/v1");
                ApiError::pgrst(
                    503,
                    "PGRST001",
                    "Database client error. Retrying the connection.",
                    None,
                    None,
                )
            }
        }
    }

    /// A caller whose token could not be verified (PGRST301/302/303, PostgREST's messages).
    pub fn from_caller(error: CallerError) -> ApiError {
        let (code, message) = match error {
            CallerError::NoApiKey => ("PGRST302", "Anonymous access is disabled".to_owned()),
            CallerError::Jwt(JwtError::Expired) => ("PGRST303", "JWT expired".to_owned()),
            CallerError::Jwt(JwtError::BadSignature) => {
                ("PGRST301", "JWT cryptographic operation failed".to_owned())
            }
            CallerError::Jwt(JwtError::Malformed(n)) => {
                ("PGRST301", format!("Expected 3 parts in JWT; got {n}"))
            }
            CallerError::Jwt(JwtError::Invalid(kind)) => {
                if kind.contains("Algorithm") {
                    (
                        "PGRST301",
                        "Wrong or unsupported encoding algorithm".to_owned(),
                    )
                } else {
                    ("PGRST301", "JWT couldn't be decoded".to_owned())
                }
            }
            CallerError::Role(role) => (
                "PGRST301",
                format!("The role \"{role}\" in the JWT is not allowed"),
            ),
        };
        ApiError::pgrst(401, code, message, None, None)
    }
}

/// PostgREST's SQLSTATE → HTTP status table.
pub fn status_for_sqlstate(code: &str, anonymous: bool) -> u16 {
    if let Some(status) = code.strip_prefix("PT").and_then(|s| s.parse::<u16>().ok()) {
        if (100..600).contains(&status) {
            return status;
        }
    }
    match code {
        "23503" | "23505" => return 409,
        "25006" => return 405,
        "42883" | "42P01" => return 404,
        "42P17" => return 500,
        "42501" => return if anonymous { 401 } else { 403 },
        "P0001" => return 400,
        "53400" => return 500,
        _ => {}
    }
    match code.get(..2).unwrap_or_default() {
        "08" | "53" => 503,
        "09" | "25" | "2D" | "38" | "39" | "3B" | "40" | "54" | "55" | "57" | "58" | "F0"
        | "HV" | "P0" | "XX" => 500,
        "0L" | "0P" | "28" => 403,
        _ => 400,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "details": self.details,
            "hint": self.hint,
            "message": self.message,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            // PostgREST: `Bearer` on every 401, with the reason for a refused token.
            let value = if self.code.starts_with("PGRST30") {
                format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    self.message.replace('"', "'")
                )
            } else {
                "Bearer".to_owned()
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::status_for_sqlstate;

    #[test]
    fn sqlstates_map_like_postgrest() {
        assert_eq!(status_for_sqlstate("42501", true), 401);
        assert_eq!(status_for_sqlstate("42501", false), 403);
        assert_eq!(status_for_sqlstate("23505", false), 409);
        assert_eq!(status_for_sqlstate("23514", false), 400);
        assert_eq!(status_for_sqlstate("22P02", false), 400);
        assert_eq!(status_for_sqlstate("PT404", false), 404);
        assert_eq!(status_for_sqlstate("25006", false), 405);
        assert_eq!(status_for_sqlstate("42P17", false), 500);
        assert_eq!(status_for_sqlstate("57014", false), 500);
    }
}
