//! JWTs as Supabase issues and checks them: HS256 with the project's secret.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The claims localbase reads. Anything else in the token is kept in `extra` and passed to
/// PostgreSQL untouched in `request.jwt.claims`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The PostgreSQL role the request runs as (`anon`, `authenticated`, `service_role`).
    pub role: String,
    /// The subject: the user's id in tokens Auth issues; absent in the API keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry, in seconds since the Unix epoch; [`verify`] refuses a token past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Every other claim (`aud`, `email`, `app_metadata`, `aal`…), as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl Claims {
    /// The claims PostgREST uses when a request carries no JWT.
    pub fn anon() -> Self {
        Claims {
            role: "anon".to_owned(),
            sub: None,
            exp: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The whole claims object, as set in `request.jwt.claims`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({ "role": self.role }))
    }
}

/// Why a token was refused. PostgREST answers these with 401 and codes PGRST301–303.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// `exp` is in the past (PGRST303).
    #[error("JWT expired")]
    Expired,
    /// The signature does not match the secret, or the algorithm is not HS256 (PGRST301).
    #[error("JWT cryptographic operation failed")]
    BadSignature,
    /// Not three dot-separated parts; the number of parts found (PGRST301).
    #[error("Expected 3 parts in JWT; got {0}")]
    Malformed(usize),
    /// Any other decoding failure, with `jsonwebtoken`'s error kind (PGRST301).
    #[error("JWT is invalid: {0}")]
    Invalid(String),
}

/// Verifies an HS256 token (any other algorithm, `none` included, is refused) and its `exp`.
pub fn verify(token: &str, secret: &str) -> Result<Claims, JwtError> {
    let parts = token.split('.').count();
    if parts != 3 {
        return Err(JwtError::Malformed(parts));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => JwtError::Expired,
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => JwtError::BadSignature,
            other => JwtError::Invalid(format!("{other:?}")),
        }
    })?;
    Ok(data.claims)
}

/// Signs claims with HS256.
pub fn sign(claims: &Value, secret: &str) -> anyhow::Result<String> {
    Ok(encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_ANON_KEY, DEFAULT_JWT_SECRET, DEFAULT_SERVICE_ROLE_KEY};

    #[test]
    fn the_cli_keys_verify_with_the_cli_secret() {
        assert_eq!(
            verify(DEFAULT_ANON_KEY, DEFAULT_JWT_SECRET).map(|c| c.role),
            Ok("anon".to_owned())
        );
        assert_eq!(
            verify(DEFAULT_SERVICE_ROLE_KEY, DEFAULT_JWT_SECRET).map(|c| c.role),
            Ok("service_role".to_owned())
        );
    }

    #[test]
    fn alg_none_and_wrong_secrets_are_refused() {
        // {"alg":"none","typ":"JWT"}.{"role":"service_role"}.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.";
        assert!(verify(none, DEFAULT_JWT_SECRET).is_err());
        assert_eq!(
            verify(DEFAULT_ANON_KEY, "another-secret-another-secret-another"),
            Err(JwtError::BadSignature)
        );
        assert_eq!(
            verify("abc", DEFAULT_JWT_SECRET),
            Err(JwtError::Malformed(1))
        );
    }

    #[test]
    fn expired_tokens_are_refused() {
        let token = sign(
            &serde_json::json!({"role": "authenticated", "exp": 1_000}),
            DEFAULT_JWT_SECRET,
        )
        .expect("signing works");
        assert_eq!(verify(&token, DEFAULT_JWT_SECRET), Err(JwtError::Expired));
    }
}
