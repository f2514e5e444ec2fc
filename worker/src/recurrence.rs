//! Recurring tasks: the next occurrence of a cron expression on a wall clock. The
//! executor reads the expression on the owner's clock (their profile's zone, else UTC):
//! `0 6 * * 1` is Monday 06:00 where the owner lives, whatever the season.
//!
//! Expressions are written as in Unix cron: 5 fields `minute hour day-of-month month
//! day-of-week` (day-of-week 0–7, 0 and 7 being Sunday, names allowed), or 6 fields with
//! seconds first. The `cron` crate wants seconds and counts weekdays from 1 = Sunday, so
//! the expression is translated: `"0 "` is prepended to 5 fields and numeric weekdays
//! become names (`1-5` → `MON-FRI`).

use std::str::FromStr;

use chrono::NaiveDateTime;

use crate::text::{Run, Text};

const DAY_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// The first occurrence of `expression` strictly after `after`, both on the same wall
/// clock.
pub fn next_after(expression: &str, after: NaiveDateTime) -> Result<NaiveDateTime, Text> {
    let schedule = parse(expression)?;
    schedule
        .after(&after.and_utc())
        .next()
        .map(|next| next.naive_utc())
        .ok_or_else(|| Text::new(Run::RecurrenceNoFuture).raw("expression", expression))
}

/// Parses a 5- or 6-field expression.
pub fn parse(expression: &str) -> Result<cron::Schedule, Text> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    let translated = match fields.len() {
        5 => {
            let mut all = vec!["0".to_owned()];
            all.extend(fields[..4].iter().map(|f| (*f).to_owned()));
            all.push(weekdays(expression, fields[4])?);
            all.join(" ")
        }
        6 => {
            let mut all: Vec<String> = fields[..5].iter().map(|f| (*f).to_owned()).collect();
            all.push(weekdays(expression, fields[5])?);
            all.join(" ")
        }
        _ => return Err(Text::new(Run::RecurrenceFields).raw("expression", expression)),
    };
    cron::Schedule::from_str(&translated).map_err(|error| {
        Text::new(Run::RecurrenceInvalid)
            .raw("expression", expression)
            .raw("detail", error)
    })
}

/// Rewrites Unix weekday numbers (0–7) as names; steps after `/` stay numbers.
fn weekdays(expression: &str, field: &str) -> Result<String, Text> {
    let bad = |bound: &str| {
        Text::new(Run::RecurrenceWeekday)
            .raw("expression", expression)
            .raw("value", bound)
    };
    let mut items = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let mut bounds = Vec::new();
        for bound in range.split('-') {
            if bound.chars().all(|c| c.is_ascii_digit()) && !bound.is_empty() {
                let n: usize = bound.parse().map_err(|_| bad(bound))?;
                let name = DAY_NAMES.get(n).ok_or_else(|| bad(bound))?;
                bounds.push((*name).to_owned());
            } else {
                bounds.push(bound.to_owned());
            }
        }
        let mut text = bounds.join("-");
        if let Some(step) = step {
            text.push('/');
            text.push_str(step);
        }
        items.push(text);
    }
    Ok(items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid date")
            .naive_utc()
    }

    #[test]
    fn five_fields_run_at_second_zero() {
        // 2024-01-03 is a Wednesday.
        let next = next_after("*/15 * * * *", at(2024, 1, 3, 10, 7)).expect("valid");
        assert_eq!(next, at(2024, 1, 3, 10, 15));
    }

    #[test]
    fn weekday_numbers_follow_unix_cron() {
        let next = next_after("0 6 * * 1", at(2024, 1, 3, 10, 0)).expect("valid");
        assert_eq!(next.weekday(), Weekday::Mon);
        assert_eq!((next.hour(), next.minute()), (6, 0));
        for sunday in ["0 6 * * 0", "0 6 * * 7", "0 6 * * sun"] {
            let next = next_after(sunday, at(2024, 1, 3, 10, 0)).expect("valid");
            assert_eq!(next.weekday(), Weekday::Sun, "{sunday}");
        }
        let next = next_after("30 9 * * 1-5", at(2024, 1, 5, 10, 0)).expect("valid");
        assert_eq!(next, at(2024, 1, 8, 9, 30));
    }

    #[test]
    fn six_fields_have_seconds_first() {
        let next = next_after("30 0 12 * * *", at(2024, 1, 3, 10, 0)).expect("valid");
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2024, 1, 3, 12, 0, 30)
                .single()
                .expect("date")
                .naive_utc()
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        let now = Utc::now().naive_utc();
        assert!(next_after("* * *", now)
            .expect_err("too few")
            .english()
            .contains("5 or 6 fields"));
        assert!(next_after("61 * * * *", now)
            .expect_err("bad minute")
            .english()
            .contains("not a valid cron expression"));
        let weekday = next_after("0 6 * * 9", now).expect_err("bad weekday");
        assert_eq!(weekday.run(), Run::RecurrenceWeekday);
        assert!(weekday.english().contains("must be 0 to 7"));
    }
}
