//! Dates and times as the services write and read them: RFC 3339 timestamps and
//! `YYYY-MM-DD` dates, parsed and written by hand (chrono's general parser and formatter
//! stay out of the wasm). What people read is in `ui::format`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};

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

/// A `datetime-local` value, `YYYY-MM-DDTHH:MM` with optional `:SS` (and a fraction,
/// dropped): a wall-clock time with no zone.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 16 || !matches!(b[10], b'T' | b' ') || b[13] != b':' {
        return None;
    }
    let date = parse_date(text.get(..10)?)?;
    let second = match &b[16..] {
        [] => 0,
        [b':', s1, s2, rest @ ..] if rest.is_empty() || rest[0] == b'.' => digits(&[*s1, *s2])?,
        _ => return None,
    };
    date.and_hms_opt(digits(&b[11..13])?, digits(&b[14..16])?, second)
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

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

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
        let local = |text: &str| {
            parse_local(text)
                .map(|t| t.and_utc())
                .map(|at| rfc3339(&at))
        };
        assert_eq!(
            local("2025-03-01T09:30").as_deref(),
            Some("2025-03-01T09:30:00Z")
        );
        assert_eq!(
            local("2025-03-01T09:30:15").as_deref(),
            Some("2025-03-01T09:30:15Z")
        );
        assert_eq!(
            local("2025-03-01T09:30:15.250").as_deref(),
            Some("2025-03-01T09:30:15Z")
        );
        for text in [
            "",
            "2025-03-01",
            "2025-03-01T9:30",
            "2025-03-01T24:00",
            "2025-03-01T09:30Z",
        ] {
            assert_eq!(parse_local(text), None, "{text}");
        }
        assert_eq!(parse_date("2024-1-05"), None);
        let at = parse_time("2024-04-01T06:05:09.250+00:00").expect("time");
        assert_eq!(rfc3339(&at), "2024-04-01T06:05:09.250000Z");
        assert_eq!(
            rfc3339(&parse_time("2024-04-01T08:05:09+02:00").expect("time")),
            "2024-04-01T06:05:09Z"
        );
    }
}
