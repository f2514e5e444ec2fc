//! Administration: the admin RPC functions, workers, audit trail and system settings.
//! Every call is refused by the database (42501) for non-admins.

use chrono::{DateTime, Utc};
use domain::{AuditLog, UserRole, WorkerHeartbeat};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::api::decode::{self, FromJson, Missing, Object};
use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::Query;
use crate::api::Page;
use crate::i18n::{t, Msg};

/// `admin_overview()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// Profiles.
    pub users: u64,
    /// Active profiles.
    pub active_users: u64,
    /// Tasks per status.
    #[serde(default)]
    pub tasks_by_status: Map<String, Value>,
    /// Pending tasks per priority.
    #[serde(default)]
    pub queue_by_priority: Map<String, Value>,
    /// Pending tasks.
    pub queue_depth: u64,
    /// Completed or failed in the last 24 h.
    pub finished_last24h: u64,
    /// Failed in the last 24 h.
    pub failed_last24h: u64,
    /// Workers with a fresh heartbeat.
    pub live_workers: u64,
}

impl Overview {
    /// The count under `key` of one of the per-status / per-priority objects (0 when
    /// absent).
    pub fn count(counts: &Map<String, Value>, key: &str) -> u64 {
        counts.get(key).and_then(Value::as_u64).unwrap_or(0)
    }

    /// Failed / finished over the last 24 h, in percent.
    pub fn failure_rate(&self) -> f64 {
        if self.finished_last24h == 0 {
            0.0
        } else {
            self.failed_last24h as f64 * 100.0 / self.finished_last24h as f64
        }
    }
}

/// The admin overview numbers.
pub async fn overview(api: &Api) -> Result<Overview, AppError> {
    api.row(ApiRequest::post(api.rest("rpc/admin_overview")).json(&json!({})))
        .await
}

/// A row of `admin_list_users`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdminUser {
    /// The user id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Role.
    pub role: UserRole,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Last sign-in.
    #[serde(default)]
    pub last_login: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Tasks owned.
    pub task_count: u64,
    /// Failed tasks owned.
    pub failed_task_count: u64,
    /// Matching users, all pages.
    pub total_count: u64,
}

/// Users matching `search` (email or name), a page at a time.
pub async fn list_users(
    api: &Api,
    search: &str,
    limit: u64,
    offset: u64,
) -> Result<Page<AdminUser>, AppError> {
    let rows: Vec<AdminUser> = api
        .rows(
            ApiRequest::post(api.rest("rpc/admin_list_users")).json(&json!({
                "search": search.trim(),
                "result_limit": limit,
                "result_offset": offset,
            })),
        )
        .await?;
    let total = rows.first().map_or(0, |row| row.total_count);
    Ok(Page {
        rows,
        total,
        lower_bound: false,
    })
}

/// Changes a user's role.
pub async fn set_role(api: &Api, user_id: Uuid, role: UserRole) -> Result<(), AppError> {
    api.send(
        ApiRequest::post(api.rest("rpc/admin_set_role"))
            .json(&json!({ "user_id": user_id, "new_role": role.as_str() })),
    )
    .await?;
    Ok(())
}

/// Deactivates or reactivates a user.
pub async fn set_active(api: &Api, user_id: Uuid, active: bool) -> Result<(), AppError> {
    api.send(
        ApiRequest::post(api.rest("rpc/admin_set_active"))
            .json(&json!({ "user_id": user_id, "active": active })),
    )
    .await?;
    Ok(())
}

/// The audit trail about one user, newest first.
pub async fn audit_for(api: &Api, user_id: Uuid, limit: u64) -> Result<Vec<AuditLog>, AppError> {
    let query = Query::table("audit_logs")
        .select("*")
        .eq("subject_user_id", user_id)
        .order("created_at", false)
        .limit(limit);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

/// Who did something in the audit trail: an id with its person, when still there.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Actor {
    /// The profile (= auth user) id.
    pub id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name, when they gave one.
    #[serde(default)]
    pub name: Option<String>,
}

impl Actor {
    /// `Ada Lovelace <ada@example.com>`, or the email alone.
    pub fn label(&self) -> String {
        match self.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => format!("{name} <{}>", self.email),
            _ => self.email.clone(),
        }
    }
}

/// The distinct actors of `rows`, in first-seen order.
pub fn actor_ids(rows: &[AuditLog]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = Vec::new();
    for id in rows.iter().filter_map(|row| row.actor_id) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The "By" of an audit row: the actor's name and email, their id when their profile is
/// gone, "system" when no user acted (the worker, a migration).
pub fn actor_label(actor_id: Option<Uuid>, actors: &[Actor]) -> String {
    match actor_id {
        None => t(Msg::AdminSystem).to_owned(),
        Some(id) => actors
            .iter()
            .find(|actor| actor.id == id)
            .map(Actor::label)
            .unwrap_or_else(|| id.to_string()),
    }
}

/// A user's audit trail with the people who acted in it: `audit_logs.actor_id` has no
/// foreign key (a row outlives its actor), so their profiles come in one `id=in.(…)` query.
pub async fn audit_with_actors(
    api: &Api,
    user_id: Uuid,
    limit: u64,
) -> Result<(Vec<AuditLog>, Vec<Actor>), AppError> {
    let rows = audit_for(api, user_id, limit).await?;
    let ids = actor_ids(&rows);
    if ids.is_empty() {
        return Ok((rows, Vec::new()));
    }
    let query = Query::table("profiles")
        .select("id,email,name")
        .is_in("id", ids.iter().map(Uuid::to_string));
    let actors = api
        .rows(ApiRequest::get(api.rest(&query.to_path())))
        .await?;
    Ok((rows, actors))
}

/// Every worker's heartbeat, freshest first.
pub async fn workers(api: &Api) -> Result<Vec<WorkerHeartbeat>, AppError> {
    let query = Query::table("workers")
        .select("*")
        .order("last_heartbeat_at", false);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

impl FromJson for Overview {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Overview {
            users: decode::count(row, "users")?,
            active_users: decode::count(row, "activeUsers")?,
            tasks_by_status: decode::counts(row, "tasksByStatus")?,
            queue_by_priority: decode::counts(row, "queueByPriority")?,
            queue_depth: decode::count(row, "queueDepth")?,
            finished_last24h: decode::count(row, "finishedLast24h")?,
            failed_last24h: decode::count(row, "failedLast24h")?,
            live_workers: decode::count(row, "liveWorkers")?,
        })
    }
}

impl FromJson for AdminUser {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(AdminUser {
            id: decode::uuid(row, "id")?,
            email: decode::text(row, "email")?,
            name: decode::opt_text(row, "name"),
            role: decode::parsed(row, "role")?,
            is_active: decode::boolean(row, "is_active")?,
            last_login: decode::opt_time(row, "last_login")?,
            created_at: decode::time(row, "created_at")?,
            task_count: decode::count(row, "task_count")?,
            failed_task_count: decode::count(row, "failed_task_count")?,
            total_count: decode::count(row, "total_count")?,
        })
    }
}

impl FromJson for Actor {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Actor {
            id: decode::uuid(row, "id")?,
            email: decode::text(row, "email")?,
            name: decode::opt_text(row, "name"),
        })
    }
}

impl FromJson for SystemSetting {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(SystemSetting {
            key: decode::text(row, "key")?,
            value: decode::opt_json(row, "value").unwrap_or(Value::Null),
            description: decode::opt_text(row, "description"),
            updated_at: decode::time(row, "updated_at")?,
        })
    }
}

/// A worker is offline when its heartbeat is older than this.
pub const OFFLINE_AFTER_SECS: i64 = 30;

/// `true` when the heartbeat is older than [`OFFLINE_AFTER_SECS`] (or the worker said it
/// stopped).
pub fn worker_offline(worker: &WorkerHeartbeat, now: DateTime<Utc>) -> bool {
    worker.status == "stopped"
        || (now - worker.last_heartbeat_at).num_seconds() > OFFLINE_AFTER_SECS
}

/// A row of `system_settings`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SystemSetting {
    /// The key.
    pub key: String,
    /// The JSON value.
    pub value: Value,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// All settings, by key.
pub async fn settings(api: &Api) -> Result<Vec<SystemSetting>, AppError> {
    let query = Query::table("system_settings")
        .select("*")
        .order("key", true);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

/// The settings every signed-in page follows: the maintenance message (empty when none)
/// and the currency of business amounts (`None` when the setting is missing).
pub async fn public_settings(api: &Api) -> Result<(String, Option<String>), AppError> {
    let query = Query::table("system_settings")
        .select("key,value,updated_at")
        .is_in("key", ["maintenance_banner", "currency"]);
    let rows: Vec<SystemSetting> = api
        .rows(ApiRequest::get(api.rest(&query.to_path())))
        .await?;
    let text = |key: &str| {
        rows.iter()
            .find(|row| row.key == key)
            .and_then(|row| row.value.as_str())
            .map(str::to_owned)
    };
    Ok((
        text("maintenance_banner").unwrap_or_default(),
        text("currency"),
    ))
}

/// Sets one setting's value (and records who did).
pub async fn update_setting(
    api: &Api,
    key: &str,
    value: &Value,
    by: Option<Uuid>,
) -> Result<(), AppError> {
    let query = Query::table("system_settings").eq("key", key);
    api.send(
        ApiRequest::patch(api.rest(&query.to_path()))
            .json(&json!({ "value": value, "updated_by": by })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn audit_rows_name_their_actors() {
        let ada: Uuid = "00000000-0000-0000-0000-00000000000a"
            .parse()
            .expect("uuid");
        let gone: Uuid = "00000000-0000-0000-0000-00000000000b"
            .parse()
            .expect("uuid");
        let row = |id: i64, actor: Option<Uuid>| AuditLog {
            id,
            actor_id: actor,
            subject_user_id: None,
            action: "UPDATE".into(),
            table_name: "profiles".into(),
            record_id: None,
            old_data: None,
            new_data: None,
            ip_address: None,
            user_agent: None,
            created_at: "2024-04-01T06:00:00Z".parse().expect("time"),
        };
        let rows = [
            row(1, Some(ada)),
            row(2, None),
            row(3, Some(gone)),
            row(4, Some(ada)),
        ];
        assert_eq!(actor_ids(&rows), vec![ada, gone]);
        let actors: Vec<Actor> = serde_json::from_str(&format!(
            r#"[{{"id":"{ada}","email":"ada@example.com","name":"Ada"}}]"#
        ))
        .expect("actors");
        assert_eq!(actor_label(Some(ada), &actors), "Ada <ada@example.com>");
        assert_eq!(actor_label(Some(gone), &actors), gone.to_string());
        assert_eq!(actor_label(None, &actors), "system");
        let nameless = Actor {
            name: Some(" ".into()),
            ..actors[0].clone()
        };
        assert_eq!(nameless.label(), "ada@example.com");
    }

    #[wasm_bindgen_test]
    fn worker_goes_offline_after_30_seconds() {
        let now: DateTime<Utc> = "2024-04-01T06:01:00Z".parse().expect("time");
        let mut worker = WorkerHeartbeat {
            id: "w1".into(),
            hostname: "h".into(),
            version: "0.1.0".into(),
            started_at: now,
            last_heartbeat_at: "2024-04-01T06:00:40Z".parse().expect("time"),
            running_count: 1,
            status: "running".into(),
        };
        assert!(!worker_offline(&worker, now));
        worker.last_heartbeat_at = "2024-04-01T06:00:29Z".parse().expect("time");
        assert!(worker_offline(&worker, now));
    }

    #[wasm_bindgen_test]
    fn overview_failure_rate() {
        let overview: Overview = serde_json::from_value(json!({
            "users": 3, "activeUsers": 3, "tasksByStatus": {"failed": 1}, "queueByPriority": {},
            "queueDepth": 0, "finishedLast24h": 4, "failedLast24h": 1, "liveWorkers": 1
        }))
        .expect("overview");
        assert_eq!(overview.failure_rate(), 25.0);
    }
}
