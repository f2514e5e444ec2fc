//! The analytics shape returned by the SQL function
//! `analytics_metrics(start_date, end_date, metrics)`, and the arithmetic of its trends.
//!
//! ```json
//! {
//!   "metrics": {
//!     "revenue": {
//!       "total": 1234.5, "trend": "up", "change": 12.3,
//!       "dataPoints": [{"date": "2024-01-01", "value": 99.9}]
//!     }
//!   },
//!   "generatedAt": "2024-04-01T06:00:00Z"
//! }
//! ```
//!
//! # What each metric measures
//!
//! All are computed from the caller's `business_events` whose `occurred_at` falls on a
//! day of the range (UTC days), with one data point per day of the range, zero on days
//! without events.
//!
//! | metric       | daily value                                        | total                                   |
//! | ------------ | -------------------------------------------------- | --------------------------------------- |
//! | `revenue`    | sum of `amount` of `order` events                  | sum over the period                     |
//! | `orders`     | number of `order` events                           | sum over the period                     |
//! | `users`      | number of `signup` events                          | sum over the period                     |
//! | `visits`     | number of `visit` events                           | sum over the period                     |
//! | `conversion` | `conversion` events / `visit` events × 100 (0 when no visits) | all conversions / all visits × 100 over the whole period, **not** the sum of the daily rates |
//!
//! `change` compares the total with the total of the previous period of the same length
//! ([`crate::DateRange::previous`]), computed the same way; see [`compare`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::enums::string_enum;
use crate::Metric;

string_enum! {
    /// Which way a metric went compared with the previous period.
    pub enum Trend {
        kind = "trend",
        rename_all = "snake_case",
        /// Changed by more than +0.5 %.
        Up = "up" => "Up",
        /// Changed by more than -0.5 %.
        Down = "down" => "Down",
        /// Within ±0.5 %.
        Flat = "flat" => "Flat",
    }
}

/// The whole result of `analytics_metrics`: one series per requested metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsResult {
    /// The series, keyed by metric.
    pub metrics: BTreeMap<Metric, MetricSeries>,
    /// When the numbers were computed.
    pub generated_at: DateTime<Utc>,
    /// The IANA zone whose days the series are (`"Asia/Jakarta"`); absent from results
    /// of databases before the time-zone-aware `analytics_metrics`, which counted UTC days.
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl AnalyticsResult {
    /// The series of `metric`, if it was requested.
    pub fn series(&self, metric: Metric) -> Option<&MetricSeries> {
        self.metrics.get(&metric)
    }
}

/// One metric over the requested period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSeries {
    /// The value over the whole period (a sum, or for `conversion` a rate in percent).
    pub total: f64,
    /// Which way `change` points.
    pub trend: Trend,
    /// Percent change of `total` against the previous period of the same length,
    /// rounded to one decimal.
    pub change: f64,
    /// One value per day of the period, in date order.
    #[serde(default)]
    pub data_points: Vec<DataPoint>,
}

/// The value of a metric on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataPoint {
    /// The day (UTC).
    pub date: NaiveDate,
    /// The value that day.
    pub value: f64,
}

/// Total, trend and change of an additive metric (everything but `conversion`): the
/// total is the sum of the points, compared with `previous_total` by [`compare`].
///
/// For `conversion`, compute the period's rate with [`rate_percent`] and call
/// [`compare`] directly: the sum of daily rates means nothing.
pub fn summarize(points: &[DataPoint], previous_total: f64) -> (f64, Trend, f64) {
    let total: f64 = points.iter().map(|point| point.value).sum();
    let (trend, change) = compare(total, previous_total);
    (total, trend, change)
}

/// The trend and percent change from `previous_total` to `total`.
///
/// `change = (total - previous) / |previous| * 100`, rounded to one decimal; when the
/// previous total is 0 it is 0 if the total is 0 too, 100 if the total is positive
/// (-100 if negative). The trend is `up` when the rounded change is above 0.5, `down`
/// below -0.5, `flat` otherwise. (Dividing by `|previous|` only matters for negative
/// totals, e.g. refunds exceeding sales: growth then still reads as `up`.)
pub fn compare(total: f64, previous_total: f64) -> (Trend, f64) {
    let change = if previous_total == 0.0 {
        if total > 0.0 {
            100.0
        } else if total < 0.0 {
            -100.0
        } else {
            0.0
        }
    } else {
        round_to_tenth((total - previous_total) / previous_total.abs() * 100.0)
    };
    let trend = if change > 0.5 {
        Trend::Up
    } else if change < -0.5 {
        Trend::Down
    } else {
        Trend::Flat
    };
    (trend, change)
}

/// `part / whole * 100`, or 0 when `whole` is 0: the conversion rate from conversions
/// and visits.
pub fn rate_percent(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        0.0
    } else {
        part / whole * 100.0
    }
}

fn round_to_tenth(value: f64) -> f64 {
    let rounded = (value * 10.0).round() / 10.0;
    // No "-0.0" in the JSON.
    if rounded == 0.0 {
        0.0
    } else {
        rounded
    }
}

/// A "nice" step (1, 2 or 5 × 10ⁿ) of at least `raw`: the grid of the SPA's charts and
/// of the PDF reports' charts.
pub fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    // The power of ten at or below `raw`, by steps (no `powf`/`log10`: they would bring libm into the SPA's wasm).
    let mut magnitude = 1.0;
    while magnitude * 10.0 <= raw {
        magnitude *= 10.0;
    }
    while magnitude > raw && magnitude > 0.0 {
        magnitude /= 10.0;
    }
    if magnitude <= 0.0 {
        return 1.0;
    }
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn points(values: &[f64]) -> Vec<DataPoint> {
        values
            .iter()
            .enumerate()
            .map(|(day, &value)| DataPoint {
                date: NaiveDate::from_ymd_opt(2024, 1, 1 + u32::try_from(day).expect("small"))
                    .expect("a real date"),
                value,
            })
            .collect()
    }

    #[test]
    fn summarize_sums_and_compares() {
        assert_eq!(
            summarize(&points(&[10.0, 20.0, 30.0]), 50.0),
            (60.0, Trend::Up, 20.0)
        );
        assert_eq!(
            summarize(&points(&[10.0, 20.0]), 40.0),
            (30.0, Trend::Down, -25.0)
        );
        assert_eq!(
            summarize(&points(&[100.0]), 100.0),
            (100.0, Trend::Flat, 0.0)
        );
    }

    #[test]
    fn change_is_rounded_to_one_decimal() {
        assert_eq!(compare(1.0, 3.0), (Trend::Down, -66.7));
        assert_eq!(compare(2.0, 3.0), (Trend::Down, -33.3));
        assert_eq!(compare(1001.0, 1000.0), (Trend::Flat, 0.1));
    }

    #[test]
    fn trend_thresholds_are_half_a_percent() {
        assert_eq!(compare(100.5, 100.0), (Trend::Flat, 0.5));
        assert_eq!(compare(100.6, 100.0), (Trend::Up, 0.6));
        assert_eq!(compare(99.5, 100.0), (Trend::Flat, -0.5));
        assert_eq!(compare(99.4, 100.0), (Trend::Down, -0.6));
        // 0.54 % rounds to 0.5: flat.
        assert_eq!(compare(100.54, 100.0), (Trend::Flat, 0.5));
        // A tiny decrease rounds to 0, never "-0".
        let (_, change) = compare(99.99, 100.0);
        assert!(change == 0.0 && change.is_sign_positive());
    }

    #[test]
    fn from_zero() {
        assert_eq!(summarize(&[], 0.0), (0.0, Trend::Flat, 0.0));
        assert_eq!(
            summarize(&points(&[0.0, 0.0]), 0.0),
            (0.0, Trend::Flat, 0.0)
        );
        assert_eq!(summarize(&points(&[5.0]), 0.0), (5.0, Trend::Up, 100.0));
        assert_eq!(compare(-5.0, 0.0), (Trend::Down, -100.0));
        assert_eq!(summarize(&[], 10.0), (0.0, Trend::Down, -100.0));
    }

    #[test]
    fn negative_previous_total() {
        // From -100 (refunds) to -50 is an improvement.
        assert_eq!(compare(-50.0, -100.0), (Trend::Up, 50.0));
    }

    #[test]
    fn conversion_rate() {
        assert_eq!(rate_percent(5.0, 200.0), 2.5);
        assert_eq!(rate_percent(3.0, 0.0), 0.0);
    }

    #[test]
    fn analytics_result_json_round_trips() {
        let value = json!({
            "metrics": {
                "revenue": {
                    "total": 60.5, "trend": "up", "change": 12.3,
                    "dataPoints": [{"date": "2024-01-01", "value": 60.5}]
                },
                "conversion": {"total": 2.5, "trend": "flat", "change": 0, "dataPoints": []}
            },
            "generatedAt": "2024-04-01T06:00:00.123456+00:00"
        });
        let result: AnalyticsResult = serde_json::from_value(value).expect("deserializes");
        let revenue = result.series(Metric::Revenue).expect("requested");
        assert_eq!(revenue.trend, Trend::Up);
        assert_eq!(revenue.data_points.len(), 1);
        assert_eq!(revenue.data_points[0].value, 60.5);
        assert_eq!(
            result.series(Metric::Conversion).map(|s| s.change),
            Some(0.0)
        );
        assert_eq!(result.series(Metric::Users), None);

        let back = serde_json::to_value(&result).expect("serializes");
        assert_eq!(
            back["metrics"]["revenue"]["dataPoints"][0]["date"],
            "2024-01-01"
        );
        assert_eq!(back["generatedAt"], "2024-04-01T06:00:00.123456Z");
        let again: AnalyticsResult = serde_json::from_value(back).expect("deserializes");
        assert_eq!(again, result);
    }

    #[test]
    fn trend_round_trips() {
        for &trend in Trend::ALL {
            assert_eq!(trend.to_string().parse::<Trend>().expect("parses"), trend);
            assert_eq!(
                serde_json::to_value(trend).expect("serializes"),
                json!(trend.as_str())
            );
        }
        assert_eq!(Trend::VALUES, ["up", "down", "flat"]);
    }
}

#[cfg(test)]
mod nice_step_tests {
    use super::nice_step;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(0.03), 0.05);
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(1000.0), 1000.0);
        assert_eq!(nice_step(12.0), 20.0);
        assert_eq!(nice_step(12_345_678.0), 20_000_000.0);
        assert_eq!(nice_step(13.0), 20.0);
        assert_eq!(nice_step(1_234_567.0 / 4.0), 500_000.0);
        assert_eq!(nice_step(260.0), 500.0);
        assert_eq!(nice_step(3.0), 5.0);
    }
}
