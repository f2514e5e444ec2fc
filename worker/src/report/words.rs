//! The words of the reports, one table per language: English and Bahasa Indonesia (as an
//! Indonesian product writes it). A table is a struct literal, so a word missing from one
//! language does not compile; the tests check that none is left empty or untranslated.

use domain::{Metric, Trend};

pub use domain::Lang;

/// The words of `lang`.
pub const fn of(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Id => &ID,
    }
}

/// The Windows locale id that Excel number formats are tagged with (`[$Rp-421]`).
pub const fn excel_locale(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "409",
        Lang::Id => "421",
    }
}

/// Every word a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// Above the title of the PDF, and the workbook's subject.
    pub analytics_report: &'static str,
    /// The XLSX summary sheet.
    pub summary: &'static str,
    /// The PDF's totals table.
    pub totals: &'static str,
    /// The PDF's daily values table.
    pub daily_values: &'static str,
    /// Column headings.
    pub metric: &'static str,
    /// Column heading and label of totals.
    pub total: &'static str,
    /// Column heading: the change against the previous period.
    pub change: &'static str,
    /// Column heading.
    pub trend: &'static str,
    /// Column heading.
    pub date: &'static str,
    /// `Date range: 2024-03-01 to 2024-03-03 (3 days)`.
    pub date_range: &'static str,
    /// Between the two dates of a range.
    pub to: &'static str,
    /// One day.
    pub day: &'static str,
    /// Several days.
    pub days: &'static str,
    /// Before the generation time.
    pub generated_at: &'static str,
    /// Before the zone.
    pub time_zone: &'static str,
    /// Before the currency.
    pub currency: &'static str,
    /// `page 1 of 3`: the word before the number.
    pub page: &'static str,
    /// `page 1 of 3`: the word between the numbers.
    pub of: &'static str,
    /// After a metric's name on its chart (`Revenue per day`).
    pub per_day: &'static str,
    /// Under a chart: the compared period.
    pub against_previous_period: &'static str,
    /// A metric without any day.
    pub no_data: &'static str,
    /// Metric names.
    pub revenue: &'static str,
    /// Metric name.
    pub users: &'static str,
    /// Metric name.
    pub conversion: &'static str,
    /// Metric name.
    pub orders: &'static str,
    /// Metric name.
    pub visits: &'static str,
    /// Trend names.
    pub up: &'static str,
    /// Trend name.
    pub down: &'static str,
    /// Trend name.
    pub flat: &'static str,
}

/// English.
pub const EN: Words = Words {
    analytics_report: "Analytics report",
    summary: "Summary",
    totals: "Totals",
    daily_values: "Daily values",
    metric: "Metric",
    total: "Total",
    change: "Change",
    trend: "Trend",
    date: "Date",
    date_range: "Date range",
    to: "to",
    day: "day",
    days: "days",
    generated_at: "Generated at",
    time_zone: "Time zone",
    currency: "Currency",
    page: "page",
    of: "of",
    per_day: "per day",
    against_previous_period: "against the previous period",
    no_data: "No data in this range",
    revenue: "Revenue",
    users: "New users",
    conversion: "Conversion rate",
    orders: "Orders",
    visits: "Visits",
    up: "Up",
    down: "Down",
    flat: "Flat",
};

/// Bahasa Indonesia.
pub const ID: Words = Words {
    analytics_report: "Laporan Analitik",
    summary: "Ringkasan",
    totals: "Total",
    daily_values: "Nilai harian",
    metric: "Metrik",
    total: "Total",
    change: "Perubahan",
    trend: "Tren",
    date: "Tanggal",
    date_range: "Rentang tanggal",
    to: "sampai",
    day: "hari",
    days: "hari",
    generated_at: "Dibuat pada",
    time_zone: "Zona waktu",
    currency: "Mata uang",
    page: "halaman",
    of: "dari",
    per_day: "per hari",
    against_previous_period: "dibanding periode sebelumnya",
    no_data: "Tidak ada data pada rentang ini",
    revenue: "Pendapatan",
    users: "Pengguna baru",
    conversion: "Konversi",
    orders: "Pesanan",
    visits: "Pengunjung",
    up: "Naik",
    down: "Turun",
    flat: "Stabil",
};

impl Words {
    /// The name of `metric`.
    pub const fn metric_name(&self, metric: Metric) -> &'static str {
        match metric {
            Metric::Revenue => self.revenue,
            Metric::Users => self.users,
            Metric::Conversion => self.conversion,
            Metric::Orders => self.orders,
            Metric::Visits => self.visits,
        }
    }

    /// The name of `trend`.
    pub const fn trend_name(&self, trend: Trend) -> &'static str {
        match trend {
            Trend::Up => self.up,
            Trend::Down => self.down,
            Trend::Flat => self.flat,
        }
    }

    /// `3 days`, `1 day`, `3 hari`.
    pub fn day_count(&self, n: i64) -> String {
        format!("{n} {}", if n == 1 { self.day } else { self.days })
    }

    /// Every word with its field name, for the tests.
    #[cfg(test)]
    fn all(&self) -> Vec<(&'static str, &'static str)> {
        let Words {
            analytics_report,
            summary,
            totals,
            daily_values,
            metric,
            total,
            change,
            trend,
            date,
            date_range,
            to,
            day,
            days,
            generated_at,
            time_zone,
            currency,
            page,
            of,
            per_day,
            against_previous_period,
            no_data,
            revenue,
            users,
            conversion,
            orders,
            visits,
            up,
            down,
            flat,
        } = *self;
        vec![
            ("analytics_report", analytics_report),
            ("summary", summary),
            ("totals", totals),
            ("daily_values", daily_values),
            ("metric", metric),
            ("total", total),
            ("change", change),
            ("trend", trend),
            ("date", date),
            ("date_range", date_range),
            ("to", to),
            ("day", day),
            ("days", days),
            ("generated_at", generated_at),
            ("time_zone", time_zone),
            ("currency", currency),
            ("page", page),
            ("of", of),
            ("per_day", per_day),
            ("against_previous_period", against_previous_period),
            ("no_data", no_data),
            ("revenue", revenue),
            ("users", users),
            ("conversion", conversion),
            ("orders", orders),
            ("visits", visits),
            ("up", up),
            ("down", down),
            ("flat", flat),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that are the same in both languages, on purpose.
    const SAME: [&str; 1] = ["total"];

    #[test]
    fn both_languages_have_every_word() {
        let en = EN.all();
        let id = ID.all();
        assert_eq!(en.len(), id.len());
        for ((name, en), (_, id)) in en.iter().zip(&id) {
            assert!(!en.trim().is_empty(), "English lacks {name}");
            assert!(!id.trim().is_empty(), "Indonesian lacks {name}");
            if !SAME.contains(name) {
                assert_ne!(en, id, "{name} is not translated");
            }
        }
    }

    #[test]
    fn languages_from_preferences() {
        assert_eq!(of(Lang::Id).metric_name(Metric::Revenue), "Pendapatan");
        assert_eq!(of(Lang::Id).trend_name(Trend::Up), "Naik");
        assert_eq!(EN.day_count(1), "1 day");
        assert_eq!(ID.day_count(3), "3 hari");
    }

    #[test]
    fn sheet_names_are_valid_in_excel() {
        for words in [&EN, &ID] {
            for metric in Metric::ALL {
                let name = words.metric_name(*metric);
                assert!(name.chars().count() <= 31);
                assert!(!name.contains(['[', ']', ':', '*', '?', '/', '\\']));
                assert_ne!(name, words.summary);
            }
        }
    }
}
