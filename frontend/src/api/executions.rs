//! `task_executions` and `execution_logs` of one task.

use domain::{ExecutionLog, LogLevel, TaskExecution};
use uuid::Uuid;

use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::Query;

/// The attempts of a task, latest first.
pub async fn list(api: &Api, task_id: Uuid) -> Result<Vec<TaskExecution>, AppError> {
    let query = Query::table("task_executions")
        .select("*")
        .eq("task_id", task_id)
        .order("attempt", false);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

/// The levels at or above `min`.
pub fn levels_from(min: LogLevel) -> Vec<&'static str> {
    LogLevel::ALL
        .iter()
        .filter(|level| **level >= min)
        .map(|level| level.as_str())
        .collect()
}

/// The log of a task in order, at `min` level and above, at most `limit` lines.
pub async fn logs(
    api: &Api,
    task_id: Uuid,
    min: LogLevel,
    limit: u64,
) -> Result<Vec<ExecutionLog>, AppError> {
    let mut query = Query::table("execution_logs")
        .select("*")
        .eq("task_id", task_id);
    if min > LogLevel::Debug {
        query = query.is_in("level", levels_from(min));
    }
    let query = query.order("id", true).limit(limit);
    api.rows(ApiRequest::get(api.rest(&query.to_path()))).await
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn level_filter_keeps_higher_levels() {
        assert_eq!(levels_from(LogLevel::Warn), ["warn", "error"]);
        assert_eq!(levels_from(LogLevel::Debug).len(), 4);
    }
}
