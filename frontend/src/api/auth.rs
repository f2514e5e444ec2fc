//! Supabase Auth (GoTrue) over the shared request layer. Only the anon key and the
//! user's own tokens are used: the JWT secret never reaches the browser (which is why
//! the `supabase-auth` crate, whose client wants it, is not used here).

use crate::i18n::{t, tf, Msg};
use serde::Deserialize;
use serde_json::json;

use crate::api::decode::{self, FromJson, Missing, Object};
use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::session::{now_secs, AuthUser, Session, SessionResponse};

/// Signs in with email and password (does not store the session). The session is `aal1`;
/// its user is read from `/auth/v1/user`, whose factors say whether the code is needed.
#[cfg(not(feature = "supabase-auth-client"))]
pub async fn sign_in(api: &Api, email: &str, password: &str) -> Result<Session, AppError> {
    let response: SessionResponse = api
        .row(
            ApiRequest::post(api.auth("token?grant_type=password"))
                .anonymous()
                .json(&json!({ "email": email.trim(), "password": password })),
        )
        .await?;
    api.settle(response, None).await
}

/// Signs in through the `supabase-auth` crate (size measurement only; no JWT secret).
#[cfg(feature = "supabase-auth-client")]
pub async fn sign_in(api: &Api, email: &str, password: &str) -> Result<Session, AppError> {
    let base = api.auth("").trim_end_matches("/auth/v1/").to_owned();
    let client = supabase_auth::models::AuthClient::new(base, api.anon_key(), "");
    let session = client
        .login_with_email(email.trim(), password)
        .await
        .map_err(|error| AppError::Auth(error.to_string()))?;
    let json = serde_json::to_value(&session).map_err(|e| AppError::Unexpected(e.to_string()))?;
    let response: SessionResponse =
        serde_json::from_value(json).map_err(|e| AppError::Unexpected(e.to_string()))?;
    api.settle(response, None).await
}

/// What sign-up gave.
#[derive(Debug, Clone, PartialEq)]
pub enum SignUp {
    /// Signed in straight away (confirmations off).
    SignedIn(Session),
    /// A confirmation mail was sent.
    ConfirmEmail,
}

/// Creates an account with `data: {name}`.
pub async fn sign_up(
    api: &Api,
    email: &str,
    password: &str,
    name: &str,
) -> Result<SignUp, AppError> {
    let response = api
        .send(
            ApiRequest::post(api.auth("signup"))
                .anonymous()
                .json(&json!({ "email": email.trim(), "password": password, "data": { "name": name.trim(), "language": crate::i18n::lang().code() } })),
        )
        .await?;
    match response.row::<SessionResponse>() {
        // A new account has no factor yet: its own user is all there is to know.
        Ok(answer) => match answer.user().cloned() {
            Some(user) => Ok(SignUp::SignedIn(answer.into_session(now_secs(), user))),
            None => Ok(SignUp::SignedIn(api.settle(answer, None).await?)),
        },
        Err(_) => Ok(SignUp::ConfirmEmail),
    }
}

/// Sends the password-recovery mail.
pub async fn recover(api: &Api, email: &str, redirect_to: &str) -> Result<(), AppError> {
    api.send(
        ApiRequest::post(api.auth(&format!(
            "recover?redirect_to={}",
            crate::api::query::encode(redirect_to)
        )))
        .anonymous()
        .json(&json!({ "email": email.trim() })),
    )
    .await?;
    Ok(())
}

/// The signed-in user, with factors.
pub async fn user(api: &Api) -> Result<AuthUser, AppError> {
    api.row(ApiRequest::get(api.auth("user"))).await
}

/// The session of the tokens in a link's fragment (recovery, magic link, OAuth), with
/// its user read from `/auth/v1/user`.
pub async fn session_from_fragment(
    api: &Api,
    tokens: &FragmentTokens,
) -> Result<Session, AppError> {
    let user = api.user_of(&tokens.access_token).await?;
    Ok(Session {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
        expires_at: now_secs() + tokens.expires_in.unwrap_or(3600),
        user,
    })
}

/// Keeps the signed-in user's language in their Auth metadata (`user_metadata.language`):
/// the mails Auth sends (password recovery, magic links) are written in it.
pub async fn set_language(api: &Api, code: &str) -> Result<AuthUser, AppError> {
    api.row(ApiRequest::put(api.auth("user")).json(&json!({ "data": { "language": code } })))
        .await
}

/// Changes the password of the signed-in user.
pub async fn update_password(api: &Api, password: &str) -> Result<AuthUser, AppError> {
    api.row(ApiRequest::put(api.auth("user")).json(&json!({ "password": password })))
        .await
}

/// Signs out: `local` (this device), `others` or `global`.
pub async fn logout(api: &Api, scope: &str) -> Result<(), AppError> {
    api.send(ApiRequest::post(api.auth(&format!("logout?scope={scope}"))))
        .await?;
    Ok(())
}

/// One of the user's sessions (`my_sessions()`, from `auth.sessions`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuthSession {
    /// The session id (the JWT's `session_id`).
    pub id: uuid::Uuid,
    /// When it started.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Last token refresh.
    #[serde(default)]
    pub refreshed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The browser that signed in.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Its address.
    #[serde(default)]
    pub ip: Option<String>,
    /// `aal1` or `aal2`.
    #[serde(default)]
    pub aal: Option<String>,
    /// The session of this browser.
    #[serde(default)]
    pub is_current: bool,
}

impl FromJson for AuthSession {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(AuthSession {
            id: decode::uuid(row, "id")?,
            created_at: decode::time(row, "created_at")?,
            updated_at: decode::opt_time(row, "updated_at")?,
            refreshed_at: decode::opt_time(row, "refreshed_at")?,
            user_agent: decode::opt_text(row, "user_agent"),
            ip: decode::opt_text(row, "ip"),
            aal: decode::opt_text(row, "aal"),
            is_current: decode::opt_json(row, "is_current")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        })
    }
}

impl AuthSession {
    /// When it was last used.
    pub fn last_active(&self) -> chrono::DateTime<chrono::Utc> {
        self.refreshed_at
            .or(self.updated_at)
            .unwrap_or(self.created_at)
    }
}

/// "Chrome on Linux" from a user agent (or "Unknown device").
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return t(Msg::DeviceUnknown).into();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => tf(Msg::DeviceOn, &[("browser", b), ("system", s)]),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => ua.chars().take(60).collect(),
    }
}

/// The signed-in user's sessions, most recently used first.
pub async fn my_sessions(api: &Api) -> Result<Vec<AuthSession>, AppError> {
    api.rows(ApiRequest::post(api.rest("rpc/my_sessions")).json(&json!({})))
        .await
}

/// Ends one of the user's sessions (its refresh token stops working).
pub async fn revoke_session(api: &Api, id: uuid::Uuid) -> Result<(), AppError> {
    api.send(
        ApiRequest::post(api.rest("rpc/revoke_my_session")).json(&json!({ "session_id": id })),
    )
    .await?;
    Ok(())
}

/// Where a social sign-in goes: follows the provider's redirect, or fails with Auth's
/// message (e.g. "provider is not enabled").
pub async fn social_sign_in_url(
    api: &Api,
    provider: &str,
    redirect_to: &str,
) -> Result<String, AppError> {
    let url = api.auth(&format!(
        "authorize?provider={}&redirect_to={}",
        crate::api::query::encode(provider),
        crate::api::query::encode(redirect_to)
    ));
    let response = api
        .send(ApiRequest::get(url.clone()).anonymous().manual_redirect())
        .await?;
    if response.redirected || (200..400).contains(&response.status) {
        Ok(url)
    } else {
        Err(AppError::from_response(response.status, &response.body))
    }
}

/// A TOTP factor being enrolled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Enrollment {
    /// The factor id.
    pub id: String,
    /// The QR code and secret.
    pub totp: TotpSecret,
}

/// What the authenticator app needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TotpSecret {
    /// An SVG data URI.
    pub qr_code: String,
    /// The secret, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    #[serde(default)]
    pub uri: String,
}

impl TotpSecret {
    /// The QR code as an `<img src>` a browser can load. Supabase Auth answers
    /// `data:image/svg+xml;utf-8,<svg …>` with the SVG unescaped, and a `#` in it (colours)
    /// would end the URL there: the SVG part is percent-encoded.
    pub fn qr_image_src(&self) -> String {
        match self.qr_code.split_once(',') {
            Some((head, svg))
                if head.starts_with("data:image/svg+xml") && !head.contains("base64") =>
            {
                format!(
                    "data:image/svg+xml;charset=utf-8,{}",
                    String::from(js_sys::encode_uri_component(svg))
                )
            }
            _ => self.qr_code.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Challenge {
    id: String,
}

impl FromJson for Challenge {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Challenge {
            id: decode::text(row, "id")?,
        })
    }
}

impl FromJson for Enrollment {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        let totp = decode::object(row, "totp")?;
        Ok(Enrollment {
            id: decode::text(row, "id")?,
            totp: TotpSecret {
                qr_code: decode::text(totp, "qr_code")?,
                secret: decode::text(totp, "secret")?,
                uri: decode::opt_text(totp, "uri").unwrap_or_default(),
            },
        })
    }
}

/// Starts enrolling a TOTP factor.
pub async fn enroll_totp(api: &Api, friendly_name: &str) -> Result<Enrollment, AppError> {
    api.row(ApiRequest::post(api.auth("factors")).json(&json!({
        "factor_type": "totp",
        "friendly_name": friendly_name,
        "issuer": "Taskdeck",
    })))
    .await
}

/// Challenges `factor_id` and verifies `code` with the stored session: the session at
/// `aal2` (not stored yet).
pub async fn challenge_and_verify(
    api: &Api,
    factor_id: &str,
    code: &str,
) -> Result<Session, AppError> {
    let challenge: Challenge = api
        .row(ApiRequest::post(
            api.auth(&format!("factors/{factor_id}/challenge")),
        ))
        .await?;
    let answer: SessionResponse = api
        .row(
            ApiRequest::post(api.auth(&format!("factors/{factor_id}/verify")))
                .json(&json!({ "challenge_id": challenge.id, "code": code.trim() })),
        )
        .await?;
    api.settle(answer, api.session().map(|s| s.user)).await
}

/// Removes a factor.
pub async fn unenroll(api: &Api, factor_id: &str) -> Result<(), AppError> {
    api.send(ApiRequest::delete(
        api.auth(&format!("factors/{factor_id}")),
    ))
    .await?;
    Ok(())
}

/// The tokens in a URL fragment: `#access_token=…&refresh_token=…&expires_in=…&type=recovery`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FragmentTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Seconds of validity.
    pub expires_in: Option<i64>,
    /// `recovery`, `signup`, `magiclink`…
    pub kind: Option<String>,
    /// `error_description` when the link failed.
    pub error: Option<String>,
}

/// Parses a URL fragment (with or without `#`).
pub fn parse_fragment(fragment: &str) -> Option<FragmentTokens> {
    let mut tokens = FragmentTokens::default();
    for pair in fragment.trim_start_matches('#').split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = js_sys::decode_uri_component(&value.replace('+', " "))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| value.to_owned());
        match key {
            "access_token" => tokens.access_token = value,
            "refresh_token" => tokens.refresh_token = value,
            "expires_in" => tokens.expires_in = value.parse().ok(),
            "type" => tokens.kind = Some(value),
            "error_description" => tokens.error = Some(value),
            _ => {}
        }
    }
    if tokens.access_token.is_empty() && tokens.error.is_none() {
        None
    } else {
        Some(tokens)
    }
}

#[cfg(test)]
mod tests {
    #[wasm_bindgen_test::wasm_bindgen_test]
    fn qr_codes_with_hashes_become_loadable_image_urls() {
        let secret = super::TotpSecret {
            qr_code: "data:image/svg+xml;utf-8,<svg fill=\"#000\"><rect/></svg>".into(),
            secret: "S".into(),
            uri: String::new(),
        };
        let src = secret.qr_image_src();
        assert!(
            src.starts_with("data:image/svg+xml;charset=utf-8,%3Csvg"),
            "{src}"
        );
        assert!(!src.contains('#'), "{src}");
        let plain = super::TotpSecret {
            qr_code: "data:image/png;base64,AAAA".into(),
            ..secret
        };
        assert_eq!(plain.qr_image_src(), "data:image/png;base64,AAAA");
    }

    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn devices_read_as_words() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(describe_device(Some(chrome)), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(Some(iphone)), "Safari on iOS");
        assert_eq!(describe_device(None), "Unknown device");
    }

    #[wasm_bindgen_test]
    fn reads_recovery_fragment() {
        let tokens = parse_fragment(
            "#access_token=abc&expires_in=3600&refresh_token=r1&token_type=bearer&type=recovery",
        )
        .expect("tokens");
        assert_eq!(tokens.access_token, "abc");
        assert_eq!(tokens.refresh_token, "r1");
        assert_eq!(tokens.expires_in, Some(3600));
        assert_eq!(tokens.kind.as_deref(), Some("recovery"));
        assert_eq!(parse_fragment(""), None);
        let failed = parse_fragment(
            "#error=access_denied&error_description=Email+link+is+invalid+or+has+expired",
        )
        .expect("error");
        assert_eq!(
            failed.error.as_deref(),
            Some("Email link is invalid or has expired")
        );
    }
}
