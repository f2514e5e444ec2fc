//! Numbers and dates for people.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// `value` rounded to `decimals` places (at most 9), trailing zeros dropped: `12.5`, `3`,
/// `-0.25` — what `{}` prints for the rounded value.
///
/// Integer arithmetic only: Rust's float formatting (Grisu, Dragon and their tables) stays
/// out of the wasm.
pub fn decimal(value: f64, decimals: usize) -> String {
    let (negative, int, frac) = split(value, decimals);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&int.to_string());
    push_fraction(&mut out, &frac);
    out
}

/// `1234567.8` → `1,234,568`; below 100 with up to `decimals` decimals.
pub fn number(value: f64, decimals: usize) -> String {
    let (negative, int, frac) = split(value, decimals);
    let int = int.to_string();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    push_fraction(&mut out, &frac);
    out
}

/// `value` with exactly one decimal: `2.0`, `12.5` (non-negative values).
pub fn tenths(value: f64) -> String {
    let tenths = (value.max(0.0) * 10.0).round() as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Sign, integer part and fraction digits (trailing zeros dropped) of `value` rounded to
/// `decimals` places. Non-finite values read as 0.
fn split(value: f64, decimals: usize) -> (bool, u64, String) {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals as u32);
    let value = if value.is_finite() { value } else { 0.0 };
    // `as` saturates: absurdly large values stop at u64::MAX instead of wrapping.
    let scaled = (value.abs() * scale as f64).round() as u64;
    let mut frac = if decimals == 0 {
        String::new()
    } else {
        format!("{:0width$}", scaled % scale, width = decimals)
    };
    while frac.ends_with('0') {
        frac.pop();
    }
    (value < 0.0 && scaled != 0, scaled / scale, frac)
}

fn push_fraction(out: &mut String, frac: &str) {
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
}

/// Compact axis labels: `1.2k`, `3.4M`.
pub fn compact(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1_000_000.0 {
        format!("{}M", number(value / 1_000_000.0, 1))
    } else if abs >= 10_000.0 {
        format!("{}k", number(value / 1000.0, 0))
    } else if abs >= 1000.0 {
        format!("{}k", number(value / 1000.0, 1))
    } else {
        number(value, 1)
    }
}

/// `2024-04-01 06:00 UTC`.
pub fn datetime(at: &DateTime<Utc>) -> String {
    format!(
        "{} {:02}:{:02} UTC",
        at.date_naive(),
        at.hour(),
        at.minute()
    )
}

/// `06:00:12` (UTC).
pub fn time_of_day(at: &DateTime<Utc>) -> String {
    format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
}

/// `Apr 1`: a chart label.
pub fn month_day(date: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.get(date.month0() as usize).copied().unwrap_or("");
    format!("{month} {}", date.day())
}

/// `5 s ago`, `3 min ago`, `2 h ago`, `4 days ago`.
pub fn ago(at: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - *at).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        86_400..=172_799 => "1 day ago".to_owned(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// A duration in milliseconds: `850 ms`, `2.4 s`, `3 min 5 s`.
pub fn duration_ms(ms: i64) -> String {
    match ms {
        ..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{}.{} s", (ms + 50) / 1000, (ms + 50) % 1000 / 100),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// "2.4 MB".
pub fn human_size(bytes: Option<i64>) -> String {
    let Some(bytes) = bytes else {
        return "—".into();
    };
    let whole = bytes.max(0);
    // Plain bytes from the integer: `{}` of an `f64` would link core's float formatting.
    let bytes = whole as f64;
    if whole < 1024 {
        format!("{whole} B")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{} KB", tenths(bytes / 1024.0))
    } else {
        format!("{} MB", tenths(bytes / 1024.0 / 1024.0))
    }
}

/// Now, from the browser's clock.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn numbers_are_grouped() {
        assert_eq!(number(1_234_567.8, 0), "1,234,568");
        assert_eq!(number(12.5, 1), "12.5");
        assert_eq!(number(12.0, 2), "12");
        assert_eq!(number(-1500.0, 0), "-1,500");
        assert_eq!(compact(12_345.0), "12k");
        assert_eq!(compact(1_500.0), "1.5k");
        assert_eq!(compact(2_500_000.0), "2.5M");
        assert_eq!(duration_ms(2400), "2.4 s");
        assert_eq!(duration_ms(2000), "2.0 s");
        assert_eq!(duration_ms(59_960), "60.0 s");
        assert_eq!(number(-0.001, 2), "0");
        assert_eq!(number(0.125, 2), "0.13");
        assert_eq!(number(f64::NAN, 1), "0");
        assert_eq!(decimal(12.0, 1), "12");
        assert_eq!(decimal(-3.25, 1), "-3.3");
        assert_eq!(decimal(0.05, 1), "0.1");
        assert_eq!(tenths(2.0), "2.0");
        assert_eq!(tenths(1.26), "1.3");
    }

    #[wasm_bindgen_test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(None), "—");
        assert_eq!(human_size(Some(-5)), "0 B");
        assert_eq!(human_size(Some(512)), "512 B");
        assert_eq!(human_size(Some(1023)), "1023 B");
        assert_eq!(human_size(Some(1536)), "1.5 KB");
        assert_eq!(human_size(Some(5 * 1024 * 1024 / 2)), "2.5 MB");
    }

    #[wasm_bindgen_test]
    fn dates_and_times_read_well() {
        let at = DateTime::parse_from_rfc3339("2024-04-01T06:05:09Z")
            .expect("a valid time")
            .with_timezone(&Utc);
        assert_eq!(datetime(&at), "2024-04-01 06:05 UTC");
        assert_eq!(time_of_day(&at), "06:05:09");
        assert_eq!(month_day(at.date_naive()), "Apr 1");
    }
}
