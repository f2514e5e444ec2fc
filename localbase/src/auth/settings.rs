//! Auth settings (the `[auth]` part of `supabase/config.toml`) and the endpoints that describe
//! the server: `/settings`, `/health`, `/authorize`.

use super::error::AuthError;
use super::ratelimit::RateLimiter;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Requests allowed per client IP in each fixed window (`[auth.rate_limit]` and GoTrue's
/// `GOTRUE_RATE_LIMIT_*` / `GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY`), and per account (an
/// email address, known or not, or a user id) so that spreading guesses over many IPs does not
/// help either. Every value can be set from the environment as
/// `LOCALBASE_AUTH_RATE_LIMIT_<FIELD>` (upper case, e.g. `LOCALBASE_AUTH_RATE_LIMIT_TOKEN_REFRESH=5`).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Sign-ups, `/recover`, `/otp`, `/magiclink` and `PUT /user`, each counted on its own, per
    /// `sign_in_window_secs` (CLI: 30 per 5 minutes).
    pub sign_in_sign_ups: u32,
    /// The window of `sign_in_sign_ups` and `sign_in_per_account`, in seconds (CLI: 300).
    pub sign_in_window_secs: u64,
    /// `POST /token`, password and refresh-token grants together, per
    /// `token_refresh_window_secs` (CLI: 150 per 5 minutes).
    pub token_refresh: u32,
    /// The window of `token_refresh`, in seconds (CLI: 300).
    pub token_refresh_window_secs: u64,
    /// `/verify` per window (CLI: 30 per 5 minutes).
    pub token_verifications: u32,
    /// The window of `token_verifications` and `token_verifications_per_account`, in seconds
    /// (CLI: 300).
    pub token_verifications_window_secs: u64,
    /// MFA challenges, and MFA verifications, each per window (GoTrue: 15 per minute).
    pub mfa_challenge_and_verify: u32,
    /// The window of `mfa_challenge_and_verify`, in seconds (GoTrue: 60).
    pub mfa_challenge_and_verify_window_secs: u64,
    /// Mails (`/recover`, `/otp`, `/magiclink`) per `email_window_secs` (CLI: 2 per hour).
    pub email_sent: u32,
    /// The window of `email_sent`, in seconds (CLI: 3600).
    pub email_window_secs: u64,
    /// Password sign-ins per email address per `sign_in_window_secs`, whichever IPs they come
    /// from (counted for unknown addresses too, so the answer never tells which exist).
    pub sign_in_per_account: u32,
    /// Code verifications (`/verify` with an email, MFA verify) per address or user per
    /// `token_verifications_window_secs`.
    pub token_verifications_per_account: u32,
    /// `[auth.email] max_frequency`: seconds before another mail goes to the same address
    /// (CLI: 1 s).
    pub email_max_frequency_secs: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            sign_in_sign_ups: 30,
            sign_in_window_secs: 300,
            token_refresh: 150,
            token_refresh_window_secs: 300,
            token_verifications: 30,
            token_verifications_window_secs: 300,
            mfa_challenge_and_verify: 15,
            mfa_challenge_and_verify_window_secs: 60,
            email_sent: 2,
            email_window_secs: 3600,
            sign_in_per_account: 30,
            token_verifications_per_account: 30,
            email_max_frequency_secs: 1,
        }
    }
}

impl RateLimits {
    /// The defaults, each overridden by `LOCALBASE_AUTH_RATE_LIMIT_<FIELD>` when that is set to
    /// a number (anything else is logged and ignored).
    pub fn from_env() -> Self {
        Self::default().with_overrides(|name| std::env::var(name).ok())
    }

    /// The limits with every field that `lookup` gives a number for replaced.
    pub fn with_overrides(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        fn set<T: std::str::FromStr>(
            field: &mut T,
            name: &str,
            lookup: &dyn Fn(&str) -> Option<String>,
        ) {
            let var = format!("LOCALBASE_AUTH_RATE_LIMIT_{}", name.to_uppercase());
            if let Some(value) = lookup(&var) {
                match value.trim().parse() {
                    Ok(parsed) => *field = parsed,
                    Err(_) => tracing::warn!(%var, %value, "auth: not a number, the default stays"),
                }
            }
        }
        let l = &lookup;
        set(&mut self.sign_in_sign_ups, "sign_in_sign_ups", l);
        set(&mut self.sign_in_window_secs, "sign_in_window_secs", l);
        set(&mut self.token_refresh, "token_refresh", l);
        set(
            &mut self.token_refresh_window_secs,
            "token_refresh_window_secs",
            l,
        );
        set(&mut self.token_verifications, "token_verifications", l);
        set(
            &mut self.token_verifications_window_secs,
            "token_verifications_window_secs",
            l,
        );
        set(
            &mut self.mfa_challenge_and_verify,
            "mfa_challenge_and_verify",
            l,
        );
        set(
            &mut self.mfa_challenge_and_verify_window_secs,
            "mfa_challenge_and_verify_window_secs",
            l,
        );
        set(&mut self.email_sent, "email_sent", l);
        set(&mut self.email_window_secs, "email_window_secs", l);
        set(&mut self.sign_in_per_account, "sign_in_per_account", l);
        set(
            &mut self.token_verifications_per_account,
            "token_verifications_per_account",
            l,
        );
        set(
            &mut self.email_max_frequency_secs,
            "email_max_frequency_secs",
            l,
        );
        self
    }
}

/// GoTrue's settings, with the values `supabase/config.toml` gives them.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `minimum_password_length`.
    pub minimum_password_length: usize,
    /// `refresh_token_reuse_interval`: a rotated refresh token presented again within this many
    /// seconds is tolerated; later it revokes the whole session.
    pub refresh_token_reuse_interval_secs: i64,
    /// How long a mailed link or code stays valid (`[auth.email] otp_expiry`).
    pub otp_expiry_secs: i64,
    /// How long an MFA challenge stays valid (GoTrue: 300 s).
    pub mfa_challenge_expiry_secs: i64,
    /// `additional_redirect_urls`: where `redirect_to` may point besides the site itself
    /// (exact, prefix or `*` glob match).
    pub additional_redirect_urls: Vec<String>,
    /// `enable_signup = false` turns `/signup` off.
    pub disable_signup: bool,
    /// Request limits per IP and per account (from the environment, see [`RateLimits`]).
    pub rate_limits: RateLimits,
    /// The counters behind `rate_limits`, in memory, shared by every clone of this config.
    pub limiter: RateLimiter,
    /// Serve `GET /auth/v1/mailbox` (the local mail catcher's listing).
    pub mailbox_enabled: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            minimum_password_length: 8,
            refresh_token_reuse_interval_secs: 10,
            otp_expiry_secs: 3600,
            mfa_challenge_expiry_secs: 300,
            additional_redirect_urls: vec![
                "http://127.0.0.1:54321/auth/reset-password".to_owned(),
                "http://localhost:8080".to_owned(),
            ],
            disable_signup: false,
            rate_limits: RateLimits::from_env(),
            limiter: RateLimiter::default(),
            mailbox_enabled: true,
        }
    }
}

/// The OAuth providers GoTrue knows; none is enabled locally.
const KNOWN_PROVIDERS: &[&str] = &[
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "kakao",
    "linkedin",
    "linkedin_oidc",
    "notion",
    "spotify",
    "slack",
    "slack_oidc",
    "twitch",
    "twitter",
    "workos",
    "zoom",
];

/// `GET /settings`.
pub(super) async fn settings(State(state): State<AppState>) -> Json<Value> {
    let mut external = serde_json::Map::new();
    for provider in KNOWN_PROVIDERS {
        external.insert((*provider).to_owned(), Value::Bool(false));
    }
    external.insert("anonymous_users".to_owned(), Value::Bool(false));
    external.insert("email".to_owned(), Value::Bool(true));
    external.insert("phone".to_owned(), Value::Bool(false));
    external.insert("saml".to_owned(), Value::Bool(false));
    external.insert("web3_solana".to_owned(), Value::Bool(false));
    Json(json!({
        "external": external,
        "disable_signup": state.config.auth.disable_signup,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
    }))
}

/// `GET /health`.
pub(super) async fn health() -> Json<Value> {
    Json(json!({
        "version": concat!("localbase-", env!("CARGO_PKG_VERSION")),
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
}

/// `GET /authorize?provider=…`: no external provider is enabled locally, so this always fails
/// the way GoTrue fails for a disabled or unknown provider.
pub(super) async fn authorize(Query(query): Query<HashMap<String, String>>) -> AuthError {
    let provider = query
        .get("provider")
        .map(|p| p.to_ascii_lowercase())
        .unwrap_or_default();
    let reason = if KNOWN_PROVIDERS.contains(&provider.as_str()) {
        "provider is not enabled".to_owned()
    } else {
        format!("Provider {provider} could not be found")
    };
    AuthError::bad_request(
        "validation_failed",
        format!("Unsupported provider: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_come_from_the_environment_when_set() {
        let limits = RateLimits::default().with_overrides(|name| match name {
            "LOCALBASE_AUTH_RATE_LIMIT_TOKEN_REFRESH" => Some("5".to_owned()),
            "LOCALBASE_AUTH_RATE_LIMIT_EMAIL_WINDOW_SECS" => Some(" 60 ".to_owned()),
            "LOCALBASE_AUTH_RATE_LIMIT_EMAIL_SENT" => Some("many".to_owned()),
            _ => None,
        });
        assert_eq!(limits.token_refresh, 5);
        assert_eq!(limits.email_window_secs, 60);
        assert_eq!(limits.email_sent, 2, "a non-number keeps the default");
        assert_eq!(limits.sign_in_sign_ups, 30);
    }
}
