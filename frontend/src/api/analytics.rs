//! `analytics_metrics(start_date, end_date, metrics, time_zone)`.

use domain::{AnalyticsResult, DateRange, Metric};
use serde_json::json;

use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};

/// The caller's metrics over `range`, whose days are those of the reader's zone.
pub async fn metrics(
    api: &Api,
    range: DateRange,
    metrics: &[Metric],
) -> Result<AnalyticsResult, AppError> {
    api.row(
        ApiRequest::post(api.rest("rpc/analytics_metrics")).json(&json!({
            "start_date": range.start.to_string(),
            "end_date": range.end.to_string(),
            "metrics": metrics.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "time_zone": crate::i18n::current().time_zone,
        })),
    )
    .await
}
