//! Password strength, as GoTrue's `checkPasswordStrength` judges it: at most 72 bytes (bcrypt's
//! limit, a 400), at least `password_min_length` bytes (`public.system_settings`, else the
//! configured minimum), and not a password known to be leaked (GoTrue asks HaveIBeenPwned;
//! localbase has no network, so it refuses a compact list of the most common passwords and the
//! shapes they take: one repeated character, a straight run like `abcdefgh` or `87654321`).
//! A refusal is GoTrue's 422 `weak_password` with `weak_password.reasons`.

use super::error::AuthError;
use crate::AppState;
use serde_json::Value;

/// bcrypt reads no further than this many bytes.
pub(super) const MAX_PASSWORD_LENGTH: usize = 72;
/// GoTrue never lets the minimum go below 6.
const LOWEST_MINIMUM: usize = 6;

/// The most common leaked passwords (lower case), from the public top-password lists.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password!",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pa$$word",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "11111111",
    "00000000",
    "87654321",
    "12341234",
    "11223344",
    "123123123",
    "qwerty12",
    "qwerty123",
    "qwerty1234",
    "qwertyui",
    "qwertyuiop",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "asdfghjk",
    "asdfghjkl",
    "zxcvbnm1",
    "iloveyou",
    "iloveyou1",
    "admin123",
    "admin1234",
    "administrator",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "sunshine",
    "sunshine1",
    "princess",
    "princess1",
    "football",
    "football1",
    "baseball",
    "superman",
    "starwars",
    "trustno1",
    "dragon123",
    "monkey123",
    "master123",
    "abc12345",
    "abcd1234",
    "aa123456",
    "changeme",
    "changeme1",
    "secret123",
    "computer",
    "whatever",
    "michelle",
    "jennifer",
    "shadow123",
    "freedom1",
    "ninja123",
    "azerty123",
    "default1",
    "login123",
    "test1234",
    "testtest",
    "hello123",
    "qazwsxedc",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "987654321",
    "654321abc",
    "password2",
    "passwort",
    "motdepasse",
];

/// The minimum length: `password_min_length` from `public.system_settings` (a JSON number or a
/// numeric string), else `fallback`; never below GoTrue's floor of 6 nor above 72.
pub(super) async fn min_length(state: &AppState) -> usize {
    let fallback = state.config.auth.minimum_password_length;
    // Its own statement on the pool: a database without the table must not abort a caller's
    // transaction.
    let row: Result<Option<(Value,)>, sqlx::Error> = sqlx::query_as(
        "select value from public.system_settings where key = 'password_min_length'",
    )
    .fetch_optional(&state.db)
    .await;
    let configured = match row {
        Ok(Some((value,))) => match value {
            Value::Number(n) => n.as_u64().map(|n| n as usize),
            Value::String(s) => s.trim().parse::<usize>().ok(),
            _ => None,
        },
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(error = %e, "auth: password_min_length not readable, using the default");
            None
        }
    };
    configured
        .unwrap_or(fallback)
        .clamp(LOWEST_MINIMUM, MAX_PASSWORD_LENGTH)
}

/// True when the password is one of the most common ones or has their shape.
pub(super) fn looks_leaked(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    let Some(first) = chars.first() else {
        return false;
    };
    if chars.iter().all(|c| c == first) {
        return true;
    }
    // A straight run of letters or digits, up or down: abcdefgh, 12345678, 98765432.
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])))
        .collect();
    let alphanumeric = chars.iter().all(char::is_ascii_alphanumeric);
    let same_kind =
        chars.iter().all(char::is_ascii_digit) || chars.iter().all(char::is_ascii_alphabetic);
    alphanumeric
        && same_kind
        && !steps.is_empty()
        && (steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1))
}

/// GoTrue's verdict on a new password with a given minimum length.
pub(super) fn judge(password: &str, minimum: usize) -> Result<(), AuthError> {
    // Go's len(): bytes.
    if password.len() > MAX_PASSWORD_LENGTH {
        return Err(AuthError::bad_request(
            "validation_failed",
            format!("Password cannot be longer than {MAX_PASSWORD_LENGTH} characters"),
        ));
    }
    let mut reasons = Vec::new();
    let mut messages = Vec::new();
    if password.len() < minimum {
        reasons.push("length");
        messages.push(format!("Password should be at least {minimum} characters."));
    }
    if looks_leaked(password) {
        reasons.push("pwned");
        messages.push(
            "Password is known to be weak and easy to guess, please choose a different one."
                .to_owned(),
        );
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(AuthError::weak_password(reasons, messages.join(" ")))
    }
}

/// Checks a new password (sign-up, `PUT /user`, the recovery flow's new password, admin
/// create/update) against the current settings.
pub(super) async fn check_strength(state: &AppState, password: &str) -> Result<(), AuthError> {
    judge(password, min_length(state).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_and_their_shapes_are_refused() {
        for weak in [
            "password",
            "PASSWORD1",
            "Password123",
            "12345678",
            "123456789",
            "qwerty123",
            "iloveyou",
            "Admin123",
            "welcome1",
            "LetMeIn1",
            "aaaaaaaa",
            "zzzzzzzzzzzz",
            "abcdefgh",
            "ABCDEFGHIJ",
            "87654321",
            "hgfedcba",
            "!!!!!!!!",
        ] {
            assert!(looks_leaked(weak), "{weak} should look leaked");
        }
        for fine in [
            "Alice-pass-123",
            "Bob-pass-123",
            "Admin-pass-123",
            "Fresh-pass-123",
            "Remembered-456",
            "Two-steps-789",
            "whatever-123",
            "correct horse battery",
            "abcd1234x",
            "a1b2c3d4e5",
        ] {
            assert!(!looks_leaked(fine), "{fine} should pass");
        }
    }

    #[test]
    fn reasons_and_messages_follow_gotrue() {
        let err = judge("short", 8).expect_err("too short");
        assert_eq!(err.status.as_u16(), 422);
        assert_eq!(err.error_code, "weak_password");
        assert_eq!(err.reasons, Some(vec!["length"]));
        assert_eq!(err.msg, "Password should be at least 8 characters.");

        let err = judge("aaaa", 8).expect_err("short and repeated");
        assert_eq!(err.reasons, Some(vec!["length", "pwned"]));
        assert_eq!(
            err.msg,
            "Password should be at least 8 characters. Password is known to be weak and easy to guess, please choose a different one."
        );

        let err = judge(&"x-".repeat(37), 8).expect_err("too long");
        assert_eq!(err.status.as_u16(), 400);
        assert_eq!(err.error_code, "validation_failed");
        assert!(judge("Alice-pass-123", 8).is_ok());
        // Bytes, as Go counts: seven two-byte characters and an x are 15 bytes.
        assert!(judge("éééééééx", 15).is_ok());
        assert!(judge("éééééééx", 16).is_err());
    }
}
