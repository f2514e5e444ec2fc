//! `analytics_report`: metrics over a date range for the task's owner (the SQL function
//! `analytics_metrics`), written as json / csv / xlsx / pdf, uploaded to the `reports`
//! bucket at `<user_id>/<task_id>/report.<ext>`, and recorded in `analytics_reports`.
//!
//! The report is the owner's: in their language (`profiles.preferences->>'language'`,
//! `en` when absent), with days of their zone (`preferences->>'timezone'`; absent or
//! unknown → UTC, passed to `analytics_metrics` explicitly) and amounts in the
//! `currency` system setting (IDR by default).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{AnalyticsResult, TaskParameters};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{wrong_parameters, HandlerContext, TaskHandler};
use crate::db::Db;
use crate::error::TaskError;
use crate::report::{self, Currency, Lang, Locale, Report, ZoneStamp};
use crate::text::{Labels, Run, Text};

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
                Text::new(Run::ReportComputing)
                    .labels(
                        "metrics",
                        Labels::Metric,
                        &metrics.iter().map(String::as_str).collect::<Vec<_>>(),
                    )
                    .date("start", range.start)
                    .date("end", range.end),
                Some(json!({ "metrics": metrics, "format": params.format.as_str() })),
            )
            .await;
        ctx.progress.set(10).await;
        let owner = owner_preferences(&ctx.db, task.user_id).await?;
        let data: Value = sqlx::query_file_scalar!(
            "queries/analytics_for_report.sql",
            range.start,
            range.end,
            &metrics,
            task.user_id,
            &owner.zone
        )
        .fetch_one(&ctx.db)
        .await?;
        ctx.check_cancelled()?;
        let result: AnalyticsResult = serde_json::from_value(data.clone()).map_err(|error| {
            TaskError::permanent(Text::new(Run::ReportUnreadable).raw("detail", error))
        })?;
        ctx.progress.set(40).await;

        let locale = Locale {
            lang: owner.lang,
            currency: owner.currency,
            zone: zone_stamp(&ctx.db, &owner.zone, result.generated_at).await?,
        };
        let report = Report::new(&task.title, range, &params.metrics, &result, locale);
        let format = params.format;
        let bytes = report::render(&report, format, &data)
            .map_err(|error| TaskError::permanent(Text::detail(error)))?;
        let size = bytes.len() as u64;
        ctx.log
            .info(
                Text::new(Run::ReportBuilt)
                    .raw("format", format.label())
                    .bytes("size", size)
                    .text(
                        "language",
                        match report.locale.lang {
                            Lang::En => Run::LanguageEn,
                            Lang::Id => Run::LanguageId,
                        },
                    )
                    .raw("zone", report.locale.zone.label())
                    .raw("currency", &report.locale.currency.code),
                Some(json!({
                    "sizeBytes": size,
                    "language": report.locale.lang.code(),
                    "timeZone": report.locale.zone.name,
                    "currency": report.locale.currency.code,
                })),
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
                Text::new(Run::Uploaded).raw("path", format!("{BUCKET}/{path}")),
                Some(json!({ "bucket": BUCKET, "path": path })),
            )
            .await;
        ctx.progress.set(85).await;

        // One row per task and file: a retried attempt replaces its earlier row.
        let mut tx = ctx.db.begin().await?;
        sqlx::query_file!("queries/delete_report_row.sql", task.id, &path)
            .execute(&mut tx)
            .await?;
        let report_id: Uuid = sqlx::query_file_scalar!(
            "queries/insert_report_row.sql",
            task.id,
            task.user_id,
            &task.title,
            format.as_str(),
            range.start,
            range.end,
            &metrics,
            &path,
            i64::try_from(size).unwrap_or(i64::MAX),
            &data
        )
        .fetch_one(&mut tx)
        .await?;
        tx.commit().await?;
        ctx.log
            .info(Run::ReportSaved, Some(json!({ "reportId": report_id })))
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

/// What the report needs to know of its owner and the system.
struct OwnerPreferences {
    lang: Lang,
    /// A zone PostgreSQL knows (the owner's, else `UTC`).
    zone: String,
    currency: Currency,
}

/// The owner's language and zone, and the currency setting, in one query. A zone the
/// database does not know (a stale or hand-edited preference) becomes UTC rather than
/// failing the report.
async fn owner_preferences(db: &Db, owner: Uuid) -> Result<OwnerPreferences, TaskError> {
    let row = sqlx::query_file!("queries/owner_preferences.sql", owner)
        .fetch_one(db)
        .await?;
    Ok(OwnerPreferences {
        lang: Lang::of_preference(row.language.as_deref()),
        zone: row.zone.unwrap_or_else(|| "UTC".to_owned()),
        currency: Currency::from_code(row.currency.as_deref()),
    })
}

/// `zone` at `at` from PostgreSQL's time zone database: the abbreviation (`to_char` with
/// `TZ` reads the session's zone, hence the local setting in a transaction of its own),
/// the offset and the local time.
async fn zone_stamp(db: &Db, zone: &str, at: DateTime<Utc>) -> Result<ZoneStamp, TaskError> {
    let mut tx = db.begin().await?;
    sqlx::query_file!("queries/set_time_zone.sql", zone)
        .fetch_one(&mut tx)
        .await?;
    let row = sqlx::query_file!("queries/zone_stamp.sql", at, zone)
        .fetch_one(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(ZoneStamp::new(
        zone,
        &row.abbreviation,
        row.offset,
        row.local,
    ))
}
