//! The local mail catcher: mails are written as JSON files under `<data_dir>/mail/`, logged,
//! and listed by `GET /auth/v1/mailbox?email=…` (localbase only; the CLI has Inbucket).

use super::error::AuthError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// One mail as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// `recovery`, `magiclink`, `signup`, `email_change`…
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    pub html: String,
    /// The link to follow.
    pub link: String,
    /// The code to type (`POST /verify {type, email, token}`).
    pub token: String,
    pub created_at: String,
}

fn mail_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("mail")
}

/// The words of one mail, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Words {
    /// The subject (GoTrue's default subjects in English).
    pub subject: &'static str,
    /// Before the link.
    pub follow: &'static str,
    /// Before the code.
    pub code: &'static str,
    /// The last line.
    pub ignore: &'static str,
}

impl Words {
    /// The words of a `kind` mail (`recovery`, `magiclink`…) in `language` (`id` for Bahasa
    /// Indonesia; anything else, or none, is English). `supabase/templates/` holds the same
    /// words for hosted Supabase, chosen there by `{{ .Data.language }}`.
    pub(super) fn for_mail(kind: &str, language: Option<&str>) -> Self {
        let indonesian = language == Some("id");
        let subject = match (kind, indonesian) {
            ("recovery", false) => "Reset Your Password",
            ("recovery", true) => "Atur Ulang Kata Sandi Anda",
            ("magiclink", false) => "Your Magic Link",
            ("magiclink", true) => "Tautan Masuk Anda",
            (_, false) => "Confirm Your Email",
            (_, true) => "Konfirmasi Email Anda",
        };
        if indonesian {
            Self {
                subject,
                follow: "Ikuti tautan ini:",
                code: "Atau masukkan kode ini:",
                ignore: "Jika Anda tidak memintanya, abaikan email ini.",
            }
        } else {
            Self {
                subject,
                follow: "Follow this link:",
                code: "Or enter this code:",
                ignore: "If you did not ask for this, ignore this mail.",
            }
        }
    }
}

/// Writes a mail to the mailbox and logs it.
pub(super) async fn deliver(
    state: &AppState,
    to: &str,
    kind: &str,
    words: &Words,
    link: &str,
    token: &str,
) -> Result<(), AuthError> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let Words {
        subject,
        follow,
        code,
        ignore,
    } = *words;
    let text = format!("{subject}\n\n{follow}\n{link}\n\n{code} {token}\n\n{ignore}\n");
    let html = format!(
        "<h2>{subject}</h2>\n<p>{follow}</p>\n<p><a href=\"{href}\">{label}</a></p>\n<p>{code} {token}</p>\n<p>{ignore}</p>\n",
        href = html_escape(link),
        label = html_escape(subject),
    );
    let mail = Mail {
        id: id.clone(),
        to: to.to_owned(),
        subject: subject.to_owned(),
        kind: kind.to_owned(),
        text,
        html,
        link: link.to_owned(),
        token: token.to_owned(),
        created_at: super::users::timestamp(&now),
    };
    let dir = mail_dir(state);
    let json = serde_json::to_vec_pretty(&mail).map_err(AuthError::internal)?;
    let name = format!("{}-{id}.json", now.format("%Y%m%dT%H%M%S%.6fZ"));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AuthError::internal)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, json)
        .await
        .map_err(AuthError::internal)?;
    tokio::fs::rename(&tmp, dir.join(&name))
        .await
        .map_err(AuthError::internal)?;
    tracing::info!(mail.to = %to, mail.kind = %kind, mail.subject = %subject, mail.link = %link, "auth: mail written to the local mailbox");
    Ok(())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Every mail to `email`, oldest first.
pub(super) async fn mails_for(state: &AppState, email: &str) -> Result<Vec<Mail>, AuthError> {
    let dir = mail_dir(state);
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AuthError::internal(e)),
    };
    let mut mails = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(AuthError::internal)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let Ok(bytes) = tokio::fs::read(entry.path()).await else {
            continue;
        };
        let Ok(mail) = serde_json::from_slice::<Mail>(&bytes) else {
            continue;
        };
        if mail.to.eq_ignore_ascii_case(email.trim()) {
            mails.push((name, mail));
        }
    }
    mails.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(mails.into_iter().map(|(_, m)| m).collect())
}

/// `GET /mailbox?email=…` → `{"messages": [mail…]}`, oldest first.
pub(super) async fn mailbox(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, AuthError> {
    if !state.config.auth.mailbox_enabled {
        return Err(AuthError::not_found(
            "not_found",
            "The local mailbox is disabled",
        ));
    }
    let email = query
        .get("email")
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AuthError::bad_request("validation_failed", "email is required"))?;
    let mails = mails_for(&state, email).await?;
    Ok(Json(serde_json::json!({ "messages": mails })))
}

#[cfg(test)]
mod tests {
    use super::Words;

    /// Hosted Supabase mails from `supabase/templates/`: the same words as localbase's, in
    /// both languages, for every template there.
    #[test]
    fn the_templates_for_hosted_supabase_say_what_localbase_says() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../supabase");
        let config = std::fs::read_to_string(root.join("config.toml")).expect("config.toml");
        for (kind, file) in [
            ("recovery", "recovery.html"),
            ("magiclink", "magic_link.html"),
        ] {
            let template =
                std::fs::read_to_string(root.join("templates").join(file)).expect("a template");
            assert!(
                config.contains(&format!("./supabase/templates/{file}")),
                "{file}"
            );
            for language in [None, Some("id")] {
                let words = Words::for_mail(kind, language);
                for word in [words.subject, words.follow, words.code, words.ignore] {
                    assert!(template.contains(word), "{file} lacks {word:?}");
                }
                assert!(
                    config.contains(words.subject),
                    "config.toml lacks {:?}",
                    words.subject
                );
            }
            assert!(
                template.contains(r#"{{ if eq .Data.language "id" }}"#),
                "{file}"
            );
        }
    }
}
