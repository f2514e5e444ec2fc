//! The Supabase Auth session: its JSON shape, where it is kept (localStorage key
//! `taskdeck.session`), and the pure rules of when to refresh it.

use gloo::storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::api::decode::{self, FromJson, Missing, Object};

/// The localStorage key of the session.
pub const STORAGE_KEY: &str = "taskdeck.session";

/// Refresh this many seconds before the access token expires.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// A signed-in user's tokens, as `/token` and `/verify` return them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The JWT sent as `Authorization: Bearer`.
    pub access_token: String,
    /// Spent on refresh (rotation): each refresh returns a new one.
    pub refresh_token: String,
    /// Unix seconds when the access token expires.
    pub expires_at: i64,
    /// Who is signed in.
    pub user: AuthUser,
}

/// `/auth/v1/user`, trimmed to what the SPA uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthUser {
    /// The user id (`profiles.id`).
    pub id: Uuid,
    /// The sign-in address.
    #[serde(default)]
    pub email: Option<String>,
    /// What the user chose at sign-up (`name`).
    #[serde(default)]
    pub user_metadata: Value,
    /// What only the service key writes (`role`).
    #[serde(default)]
    pub app_metadata: Value,
    /// MFA factors.
    #[serde(default)]
    pub factors: Option<Vec<Factor>>,
}

/// An MFA factor of the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Its id.
    pub id: String,
    /// `totp`.
    #[serde(default)]
    pub factor_type: String,
    /// `verified` or `unverified`.
    #[serde(default)]
    pub status: String,
    /// A name the user chose.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// When it was enrolled (RFC 3339, as Auth writes it).
    #[serde(default)]
    pub created_at: Option<String>,
}

impl Factor {
    /// A TOTP factor that has been verified once (so it guards sign-in).
    pub fn is_verified_totp(&self) -> bool {
        self.factor_type == "totp" && self.status == "verified"
    }
}

impl AuthUser {
    /// The first verified TOTP factor, if any.
    pub fn verified_totp(&self) -> Option<&Factor> {
        self.factors.iter().flatten().find(|f| f.is_verified_totp())
    }

    /// Whether any factor is verified (whatever its type): then sessions must reach `aal2`.
    pub fn has_verified_factor(&self) -> bool {
        self.factors
            .iter()
            .flatten()
            .any(|f| f.status == "verified")
    }
}

/// An authenticator assurance level: `aal1` after a password or a mailed link, `aal2`
/// after a second factor's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aal {
    /// One factor.
    Aal1,
    /// Two factors.
    Aal2,
}

impl Aal {
    /// `aal1` / `aal2`, as the JWT's `aal` claim writes them.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "aal1" => Some(Self::Aal1),
            "aal2" => Some(Self::Aal2),
            _ => None,
        }
    }
}

/// Where a session stands, as supabase-js' `mfa.getAuthenticatorAssuranceLevel()` says:
/// the level it has (`currentLevel`, the JWT's `aal` claim) and the level the user can
/// reach (`nextLevel`: `aal2` once the user has a verified factor, else the current one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assurance {
    /// The JWT's `aal` (`None`: a token without the claim, treated as below `aal2`).
    pub current: Option<Aal>,
    /// What the user's factors allow.
    pub next: Option<Aal>,
}

impl Assurance {
    /// A session whose user has a verified factor but that has not used it yet: it is
    /// not signed in (the database shows it nothing); the code step comes first.
    pub fn needs_code(self) -> bool {
        self.next == Some(Aal::Aal2) && self.current != Some(Aal::Aal2)
    }
}

/// The assurance of `access_token` held by `user` (the user as `/auth/v1/user` returned
/// it, with its factors). The one place this is decided.
pub fn assurance(access_token: &str, user: &AuthUser) -> Assurance {
    let current = token_aal(access_token).as_deref().and_then(Aal::parse);
    let next = if user.has_verified_factor() {
        Some(Aal::Aal2)
    } else {
        current
    };
    Assurance { current, next }
}

impl Session {
    /// [`assurance`] of this session.
    pub fn assurance(&self) -> Assurance {
        assurance(&self.access_token, &self.user)
    }

    /// `true` while the two-step code is still to be entered.
    pub fn needs_code(&self) -> bool {
        self.assurance().needs_code()
    }

    /// `true` when the token is `aal2` already: nothing more to learn from the user's
    /// factors.
    pub fn is_aal2(&self) -> bool {
        self.assurance().current == Some(Aal::Aal2)
    }
}

/// The session JSON of GoTrue: `expires_at` may be missing, `expires_in` is always there.
#[derive(Debug, Deserialize)]
pub struct SessionResponse {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    user: Option<AuthUser>,
}

impl SessionResponse {
    /// The access token of the answer.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The user of the answer, if it had one.
    pub fn user(&self) -> Option<&AuthUser> {
        self.user.as_ref()
    }

    /// The session held by `user`, with `expires_at` computed from `expires_in` when
    /// absent.
    pub fn into_session(self, now: i64, user: AuthUser) -> Session {
        let expires_at = self
            .expires_at
            .unwrap_or_else(|| now + self.expires_in.unwrap_or(3600));
        Session {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at,
            user,
        }
    }
}

impl FromJson for Session {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Session {
            access_token: decode::text(row, "access_token")?,
            refresh_token: decode::text(row, "refresh_token")?,
            expires_at: decode::int(row, "expires_at")?,
            user: AuthUser::from_json(decode::object(row, "user")?)?,
        })
    }
}

impl FromJson for AuthUser {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        let factors = match decode::opt_json(row, "factors") {
            None => None,
            Some(list) => Some(decode::many::<Factor>(&list).map_err(|_| "factors".to_owned())?),
        };
        Ok(AuthUser {
            id: decode::uuid(row, "id")?,
            email: decode::opt_text(row, "email"),
            user_metadata: decode::opt_json(row, "user_metadata").unwrap_or_default(),
            app_metadata: decode::opt_json(row, "app_metadata").unwrap_or_default(),
            factors,
        })
    }
}

impl FromJson for Factor {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Factor {
            id: decode::text(row, "id")?,
            factor_type: decode::opt_text(row, "factor_type").unwrap_or_default(),
            status: decode::opt_text(row, "status").unwrap_or_default(),
            friendly_name: decode::opt_text(row, "friendly_name"),
            created_at: decode::opt_text(row, "created_at"),
        })
    }
}

impl FromJson for SessionResponse {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(SessionResponse {
            access_token: decode::text(row, "access_token")?,
            refresh_token: decode::text(row, "refresh_token")?,
            expires_in: decode::opt_int(row, "expires_in"),
            expires_at: decode::opt_int(row, "expires_at"),
            user: match decode::object(row, "user") {
                Ok(user) => Some(AuthUser::from_json(user)?),
                Err(_) => None,
            },
        })
    }
}

/// What to do about the session before a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The token is good for a while yet.
    Keep,
    /// It expires within the margin (or has expired): refresh first.
    RefreshNow,
}

/// Refresh when fewer than [`REFRESH_MARGIN_SECS`] seconds are left.
pub fn refresh_decision(expires_at: i64, now: i64) -> RefreshDecision {
    if expires_at - now <= REFRESH_MARGIN_SECS {
        RefreshDecision::RefreshNow
    } else {
        RefreshDecision::Keep
    }
}

/// Milliseconds to wait before refreshing in the background (at least one second, at
/// most a day so the timer fits in an i32).
pub fn refresh_delay_ms(expires_at: i64, now: i64) -> u32 {
    let secs = (expires_at - now - REFRESH_MARGIN_SECS).clamp(1, 86_400);
    u32::try_from(secs * 1000).unwrap_or(86_400_000)
}

/// Whether a failed request should be retried once after a refresh: only on 401, only
/// the first time, and only when a session (and so a refresh token) exists.
pub fn retry_after_refresh(status: u16, already_retried: bool, has_session: bool) -> bool {
    status == 401 && !already_retried && has_session
}

/// Unix seconds now, from the browser's clock.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The claims of a JWT, without checking the signature (the server does that).
pub fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    decode::parse(std::str::from_utf8(&bytes).ok()?).ok()
}

/// The `aal` claim of a JWT (`aal1`, `aal2`).
pub fn token_aal(token: &str) -> Option<String> {
    jwt_claims(token)?
        .get("aal")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Decodes base64url without padding (also accepts standard base64 and padding).
pub fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for c in input.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The stored session, if any and readable.
pub fn load() -> Option<Session> {
    let stored = LocalStorage::raw().get_item(STORAGE_KEY).ok()??;
    decode::one(&decode::parse(&stored).ok()?).ok()
}

/// Stores the session, or removes it.
pub fn store(session: Option<&Session>) {
    match session {
        Some(session) => {
            // A full or disabled localStorage only costs staying signed in after a reload.
            let _ = LocalStorage::set(STORAGE_KEY, session);
        }
        None => LocalStorage::delete(STORAGE_KEY),
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn refreshes_within_the_margin() {
        let now = 1_000_000;
        assert_eq!(refresh_decision(now + 3600, now), RefreshDecision::Keep);
        assert_eq!(refresh_decision(now + 61, now), RefreshDecision::Keep);
        assert_eq!(refresh_decision(now + 60, now), RefreshDecision::RefreshNow);
        assert_eq!(refresh_decision(now - 5, now), RefreshDecision::RefreshNow);
    }

    #[wasm_bindgen_test]
    fn background_refresh_delay() {
        let now = 1_000_000;
        assert_eq!(refresh_delay_ms(now + 3600, now), 3_540_000);
        assert_eq!(refresh_delay_ms(now + 10, now), 1000);
        assert_eq!(refresh_delay_ms(now + 10_000_000, now), 86_400_000);
    }

    #[wasm_bindgen_test]
    fn retries_once_on_401_with_a_session() {
        assert!(retry_after_refresh(401, false, true));
        assert!(!retry_after_refresh(401, true, true));
        assert!(!retry_after_refresh(401, false, false));
        assert!(!retry_after_refresh(403, false, true));
    }

    #[wasm_bindgen_test]
    fn reads_aal_from_a_jwt() {
        // {"sub":"x","aal":"aal2"}
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMiJ9.sig";
        assert_eq!(token_aal(token).as_deref(), Some("aal2"));
        assert_eq!(token_aal("not a token"), None);
    }

    #[wasm_bindgen_test]
    fn session_from_gotrue_json() {
        let json = r#"{"access_token":"a","token_type":"bearer","expires_in":3600,"refresh_token":"r",
            "user":{"id":"22222222-2222-4222-8222-222222222222","email":"alice@taskdeck.dev",
            "factors":[{"id":"f1","factor_type":"totp","status":"verified","friendly_name":"phone"}]}}"#;
        let response: SessionResponse = serde_json::from_str(json).expect("parses");
        let user = response.user().cloned().expect("a user");
        let session = response.into_session(100, user);
        assert_eq!(session.expires_at, 3700);
        assert_eq!(
            session.user.verified_totp().map(|f| f.id.as_str()),
            Some("f1")
        );
    }

    #[wasm_bindgen_test]
    fn a_token_answer_without_its_user_is_read() {
        let json = decode::parse(r#"{"access_token":"a","refresh_token":"r","expires_in":60}"#)
            .expect("json");
        let response: SessionResponse = decode::one(&json).expect("reads");
        assert_eq!(response.user(), None);
        assert_eq!(response.access_token(), "a");
    }

    // {"sub":"x","aal":"aal1"}, {"sub":"x","aal":"aal2"}, {"sub":"x"}
    const AAL1: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMSJ9.sig";
    const AAL2: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMiJ9.sig";
    const NO_AAL: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig";

    fn user_with(factors: Option<Vec<(&str, &str)>>) -> AuthUser {
        AuthUser {
            id: Uuid::nil(),
            email: Some("mia@example.com".into()),
            user_metadata: Value::Null,
            app_metadata: Value::Null,
            factors: factors.map(|list| {
                list.into_iter()
                    .map(|(kind, status)| Factor {
                        id: format!("{kind}-{status}"),
                        factor_type: kind.into(),
                        status: status.into(),
                        friendly_name: None,
                        created_at: None,
                    })
                    .collect()
            }),
        }
    }

    #[wasm_bindgen_test]
    fn assurance_of_every_token_and_factor_combination() {
        let none = user_with(None);
        let empty = user_with(Some(vec![]));
        let unverified = user_with(Some(vec![("totp", "unverified")]));
        let verified = user_with(Some(vec![("totp", "unverified"), ("totp", "verified")]));
        let (a1, a2) = (Some(Aal::Aal1), Some(Aal::Aal2));
        let cases = [
            (AAL1, &none, a1, a1, false),
            (AAL1, &empty, a1, a1, false),
            (AAL1, &unverified, a1, a1, false),
            (AAL1, &verified, a1, a2, true),
            (AAL2, &none, a2, a2, false),
            (AAL2, &unverified, a2, a2, false),
            (AAL2, &verified, a2, a2, false),
            // A token without the claim is not `aal2`: with a verified factor, code first.
            (NO_AAL, &none, None, None, false),
            (NO_AAL, &verified, None, a2, true),
        ];
        for (token, user, current, next, needs_code) in cases {
            let found = assurance(token, user);
            assert_eq!(
                found,
                Assurance { current, next },
                "{token} {:?}",
                user.factors
            );
            assert_eq!(found.needs_code(), needs_code, "{token} {:?}", user.factors);
        }
        let session = Session {
            access_token: AAL1.into(),
            refresh_token: "r".into(),
            expires_at: 0,
            user: verified.clone(),
        };
        assert!(session.needs_code() && !session.is_aal2());
        let upgraded = Session {
            access_token: AAL2.into(),
            ..session
        };
        assert!(!upgraded.needs_code() && upgraded.is_aal2());
    }

    #[wasm_bindgen_test]
    fn any_verified_factor_counts_for_the_next_level() {
        let phone = user_with(Some(vec![("phone", "verified")]));
        assert!(phone.has_verified_factor());
        assert_eq!(phone.verified_totp(), None);
        assert!(assurance(AAL1, &phone).needs_code());
    }
}
