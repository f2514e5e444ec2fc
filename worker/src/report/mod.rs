//! Report files built from the result of `analytics_metrics`: JSON (the result as is),
//! CSV, XLSX and PDF.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{AnalyticsResult, DateRange, Metric, MetricSeries, ReportFormat};

pub mod csv;
pub mod pdf;
pub mod xlsx;

/// "Days in Asia/Jakarta time, generated 2024-04-01 08:00 UTC": the line every format
/// carries under its title.
pub fn zone_line(report: &Report) -> String {
    format!(
        "Days in {} time, generated {}",
        report.time_zone,
        report.generated_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// What every format shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The title (the task's).
    pub title: String,
    /// The days measured.
    pub range: DateRange,
    /// When the numbers were computed.
    pub generated_at: DateTime<Utc>,
    /// The IANA zone whose local days the dates are (the task owner's).
    pub time_zone: String,
    /// The series, in the order the task asked for them.
    pub series: Vec<(Metric, MetricSeries)>,
}

impl Report {
    /// The report of `metrics` (in that order) from `result`; metrics missing from the
    /// result are left out.
    pub fn new(
        title: &str,
        range: DateRange,
        metrics: &[Metric],
        result: &AnalyticsResult,
    ) -> Self {
        Self {
            title: title.to_owned(),
            range,
            generated_at: result.generated_at,
            time_zone: result.time_zone.clone().unwrap_or_else(|| "UTC".to_owned()),
            series: metrics
                .iter()
                .filter_map(|metric| result.series(*metric).map(|s| (*metric, s.clone())))
                .collect(),
        }
    }

    /// Every date of the range that appears in a series, in order.
    pub fn dates(&self) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self
            .series
            .iter()
            .flat_map(|(_, s)| s.data_points.iter().map(|p| p.date))
            .collect();
        dates.sort_unstable();
        dates.dedup();
        dates
    }

    /// The value of `metric` on `date`.
    pub fn value(&self, index: usize, date: NaiveDate) -> Option<f64> {
        self.series
            .get(index)
            .and_then(|(_, s)| s.data_points.iter().find(|p| p.date == date))
            .map(|p| p.value)
    }
}

/// The file of `report` in `format`; JSON is `raw` (the function's result) pretty-printed.
pub fn render(
    report: &Report,
    format: ReportFormat,
    raw: &serde_json::Value,
) -> Result<Vec<u8>, String> {
    match format {
        ReportFormat::Json => serde_json::to_vec_pretty(raw).map_err(|e| e.to_string()),
        ReportFormat::Csv => csv::render(report),
        ReportFormat::Xlsx => xlsx::render(report),
        ReportFormat::Pdf => Ok(pdf::render(report)),
    }
}

/// A value for people: money with 2 decimals, rates as percent, counts as integers.
pub fn format_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Revenue => format_thousands(value, 2),
        Metric::Conversion => format!("{value:.2} %"),
        _ => format_thousands(value, 0),
    }
}

/// `1234567.5` → `1,234,567.50` (with 2 decimals).
pub fn format_thousands(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int.to_owned(), Some(frac.to_owned())),
        None => (text.clone(), None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match frac {
        Some(frac) => format!("{sign}{grouped}.{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `+12.5 %`, `-3.0 %`, `0.0 %`.
pub fn format_change(change: f64) -> String {
    if change > 0.0 {
        format!("+{change:.1} %")
    } else {
        format!("{change:.1} %")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use domain::{DataPoint, Trend};

    pub(crate) fn sample() -> Report {
        let start = NaiveDate::from_ymd_opt(2024, 3, 1).expect("date");
        let day = |n: u64| start.checked_add_days(chrono::Days::new(n)).expect("date");
        let points = |values: &[f64]| -> Vec<DataPoint> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| DataPoint {
                    date: day(i as u64),
                    value: *v,
                })
                .collect()
        };
        Report {
            title: "Q1 (test) report".into(),
            range: DateRange::new(start, day(2)).expect("range"),
            generated_at: DateTime::parse_from_rfc3339("2024-04-01T08:00:00Z")
                .expect("time")
                .with_timezone(&Utc),
            time_zone: "Asia/Jakarta".into(),
            series: vec![
                (
                    Metric::Revenue,
                    MetricSeries {
                        total: 1234.5,
                        trend: Trend::Up,
                        change: 12.5,
                        data_points: points(&[1000.0, 200.25, 34.25]),
                    },
                ),
                (
                    Metric::Orders,
                    MetricSeries {
                        total: 6.0,
                        trend: Trend::Down,
                        change: -25.0,
                        data_points: points(&[3.0, 2.0, 1.0]),
                    },
                ),
            ],
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_thousands(1234567.5, 2), "1,234,567.50");
        assert_eq!(format_thousands(999.0, 0), "999");
        assert_eq!(format_thousands(-1000.0, 0), "-1,000");
        assert_eq!(format_value(Metric::Conversion, 3.456), "3.46 %");
        assert_eq!(format_value(Metric::Orders, 12.0), "12");
        assert_eq!(format_change(12.5), "+12.5 %");
        assert_eq!(format_change(-3.0), "-3.0 %");
    }

    #[test]
    fn dates_cover_every_series() {
        let report = sample();
        assert_eq!(report.dates().len(), 3);
        assert_eq!(report.value(1, report.dates()[0]), Some(3.0));
    }
}
