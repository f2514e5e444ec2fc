//! `tasks`: list with filters and counts, one task, create, cancel and retry (RPC).

use crate::i18n::{t, Msg};
use domain::{NewTask, Task, TaskPriority, TaskStatus, TaskType};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::Query;
use crate::api::Page;

/// How the task list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskSort {
    /// Newest first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Most urgent first.
    Priority,
    /// By title, A to Z.
    Title,
}

impl TaskSort {
    /// Every sort, for a select box.
    pub const ALL: [Self; 4] = [Self::Newest, Self::Oldest, Self::Priority, Self::Title];

    /// The value in the URL and select box.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Priority => "priority",
            Self::Title => "title",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => t(Msg::TasksSortNewest),
            Self::Oldest => t(Msg::TasksSortOldest),
            Self::Priority => t(Msg::TasksSortPriority),
            Self::Title => t(Msg::TasksSortTitle),
        }
    }

    /// From [`TaskSort::as_str`].
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|sort| sort.as_str() == text)
            .unwrap_or_default()
    }
}

/// The filters of the task list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only this status.
    pub status: Option<TaskStatus>,
    /// Only this type.
    pub task_type: Option<TaskType>,
    /// Only this priority.
    pub priority: Option<TaskPriority>,
    /// Title contains (any case).
    pub search: String,
    /// Order.
    pub sort: TaskSort,
    /// 0-based page.
    pub page: u64,
    /// Rows per page.
    pub page_size: u64,
    /// Every user's tasks instead of the caller's own (admins only; RLS shows others nothing).
    pub everyone: bool,
}

impl Default for TaskFilter {
    fn default() -> Self {
        Self {
            status: None,
            task_type: None,
            priority: None,
            search: String::new(),
            sort: TaskSort::default(),
            page: 0,
            page_size: 20,
            everyone: false,
        }
    }
}

/// The columns the list shows.
pub const LIST_COLUMNS: &str = "id,user_id,title,type,status,priority,progress,created_at,updated_at,attempts,max_attempts,scheduled_at,completed_at";

/// The PostgREST query of the task list (pure, so it is tested). `owner` is the caller: the
/// explicit `user_id` filter (besides the policies) lets PostgreSQL walk that user's slice of
/// `(user_id, created_at, id)` instead of every user's rows. Ties are broken by id in the
/// sort's direction, so one index serves both directions. Everyone's tasks (no owner) are
/// not counted: the page asks for one row more than it shows, to know whether a next page
/// exists.
pub fn list_query(filter: &TaskFilter, owner: Option<Uuid>) -> Query {
    let owner = owner.filter(|_| !filter.everyone);
    let mut query = Query::table("tasks").select(LIST_COLUMNS);
    if let Some(owner) = owner {
        query = query.eq("user_id", owner);
    }
    if let Some(status) = filter.status {
        query = query.eq("status", status);
    }
    if let Some(task_type) = filter.task_type {
        query = query.eq("type", task_type);
    }
    if let Some(priority) = filter.priority {
        query = query.eq("priority", priority);
    }
    if !filter.search.trim().is_empty() {
        query = query.contains("title", &filter.search);
    }
    query = match filter.sort {
        TaskSort::Newest => query.order("created_at", false).order("id", false),
        TaskSort::Oldest => query.order("created_at", true).order("id", true),
        TaskSort::Priority => query
            .order("priority_rank", true)
            .order("created_at", false)
            .order("id", false),
        TaskSort::Title => query.order("title", true).order("id", true),
    };
    query
        .limit(filter.page_size + u64::from(owner.is_none()))
        .offset(filter.page * filter.page_size)
}

/// One page of the caller's tasks (admins see everyone's), with the total: exactly counted
/// for one owner's tasks (an index range). Everyone's tasks are not counted — an exact count
/// reads the whole table, and the planner's estimate under the policies is off by a factor
/// of several — so that page only learns whether more rows follow.
#[cfg(not(feature = "postgrest-client"))]
pub async fn list(api: &Api, filter: &TaskFilter) -> Result<Page<Task>, AppError> {
    let owner = api.user_id().filter(|_| !filter.everyone);
    let mut request = ApiRequest::get(api.rest(&list_query(filter, owner).to_path()));
    if owner.is_some() {
        request = request.header("Prefer", "count=exact");
    }
    let response = api.send(request).await?;
    let mut rows: Vec<Task> = response.rows()?;
    if owner.is_some() {
        let total = response.total().unwrap_or(rows.len() as u64);
        return Ok(Page {
            rows,
            total,
            lower_bound: false,
        });
    }
    let more = rows.len() as u64 > filter.page_size;
    rows.truncate(usize::try_from(filter.page_size).unwrap_or(usize::MAX));
    Ok(Page {
        // When more follow: one past the last row shown ("of more than N").
        total: filter.page * filter.page_size + rows.len() as u64 + u64::from(more),
        rows,
        lower_bound: more,
    })
}

/// One page of the caller's tasks, through the official `postgrest` client (only built
/// with the `postgrest-client` feature, to measure its cost).
#[cfg(feature = "postgrest-client")]
pub async fn list(api: &Api, filter: &TaskFilter) -> Result<Page<Task>, AppError> {
    let token = api
        .session()
        .map(|s| s.access_token)
        .unwrap_or_else(|| api.anon_key());
    let mut builder = postgrest::Postgrest::new(api.rest(""))
        .insert_header("apikey", api.anon_key())
        .from("tasks")
        .auth(token)
        .select(LIST_COLUMNS)
        .exact_count();
    if let Some(owner) = api.user_id().filter(|_| !filter.everyone) {
        builder = builder.eq("user_id", owner.to_string());
    }
    if let Some(status) = filter.status {
        builder = builder.eq("status", status.as_str());
    }
    if let Some(task_type) = filter.task_type {
        builder = builder.eq("type", task_type.as_str());
    }
    if let Some(priority) = filter.priority {
        builder = builder.eq("priority", priority.as_str());
    }
    if !filter.search.trim().is_empty() {
        builder = builder.ilike("title", format!("*{}*", filter.search.trim()));
    }
    let from = usize::try_from(filter.page * filter.page_size).unwrap_or(0);
    let to = from + usize::try_from(filter.page_size).unwrap_or(20) - 1;
    let response = builder
        .order("created_at.desc")
        .range(from, to)
        .execute()
        .await
        .map_err(|_| AppError::Network)?;
    let status = response.status().as_u16();
    let range = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.map_err(|_| AppError::Network)?;
    if !(200..300).contains(&status) {
        return Err(AppError::from_response(status, &body));
    }
    let rows: Vec<Task> =
        serde_json::from_str(&body).map_err(|error| AppError::Unexpected(error.to_string()))?;
    let total = range
        .as_deref()
        .and_then(crate::api::http::parse_content_range)
        .and_then(|r| r.total)
        .unwrap_or(rows.len() as u64);
    Ok(Page {
        rows,
        total,
        lower_bound: false,
    })
}

/// The caller's most recent tasks.
pub async fn recent(api: &Api, limit: u64) -> Result<Vec<Task>, AppError> {
    let mut query = Query::table("tasks").select(LIST_COLUMNS);
    if let Some(owner) = api.user_id() {
        query = query.eq("user_id", owner);
    }
    let query = query
        .order("created_at", false)
        .order("id", false)
        .limit(limit);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

/// Failed tasks, most recent first (admins see all).
pub async fn recent_failures(api: &Api, limit: u64) -> Result<Vec<Task>, AppError> {
    let query = Query::table("tasks")
        .select("*")
        .eq("status", "failed")
        .order("completed_at", false)
        .limit(limit);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

/// One task, every column.
pub async fn get(api: &Api, id: Uuid) -> Result<Task, AppError> {
    let query = Query::table("tasks").select("*").eq("id", id);
    api.row(
        ApiRequest::get(api.rest(&query.to_path()))
            .header("Accept", "application/vnd.pgrst.object+json"),
    )
    .await
}

/// The insert body: the domain's [`NewTask`] plus `max_attempts`.
pub fn insert_body(task: &NewTask, max_attempts: u8) -> Value {
    let mut body = serde_json::to_value(task).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("max_attempts".into(), json!(max_attempts));
    }
    body
}

/// Creates a task; returns the row.
pub async fn create(api: &Api, task: &NewTask, max_attempts: u8) -> Result<Task, AppError> {
    api.row(
        ApiRequest::post(api.rest("tasks"))
            .header("Prefer", "return=representation")
            .header("Accept", "application/vnd.pgrst.object+json")
            .json(&insert_body(task, max_attempts)),
    )
    .await
}

/// Cancels a pending or running task (`cancel_task`).
pub async fn cancel(api: &Api, id: Uuid) -> Result<Task, AppError> {
    api.row(ApiRequest::post(api.rest("rpc/cancel_task")).json(&json!({ "task_id": id })))
        .await
}

/// Queues a failed or cancelled task again (`retry_task`).
pub async fn retry(api: &Api, id: Uuid) -> Result<Task, AppError> {
    api.row(ApiRequest::post(api.rest("rpc/retry_task")).json(&json!({ "task_id": id })))
        .await
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn list_query_applies_filters_and_paging() {
        let filter = TaskFilter {
            status: Some(TaskStatus::Failed),
            task_type: Some(TaskType::HttpRequest),
            priority: None,
            search: "ping".into(),
            sort: TaskSort::Priority,
            page: 2,
            page_size: 10,
            everyone: false,
        };
        let me = Uuid::from_u128(7);
        let path = list_query(&filter, Some(me)).to_path();
        assert!(path.starts_with("tasks?select=id,user_id,title,type,status"));
        assert!(path.contains(&format!(
            "&user_id=eq.{me}&status=eq.failed&type=eq.http_request&title=ilike.*ping*"
        )));
        assert!(
            path.ends_with("&order=priority_rank.asc,created_at.desc,id.desc&limit=10&offset=20")
        );
        // An admin's "everyone" view has no owner filter; the policies decide.
        let everyone = list_query(
            &TaskFilter {
                everyone: true,
                ..filter
            },
            Some(me),
        )
        .to_path();
        assert!(!everyone.contains("user_id=eq."));
        // …and asks for one row more than it shows, to know whether a next page exists.
        assert!(everyone.ends_with("&limit=11&offset=20"));
    }

    #[wasm_bindgen_test]
    fn insert_body_adds_max_attempts() {
        let task = NewTask::new(
            domain::TaskTitle::parse("Ping").expect("title"),
            TaskType::HttpRequest.default_parameters(),
        );
        let body = insert_body(&task, 5);
        assert_eq!(body["max_attempts"], 5);
        assert_eq!(body["type"], "http_request");
        assert_eq!(body["title"], "Ping");
    }
}
