//! Numbers and dates for people.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

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

/// `2024-04-01T06:00:00Z`, `2024-04-01T06:00:00.123456Z`: RFC 3339 in UTC, for
/// `<time datetime>`.
pub fn rfc3339(at: &DateTime<Utc>) -> String {
    let micros = at.timestamp_subsec_micros();
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!(
        "{}T{:02}:{:02}:{:02}{fraction}Z",
        at.date_naive(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The number in `digits` (ASCII digits only).
fn digits(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u32, |n, d| {
        n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// A date written `YYYY-MM-DD`.
///
/// Hand-written (like [`parse_time`]) so that chrono's general parser stays out of the wasm.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// A timestamp as PostgREST and Auth write them (RFC 3339, `T` or a space between date and
/// time, optional fraction, offset `Z`, `±HH`, `±HHMM` or `±HH:MM`), in UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(text.get(..10)?)?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut i = 19;
    let mut nanos = 0u32;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let fraction = &b[start..i.min(start + 9)];
        nanos = digits(fraction)? * 10u32.pow(9 - fraction.len() as u32);
    }
    let offset = match (b.get(i), &b[(i + 1).min(b.len())..]) {
        (Some(b'Z' | b'z'), []) => 0,
        (Some(&sign @ (b'+' | b'-')), rest) => {
            let (h, m) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            let seconds = i64::from(h * 3600 + m * 60);
            if sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let local = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    let utc = local.checked_sub_signed(TimeDelta::seconds(offset))?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
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
    fn timestamps_parse_like_chrono() {
        for text in [
            "2024-04-01T06:05:09Z",
            "2024-04-01T06:05:09.123456+00:00",
            "2024-04-01 06:05:09.5+02:00",
            "2024-12-31T23:59:59-05:00",
        ] {
            let chrono: DateTime<Utc> = text.parse().expect("chrono parses it");
            assert_eq!(parse_time(text), Some(chrono), "{text}");
        }
        // Offsets without a colon or without minutes (Postgres' own text form).
        let utc = |text: &str| parse_time(text).map(|at| rfc3339(&at));
        assert_eq!(
            utc("2024-04-01 06:05:09.5+02").as_deref(),
            Some("2024-04-01T04:05:09.500000Z")
        );
        assert_eq!(
            utc("2024-04-01T06:05:09-0130").as_deref(),
            Some("2024-04-01T07:35:09Z")
        );
        assert_eq!(
            utc("2024-04-01t06:05:09.123456789z").as_deref(),
            Some("2024-04-01T06:05:09.123456Z")
        );
        for text in [
            "",
            "2024-04-01",
            "2024-04-01T06:05:09",
            "2024-13-01T06:05:09Z",
            "2024-04-01T06:05:09+0",
            "2024-04-01T06:05:09Zjunk",
            "2024-04-01T06:05:09.",
        ] {
            assert_eq!(parse_time(text), None, "{text}");
        }
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-1-05"), None);
        let at = parse_time("2024-04-01T06:05:09.250+00:00").expect("time");
        assert_eq!(rfc3339(&at), "2024-04-01T06:05:09.250000Z");
        assert_eq!(
            rfc3339(&parse_time("2024-04-01T08:05:09+02:00").expect("time")),
            "2024-04-01T06:05:09Z"
        );
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
