//! Report files built from the result of `analytics_metrics`: JSON (the result as is),
//! CSV, XLSX and PDF.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{AnalyticsResult, DateRange, Metric, MetricSeries, ReportFormat};

pub mod csv;
pub mod json;
pub mod number;
pub mod pdf;
mod pdf_chart;
pub mod words;
pub mod xlsx;
pub mod zone;

pub use number::Currency;
pub use words::{Lang, Words};
pub use zone::ZoneStamp;

/// Whom a report is written for: the owner's language, the currency of amounts and the
/// owner's zone (at the generation time).
#[derive(Debug, Clone, PartialEq)]
pub struct Locale {
    /// The language of headings and numbers.
    pub lang: Lang,
    /// The currency of revenue.
    pub currency: Currency,
    /// The zone whose local days the dates are.
    pub zone: ZoneStamp,
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
    /// Language, currency and zone.
    pub locale: Locale,
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
        locale: Locale,
    ) -> Self {
        Self {
            title: title.to_owned(),
            range,
            generated_at: result.generated_at,
            locale,
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

    /// The words of the report's language.
    pub fn words(&self) -> &'static Words {
        words::of(self.locale.lang)
    }

    /// A value of `metric` for people, in the report's language and currency.
    pub fn show(&self, metric: Metric, value: f64) -> String {
        number::value(metric, value, &self.locale.currency, self.locale.lang)
    }

    /// `Date range: 2024-03-01 to 2024-03-03 (3 days)`, in the report's language.
    pub fn range_line(&self) -> String {
        let words = self.words();
        format!(
            "{}: {} {} {} ({})",
            words.date_range,
            self.range.start.format("%Y-%m-%d"),
            words.to,
            self.range.end.format("%Y-%m-%d"),
            words.day_count(self.range.days())
        )
    }

    /// `Time zone: Asia/Jakarta (WIB, UTC+7)`.
    pub fn zone_line(&self) -> String {
        format!("{}: {}", self.words().time_zone, self.locale.zone.label())
    }

    /// `Generated at: 2024-04-01 15:00 WIB`.
    pub fn generated_line(&self) -> String {
        format!(
            "{}: {}",
            self.words().generated_at,
            self.locale.zone.generated_label()
        )
    }

    /// `Currency: IDR (Rp)`.
    pub fn currency_line(&self) -> String {
        let currency = &self.locale.currency;
        if currency.symbol == currency.code {
            format!("{}: {}", self.words().currency, currency.code)
        } else {
            format!(
                "{}: {} ({})",
                self.words().currency,
                currency.code,
                currency.symbol
            )
        }
    }
}

/// The file of `report` in `format`; JSON is `raw` (the function's result) with the
/// report's locale and words added.
pub fn render(
    report: &Report,
    format: ReportFormat,
    raw: &serde_json::Value,
) -> Result<Vec<u8>, String> {
    match format {
        ReportFormat::Json => json::render(report, raw),
        ReportFormat::Csv => csv::render(report),
        ReportFormat::Xlsx => xlsx::render(report),
        ReportFormat::Pdf => pdf::render(report),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use domain::{DataPoint, Trend};

    /// Two metrics over three days in Jakarta, in `lang`, amounts in rupiah.
    pub(crate) fn sample_in(lang: Lang) -> Report {
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
            locale: Locale {
                lang,
                currency: Currency::from_code(Some("IDR")),
                zone: ZoneStamp::new(
                    "Asia/Jakarta",
                    "WIB",
                    7 * 3600,
                    NaiveDate::from_ymd_opt(2024, 4, 1)
                        .and_then(|d| d.and_hms_opt(15, 0, 0))
                        .expect("time"),
                ),
            },
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

    /// Every metric over the 366 days of 2024, with values that vary, in `lang`.
    pub(crate) fn year_in(lang: Lang) -> Report {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
        let end = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
        let mut report = sample_in(lang);
        report.range = DateRange::new(start, end).expect("range");
        report.series = Metric::ALL
            .iter()
            .enumerate()
            .map(|(m, metric)| {
                let data_points: Vec<DataPoint> = start
                    .iter_days()
                    .take_while(|d| *d <= end)
                    .enumerate()
                    .map(|(i, date)| DataPoint {
                        date,
                        value: ((i * 7919 + m * 104_729) % 1000) as f64 * 1234.5,
                    })
                    .collect();
                let series = MetricSeries {
                    total: data_points.iter().map(|p| p.value).sum(),
                    trend: Trend::Up,
                    change: 3.5,
                    data_points,
                };
                (*metric, series)
            })
            .collect();
        report
    }

    /// [`sample_in`] English.
    pub(crate) fn sample() -> Report {
        sample_in(Lang::En)
    }

    #[test]
    fn lines_in_both_languages() {
        let en = sample();
        assert_eq!(
            en.range_line(),
            "Date range: 2024-03-01 to 2024-03-03 (3 days)"
        );
        assert_eq!(en.zone_line(), "Time zone: Asia/Jakarta (WIB, UTC+7)");
        assert_eq!(en.generated_line(), "Generated at: 2024-04-01 15:00 WIB");
        assert_eq!(en.currency_line(), "Currency: IDR (Rp)");
        assert_eq!(en.show(Metric::Revenue, 1234.5), "Rp 1,234.50");
        let id = sample_in(Lang::Id);
        assert_eq!(
            id.range_line(),
            "Rentang tanggal: 2024-03-01 sampai 2024-03-03 (3 hari)"
        );
        assert_eq!(id.zone_line(), "Zona waktu: Asia/Jakarta (WIB, UTC+7)");
        assert_eq!(id.generated_line(), "Dibuat pada: 2024-04-01 15:00 WIB");
        assert_eq!(id.currency_line(), "Mata uang: IDR (Rp)");
        assert_eq!(id.show(Metric::Revenue, 1_234_567.0), "Rp 1.234.567");
    }

    #[test]
    fn dates_cover_every_series() {
        let report = sample();
        assert_eq!(report.dates().len(), 3);
        assert_eq!(report.value(1, report.dates()[0]), Some(3.0));
    }
}
