//! `analytics_reports`: the files the worker produced.

use domain::AnalyticsReport;

use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::Query;
use crate::api::Page;

const COLUMNS: &str = "id,task_id,user_id,title,format,date_range_start,date_range_end,metrics,storage_path,size_bytes,created_at";

/// One page of the caller's reports, newest first (the owner filter lets PostgreSQL read
/// them through `(user_id, created_at, id)`).
pub async fn list(api: &Api, page: u64, page_size: u64) -> Result<Page<AnalyticsReport>, AppError> {
    let mut query = Query::table("analytics_reports").select(COLUMNS);
    if let Some(owner) = api.user_id() {
        query = query.eq("user_id", owner);
    }
    let query = query
        .order("created_at", false)
        .order("id", false)
        .limit(page_size)
        .offset(page * page_size);
    let response = api
        .send(ApiRequest::get(api.rest(&query.to_path())).header("Prefer", "count=exact"))
        .await?;
    let rows: Vec<AnalyticsReport> = response.rows()?;
    let total = response.total().unwrap_or(rows.len() as u64);
    Ok(Page {
        rows,
        total,
        lower_bound: false,
    })
}
