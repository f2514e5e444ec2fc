//! Numbers and dates for people.

use chrono::{DateTime, Utc};

/// `1234567.8` → `1,234,568`; below 100 with up to `decimals` decimals.
pub fn number(value: f64, decimals: usize) -> String {
    let negative = value < 0.0;
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let frac = frac.trim_end_matches('0');
    format!(
        "{}{}{}{}",
        if negative { "-" } else { "" },
        grouped,
        if frac.is_empty() { "" } else { "." },
        frac
    )
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
    at.format("%Y-%m-%d %H:%M UTC").to_string()
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
        1000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
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
    }
}
