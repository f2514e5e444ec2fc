//! `analytics_report`: metrics over a date range for the task's owner (the SQL function
//! `analytics_metrics`), written as json / csv / xlsx / pdf, uploaded to the `reports`
//! bucket at `<user_id>/<task_id>/report.<ext>`, and recorded in `analytics_reports`.

use async_trait::async_trait;
use domain::{AnalyticsResult, TaskParameters};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{human_bytes, wrong_parameters, HandlerContext, TaskHandler};
use crate::error::TaskError;
use crate::report::{self, Report};

/// The bucket reports go to.
pub const BUCKET: &str = "reports";

/// Runs `analytics_report` tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyticsReportHandler;

#[async_trait]
impl TaskHandler for AnalyticsReportHandler {
    async fn run(&self, ctx: HandlerContext) -> Result<Value, TaskError> {
        let TaskParameters::AnalyticsReport(params) = &ctx.params else {
            return Err(wrong_parameters("analytics_report"));
        };
        // Fail early, before any work, when the file cannot be stored.
        let storage = ctx.storage()?;
        let task = &ctx.task;
        let metrics: Vec<String> = params
            .metrics
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        let range = params.date_range;

        ctx.log
            .info(
                format!(
                    "Computing {} from {} to {}",
                    metrics.join(", "),
                    range.start.format("%Y-%m-%d"),
                    range.end.format("%Y-%m-%d")
                ),
                Some(json!({ "metrics": metrics, "format": params.format.as_str() })),
            )
            .await;
        ctx.progress.set(10).await;
        let data: Value = sqlx::query_scalar("select public.analytics_metrics($1, $2, $3, $4)")
            .bind(range.start)
            .bind(range.end)
            .bind(&metrics)
            .bind(task.user_id)
            .fetch_one(&ctx.db)
            .await?;
        ctx.check_cancelled()?;
        let result: AnalyticsResult = serde_json::from_value(data.clone()).map_err(|error| {
            TaskError::permanent(format!("The analytics result could not be read: {error}"))
        })?;
        ctx.progress.set(40).await;

        let report = Report::new(&task.title, range, &params.metrics, &result);
        let format = params.format;
        let bytes = report::render(&report, format, &data).map_err(TaskError::permanent)?;
        let size = bytes.len() as u64;
        ctx.log
            .info(
                format!("Built the {} file ({})", format.label(), human_bytes(size)),
                Some(json!({ "sizeBytes": size })),
            )
            .await;
        ctx.progress.set(60).await;
        ctx.check_cancelled()?;

        let path = format!("{}/{}/report.{}", task.user_id, task.id, format.extension());
        storage
            .upload(BUCKET, &path, bytes, format.mime_type())
            .await?;
        ctx.log
            .info(
                format!("Uploaded to {BUCKET}/{path}"),
                Some(json!({ "bucket": BUCKET, "path": path })),
            )
            .await;
        ctx.progress.set(85).await;

        // One row per task and file: a retried attempt replaces its earlier row.
        let mut tx = ctx.db.begin().await?;
        sqlx::query(
            "delete from public.analytics_reports where task_id = $1 and storage_path = $2",
        )
        .bind(task.id)
        .bind(&path)
        .execute(&mut tx)
        .await?;
        let report_id: Uuid = sqlx::query_scalar(
            "insert into public.analytics_reports
               (task_id, user_id, title, format, date_range_start, date_range_end, metrics,
                storage_path, size_bytes, data)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             returning id",
        )
        .bind(task.id)
        .bind(task.user_id)
        .bind(&task.title)
        .bind(format.as_str())
        .bind(range.start)
        .bind(range.end)
        .bind(&metrics)
        .bind(&path)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(&data)
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        ctx.log
            .info("Saved the report", Some(json!({ "reportId": report_id })))
            .await;

        Ok(json!({
            "reportId": report_id,
            "bucket": BUCKET,
            "path": path,
            "format": format.as_str(),
            "sizeBytes": size,
            "dateRange": { "start": range.start, "end": range.end },
            "metrics": metrics,
        }))
    }
}
