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
pub struct Mail {
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

/// Writes a mail to the mailbox and logs it.
pub async fn deliver(
    state: &AppState,
    to: &str,
    kind: &str,
    subject: &str,
    link: &str,
    token: &str,
) -> Result<(), AuthError> {
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let text = format!(
        "{subject}\n\nFollow this link:\n{link}\n\nOr enter this code: {token}\n\nIf you did not ask for this, ignore this mail.\n"
    );
    let html = format!(
        "<h2>{subject}</h2>\n<p>Follow this link:</p>\n<p><a href=\"{href}\">{label}</a></p>\n<p>Or enter this code: {token}</p>\n",
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
pub async fn mails_for(state: &AppState, email: &str) -> Result<Vec<Mail>, AuthError> {
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
pub async fn mailbox(
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
