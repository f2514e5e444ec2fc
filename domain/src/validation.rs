//! Account fields: e-mail address, password strength, display name.
//!
//! These check what a form can check before calling Supabase Auth, which has the last
//! word (it may, for instance, be configured with a stricter password policy).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Rule};

/// An e-mail address, trimmed and lower-cased (as Supabase Auth stores it).
///
/// The check is structural only: one `@`, something before it, a domain with a dot
/// between non-empty labels after it, no whitespace, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The longest address, in characters (RFC 5321's path limit).
    pub const MAX_CHARS: usize = 254;

    /// Trims, lower-cases and checks `text`.
    ///
    /// Errors: `email is required`, `email must be at most 254 characters`,
    /// `email must be an email address, like name@example.com`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Err(DomainError::invalid("email", Rule::Required));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "email",
                Rule::AtMostChars(Self::MAX_CHARS),
            ));
        }
        let well_formed = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|label| !label.is_empty())
                    && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !well_formed {
            return Err(DomainError::invalid("email", Rule::Email));
        }
        Ok(Self(text))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

/// A new password that passed [`Password::check_strength`].
///
/// Never printed: `Debug` shows `Password(***)`, and it has no `Display` or `Serialize`.
/// Use [`Password::expose`] to put it in the request to Supabase Auth.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The shortest password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// The longest password, in bytes of UTF-8: bcrypt, which Supabase Auth uses, reads
    /// no further.
    pub const MAX_BYTES: usize = 72;

    /// Checks a new password: at least 8 characters, at most 72 bytes, with a letter
    /// and a digit. (Not for signing in: old passwords may predate these rules.)
    ///
    /// Errors: `password must be at least 8 characters`, `password must be at most 72
    /// characters`, `password must contain a letter and a digit`.
    pub fn check_strength(password: &str) -> Result<(), DomainError> {
        if password.chars().count() < Self::MIN_CHARS {
            return Err(DomainError::invalid(
                "password",
                Rule::AtLeastChars(Self::MIN_CHARS),
            ));
        }
        if password.len() > Self::MAX_BYTES {
            return Err(DomainError::invalid(
                "password",
                Rule::AtMostChars(Self::MAX_BYTES),
            ));
        }
        let has_letter = password.chars().any(char::is_alphabetic);
        let has_digit = password.chars().any(|c| c.is_ascii_digit());
        if !has_letter || !has_digit {
            return Err(DomainError::invalid("password", Rule::LetterAndDigit));
        }
        Ok(())
    }

    /// A new password, checked with [`Password::check_strength`]. Not trimmed: spaces
    /// are part of a password.
    pub fn parse(password: &str) -> Result<Self, DomainError> {
        Self::check_strength(password)?;
        Ok(Self(password.to_owned()))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A person's name as shown in the app (`profiles.name`): trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The longest name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks `text`.
    ///
    /// Errors: `name is required`, `name must be at most 100 characters`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::invalid("name", Rule::Required));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "name",
                Rule::AtMostChars(Self::MAX_CHARS),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> Self {
        name.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = DomainError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl fmt::Debug, DomainError>) -> String {
        result.expect_err("should be rejected").to_string()
    }

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
        assert!(Email::parse("a+tag@sub.example.co.uk").is_ok());
    }

    #[test]
    fn email_messages() {
        assert_eq!(message(Email::parse("  ")), "email is required");
        let expected = "email must be an email address, like name@example.com";
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "a@b@example.com",
            "ada@example.",
            "ada@.example.com",
            "ada@exa..mple.com",
            "ada lovelace@example.com",
        ] {
            assert_eq!(message(Email::parse(bad)), expected, "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(243));
        assert_eq!(long.len(), 255);
        assert_eq!(
            message(Email::parse(&long)),
            "email must be at most 254 characters"
        );
        assert!(Email::parse(&long[1..]).is_ok());
    }

    #[test]
    fn email_deserializes_through_parse() {
        let email: Email = serde_json::from_str("\"A@B.CO\"").expect("valid");
        assert_eq!(email.as_str(), "a@b.co");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }

    #[test]
    fn password_strength() {
        assert!(Password::check_strength("abcdefg1").is_ok());
        assert!(Password::check_strength("pässwörd 2").is_ok());
        assert_eq!(
            message(Password::check_strength("abc12")),
            "password must be at least 8 characters"
        );
        assert_eq!(
            message(Password::check_strength("")),
            "password must be at least 8 characters"
        );
        assert_eq!(
            message(Password::check_strength("abcdefgh")),
            "password must contain a letter and a digit"
        );
        assert_eq!(
            message(Password::check_strength("12345678")),
            "password must contain a letter and a digit"
        );
        assert_eq!(
            message(Password::check_strength(&format!("a1{}", "x".repeat(71)))),
            "password must be at most 72 characters"
        );
        assert!(Password::check_strength(&format!("a1{}", "x".repeat(70))).is_ok());
    }

    #[test]
    fn password_is_never_printed() {
        let password = Password::parse("secret-42").expect("strong enough");
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(password.expose(), "secret-42");
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ")
                .expect("valid")
                .as_str(),
            "Ada Lovelace"
        );
        assert_eq!(message(DisplayName::parse(" ")), "name is required");
        assert!(DisplayName::parse(&"ß".repeat(100)).is_ok());
        assert_eq!(
            message(DisplayName::parse(&"a".repeat(101))),
            "name must be at most 100 characters"
        );
    }
}
