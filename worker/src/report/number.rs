//! Numbers for people, in the reader's language (the worker has no Intl): Indonesian
//! groups with `.` and writes decimals after `,` (`1.234.567,5`), English the other way
//! round (`1,234,567.5`). Money carries the currency's symbol (`Rp 1.234.567`,
//! `$1,234,567.00`), and the Excel number formats that show the same in a workbook.

use domain::Metric;

use super::words::Lang;

/// The currency of amounts (`system_settings.currency`, ISO 4217).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// `IDR`.
    pub code: String,
    /// `Rp`, `$`, or the code itself for currencies not in the table.
    pub symbol: String,
    /// Decimals shown when an amount is whole in them: IDR 0, USD 2.
    pub decimals: usize,
}

impl Currency {
    /// The currency of an ISO 4217 code; an unknown or malformed code falls back to IDR
    /// (the setting's default), a well-formed one not in the table is written by its code.
    pub fn from_code(code: Option<&str>) -> Self {
        let code = code
            .map(str::trim)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
            .unwrap_or("IDR");
        let (symbol, decimals) = match code {
            "IDR" => ("Rp", 0),
            "USD" => ("$", 2),
            "EUR" => ("€", 2),
            "GBP" => ("£", 2),
            "JPY" => ("¥", 0),
            "SGD" => ("S$", 2),
            "MYR" => ("RM", 2),
            "AUD" => ("A$", 2),
            "KRW" => ("₩", 0),
            "VND" => ("₫", 0),
            other => (other, 2),
        };
        Self {
            code: code.to_owned(),
            symbol: symbol.to_owned(),
            decimals,
        }
    }

    /// A space between symbol and number when the symbol ends in a letter (`Rp 5`, `$5`).
    pub(crate) fn gap(&self) -> &'static str {
        if self.symbol.chars().last().is_some_and(char::is_alphabetic) {
            " "
        } else {
            ""
        }
    }

    /// The decimals `value` is shown with: the currency's, or 2 when it has cents the
    /// currency's would hide (`Rp 170,50`, never a rounded `Rp 171`).
    fn decimals_for(&self, value: f64) -> usize {
        let cents = (value.abs() * 100.0).round();
        if self.decimals < 2 && cents % 100.0 != 0.0 {
            2
        } else {
            self.decimals
        }
    }
}

/// `value` with `decimals` fixed decimals, grouped in `lang`'s way.
pub fn fixed(value: f64, decimals: usize, lang: Lang) -> String {
    let (group, point) = match lang {
        Lang::En => (',', '.'),
        Lang::Id => ('.', ','),
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    if value < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(point);
        out.push_str(frac);
    }
    out
}

/// `value` with at most `max_decimals` decimals, trailing zeros dropped: `1.234.567,5`.
pub fn number(value: f64, max_decimals: usize, lang: Lang) -> String {
    let text = fixed(value, max_decimals, lang);
    let point = match lang {
        Lang::En => '.',
        Lang::Id => ',',
    };
    if max_decimals == 0 {
        return text;
    }
    text.trim_end_matches('0')
        .trim_end_matches(point)
        .to_owned()
}

/// An amount: `Rp 1.234.567`, `Rp 170,50`, `$1,234,567.00`, `-Rp 5`.
pub fn money(value: f64, currency: &Currency, lang: Lang) -> String {
    let digits = fixed(value.abs(), currency.decimals_for(value), lang);
    let sign = if value < 0.0 && digits.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    format!("{sign}{}{}{digits}", currency.symbol, currency.gap())
}

/// A value of `metric`: money, a rate in percent (`16,67 %`), a count (`1.234`).
pub fn value(metric: Metric, value: f64, currency: &Currency, lang: Lang) -> String {
    match metric {
        Metric::Revenue => money(value, currency, lang),
        Metric::Conversion => format!("{} %", fixed(value, 2, lang)),
        _ => number(value, 2, lang),
    }
}

/// A change in percent: `+12,5 %`, `-3.0 %`, `0.0 %`.
pub fn change(change: f64, lang: Lang) -> String {
    let text = fixed(change, 1, lang);
    if change > 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        format!("+{text} %")
    } else {
        format!("{text} %")
    }
}

/// The Excel number format of `metric`'s values. Format codes always write `,` for the
/// grouping and `.` for the decimal point; Excel shows the reader's separators, and the
/// `[$Rp-421]` tag gives the symbol and the locale (0x421 Indonesian, 0x409 English US).
pub fn excel_format(metric: Metric, currency: &Currency, lang: Lang) -> String {
    match metric {
        Metric::Revenue => {
            let digits = if currency.decimals == 0 {
                "#,##0"
            } else {
                "#,##0.00"
            };
            // No symbol in the table has a `-` or `]`, which would end the tag.
            format!(
                "[${}-{}]{}{digits}",
                currency.symbol,
                super::words::excel_locale(lang),
                currency.gap()
            )
        }
        Metric::Conversion => "0.00\" %\"".to_owned(),
        _ => "#,##0".to_owned(),
    }
}

/// The Excel format of changes in percent.
pub const EXCEL_CHANGE: &str = "+0.0\" %\";-0.0\" %\";0.0\" %\"";

/// The Excel format of dates: ISO in English, day/month/year in Indonesian.
pub fn excel_date(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "yyyy-mm-dd",
        Lang::Id => "dd/mm/yyyy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idr() -> Currency {
        Currency::from_code(Some("IDR"))
    }

    #[test]
    fn grouping_follows_the_language() {
        assert_eq!(number(1_234_567.5, 2, Lang::Id), "1.234.567,5");
        assert_eq!(number(1_234_567.5, 2, Lang::En), "1,234,567.5");
        assert_eq!(number(1_234_567.0, 2, Lang::Id), "1.234.567");
        assert_eq!(number(999.0, 0, Lang::En), "999");
        assert_eq!(number(0.0, 2, Lang::Id), "0");
        assert_eq!(fixed(-1000.0, 0, Lang::En), "-1,000");
        assert_eq!(fixed(-0.001, 2, Lang::En), "0.00");
        assert_eq!(fixed(1234.5, 2, Lang::Id), "1.234,50");
        assert_eq!(fixed(123.0, 0, Lang::Id), "123");
        assert_eq!(fixed(100_000.0, 0, Lang::Id), "100.000");
    }

    #[test]
    fn money_has_its_symbol() {
        assert_eq!(money(1_234_567.0, &idr(), Lang::Id), "Rp 1.234.567");
        assert_eq!(money(170.5, &idr(), Lang::Id), "Rp 170,50");
        assert_eq!(money(170.5, &idr(), Lang::En), "Rp 170.50");
        let usd = Currency::from_code(Some("USD"));
        assert_eq!(money(1_234_567.0, &usd, Lang::En), "$1,234,567.00");
        assert_eq!(money(-5.0, &usd, Lang::En), "-$5.00");
        let chf = Currency::from_code(Some("CHF"));
        assert_eq!(money(5.0, &chf, Lang::En), "CHF 5.00");
        assert_eq!(Currency::from_code(Some("rupiah")).code, "IDR");
        assert_eq!(Currency::from_code(None).symbol, "Rp");
    }

    #[test]
    fn values_and_changes() {
        let c = idr();
        assert_eq!(value(Metric::Conversion, 16.666, &c, Lang::Id), "16,67 %");
        assert_eq!(value(Metric::Conversion, 3.456, &c, Lang::En), "3.46 %");
        assert_eq!(value(Metric::Orders, 1234.0, &c, Lang::Id), "1.234");
        assert_eq!(change(12.5, Lang::Id), "+12,5 %");
        assert_eq!(change(-3.0, Lang::En), "-3.0 %");
        assert_eq!(change(0.0, Lang::En), "0.0 %");
    }

    #[test]
    fn excel_formats_carry_symbol_and_locale() {
        let c = idr();
        assert_eq!(
            excel_format(Metric::Revenue, &c, Lang::Id),
            "[$Rp-421] #,##0"
        );
        let usd = Currency::from_code(Some("USD"));
        assert_eq!(
            excel_format(Metric::Revenue, &usd, Lang::En),
            "[$$-409]#,##0.00"
        );
        assert_eq!(excel_format(Metric::Orders, &c, Lang::Id), "#,##0");
    }
}
