//! `analytics_report`: metrics over a date range for the task's owner (the SQL function
//! `analytics_metrics`), written as json / csv / xlsx / pdf, uploaded to the `reports`
//! bucket at `<user_id>/<task_id>/report.<ext>`, and recorded in `analytics_reports`.
//!
//! The report is the owner's: in their language (`profiles.preferences->>'language'`,
//! `en` when absent), with days of their zone (`preferences->>'timezone'`; absent or
//! unknown → UTC, passed to `analytics_metrics` explicitly) and amounts in the
//! `currency` system setting (IDR by default).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
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
        let data: Value = sqlx::query_scalar("select public.analytics_metrics($1, $2, $3, $4, $5)")
            .bind(range.start)
            .bind(range.end)
            .bind(&metrics)
            .bind(task.user_id)
            .bind(&owner.zone)
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
    let (language, zone, currency): (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as(
            "select p.preferences ->> 'language',
                    (select z.name from private.time_zone_names z
                      where z.name = nullif(btrim(p.preferences ->> 'timezone'), '')),
                    (select s.value #>> '{}' from public.system_settings s
                      where s.key = 'currency' and jsonb_typeof(s.value) = 'string')
               from (select 1) as one
               left join public.profiles p on p.id = $1",
        )
        .bind(owner)
        .fetch_one(db)
        .await?;
    Ok(OwnerPreferences {
        lang: Lang::of_preference(language.as_deref()),
        zone: zone.unwrap_or_else(|| "UTC".to_owned()),
        currency: Currency::from_code(currency.as_deref()),
    })
}

/// `zone` at `at` from PostgreSQL's time zone database: the abbreviation (`to_char` with
/// `TZ` reads the session's zone, hence the local setting in a transaction of its own),
/// the offset and the local time.
async fn zone_stamp(db: &Db, zone: &str, at: DateTime<Utc>) -> Result<ZoneStamp, TaskError> {
    let mut tx = db.begin().await?;
    sqlx::query("select set_config('TimeZone', $1, true)")
        .bind(zone)
        .execute(&mut tx)
        .await?;
    let (abbreviation, offset, local): (String, i32, NaiveDateTime) = sqlx::query_as(
        "select to_char($1::timestamptz, 'TZ'),
                extract(timezone from $1::timestamptz)::int,
                $1::timestamptz at time zone $2",
    )
    .bind(at)
    .bind(zone)
    .fetch_one(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(ZoneStamp::new(zone, &abbreviation, offset, local))
}
