//! `cleanup` (administrators only — the database refuses the task from anyone else, and
//! the handler checks again): deletes execution logs older than `retentionDays` (or the
//! `log_retention_days` setting), finished tasks older than `task_retention_days`, and
//! `workers` rows without a heartbeat for 7 days.
//! Deletes in batches so locks stay short, and stops between batches when cancelled.

use async_trait::async_trait;
use domain::TaskParameters;
use serde_json::{json, Value};

use super::{wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;
use crate::queue::setting_i64;
use crate::text::{Run, Text};

/// Rows per DELETE.
const BATCH: i64 = 5000;
/// Log retention when neither the task nor the settings say.
pub const DEFAULT_LOG_RETENTION_DAYS: i64 = 30;
/// Rows of workers silent for this many days are removed.
pub const WORKER_RETENTION_DAYS: i64 = 7;
/// Task retention when the setting is missing.
pub const DEFAULT_TASK_RETENTION_DAYS: i64 = 90;

/// Runs `cleanup` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanupHandler;

#[async_trait]
impl TaskHandler for CleanupHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::Cleanup(params) = &ctx.params else {
            return Err(wrong_parameters("cleanup"));
        };
        let task = &ctx.task;
        let role: Option<String> = sqlx::query_file_scalar!("queries/owner_role.sql", task.user_id)
            .fetch_optional(&ctx.db)
            .await?;
        if role.as_deref() != Some("admin") {
            return Err(TaskError::permanent(Run::CleanupAdminsOnly));
        }
        let log_days = match params.retention_days {
            Some(days) => i64::from(days),
            None => setting_i64(&ctx.db, "log_retention_days")
                .await?
                .filter(|d| *d >= 1)
                .unwrap_or(DEFAULT_LOG_RETENTION_DAYS),
        };
        let task_days = setting_i64(&ctx.db, "task_retention_days")
            .await?
            .filter(|d| *d >= 1)
            .unwrap_or(DEFAULT_TASK_RETENTION_DAYS);
        ctx.log
            .info(
                Text::new(Run::CleanupStart)
                    .num("log_days", log_days)
                    .num("task_days", task_days),
                Some(json!({ "logRetentionDays": log_days, "taskRetentionDays": task_days })),
            )
            .await;
        ctx.progress.set(5).await;

        let mut deleted_logs: u64 = 0;
        loop {
            ctx.check_cancelled()?;
            let n = sqlx::query_file!(
                "queries/delete_old_logs.sql",
                i32::try_from(log_days).unwrap_or(i32::MAX),
                BATCH
            )
            .execute(&ctx.db)
            .await?
            .rows_affected();
            deleted_logs += n;
            if n < BATCH as u64 {
                break;
            }
        }
        ctx.log
            .info(Text::new(Run::CleanupLogs).num("n", deleted_logs), None)
            .await;
        ctx.progress.set(50).await;

        let mut deleted_tasks: u64 = 0;
        loop {
            ctx.check_cancelled()?;
            let n = sqlx::query_file!(
                "queries/delete_old_tasks.sql",
                i32::try_from(task_days).unwrap_or(i32::MAX),
                task.id,
                BATCH
            )
            .execute(&ctx.db)
            .await?
            .rows_affected();
            deleted_tasks += n;
            if n < BATCH as u64 {
                break;
            }
        }
        ctx.log
            .info(Text::new(Run::CleanupTasks).num("n", deleted_tasks), None)
            .await;
        ctx.progress.set(90).await;

        // Workers that stopped (or vanished) long ago only clutter the admin's system page.
        let deleted_workers = sqlx::query_file!(
            "queries/delete_stale_workers.sql",
            i32::try_from(WORKER_RETENTION_DAYS).unwrap_or(7)
        )
        .execute(&ctx.db)
        .await?
        .rows_affected();
        if deleted_workers > 0 {
            ctx.log
                .info(
                    Text::new(Run::CleanupWorkers)
                        .num("n", deleted_workers)
                        .num("days", WORKER_RETENTION_DAYS),
                    None,
                )
                .await;
        }
        Ok(json!({
            "deletedLogs": deleted_logs,
            "deletedTasks": deleted_tasks,
            "deletedWorkers": deleted_workers,
            "logRetentionDays": log_days,
            "taskRetentionDays": task_days,
        }))
    }
}
