//! Numbers, money, dates and times for people, in the reader's locale
//! ([`crate::i18n::current`]): through the browser's `Intl` (`NumberFormat`,
//! `DateTimeFormat`, `RelativeTimeFormat`), so grouping, decimal marks, month names, units
//! and zone names are the browser's — `Rp1.234.567` and `1.234,5` in Indonesian,
//! `$1,234,567` and `1,234.5` in English — and every time is shown in the reader's zone.
//!
//! Formatters are built once per locale and kept (building one costs more than using it).
//! A zone or currency that `Intl` refuses falls back to UTC / plain numbers rather than
//! failing the page.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::i18n::{self, Locale};

#[wasm_bindgen]
extern "C" {
    // `Intl.NumberFormat` and `Intl.DateTimeFormat`, called as functions (which the spec
    // allows for these two) and with `catch`:
    // a zone or currency the browser does not know throws a RangeError, which js-sys's own
    // bindings would turn into a panic.
    #[wasm_bindgen(catch, js_namespace = Intl, js_name = NumberFormat)]
    fn number_format(locales: &JsValue, options: &Object) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Intl, js_name = DateTimeFormat)]
    fn date_time_format(locales: &JsValue, options: &Object) -> Result<JsValue, JsValue>;
}

/// `Intl` options from pairs.
fn options(pairs: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        // Setting a property on a plain new object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

fn n(value: f64) -> JsValue {
    JsValue::from_f64(value)
}

thread_local! {
    /// Formatters by what they format, for the locale they were built for.
    static CACHE: RefCell<(Locale, HashMap<String, Option<JsValue>>)> =
        RefCell::new((Locale::default(), HashMap::new()));
}

/// The formatter `key` of the current locale, built by `make` the first time.
fn formatter(key: &str, make: impl FnOnce(&Locale) -> Result<JsValue, JsValue>) -> Option<JsValue> {
    let locale = i18n::current();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != locale {
            *cache = (locale.clone(), HashMap::new());
        }
        if let Some(found) = cache.1.get(key) {
            return found.clone();
        }
        let made = make(&locale).ok();
        cache.1.insert(key.to_owned(), made.clone());
        made
    })
}

fn locales(locale: &Locale) -> JsValue {
    s(locale.lang.tag())
}

/// Calls the bound `format` of an `Intl` formatter on `arg`.
fn call_format(formatter: &JsValue, arg: &JsValue) -> Option<String> {
    let format: Function = Reflect::get(formatter, &s("format"))
        .ok()?
        .dyn_into()
        .ok()?;
    format.call1(formatter, arg).ok()?.as_string()
}

/// A number with up to `decimals` decimals (at most 9) in the reader's locale: `1,234,568`
/// / `1.234.568`.
pub fn number(value: f64, decimals: usize) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let decimals = decimals.min(9);
    formatter(&format!("number/{decimals}"), |l| {
        number_format(
            &locales(l),
            &options(&[("maximumFractionDigits", n(decimals as f64))]),
        )
    })
    .and_then(|f| call_format(&f, &n(value)))
    .unwrap_or_else(|| decimal(value, decimals))
}

/// An amount of money in the system's currency (`system_settings.currency`): `Rp1.234.567`
/// in Indonesian, `$1,234,567.50` in English. Rupiah are shown whole, as Indonesian shops
/// write them; other currencies with their own minor unit.
pub fn money(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    formatter("money", |l| {
        let mut pairs = vec![
            ("style", s("currency")),
            ("currency", s(&l.currency)),
            ("currencyDisplay", s("narrowSymbol")),
        ];
        if l.currency == "IDR" {
            pairs.push(("maximumFractionDigits", n(0.0)));
        }
        number_format(&locales(l), &options(&pairs))
    })
    .and_then(|f| call_format(&f, &n(value)))
    .unwrap_or_else(|| format!("{} {}", i18n::current().currency, decimal(value, 2)))
}

/// A percentage with one decimal (`value` is already in percent): `4.3%` / `4,3%`.
pub fn percent(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    formatter("percent", |l| {
        number_format(
            &locales(l),
            &options(&[("style", s("percent")), ("maximumFractionDigits", n(1.0))]),
        )
    })
    .and_then(|f| call_format(&f, &n(value / 100.0)))
    .unwrap_or_else(|| format!("{}%", decimal(value, 1)))
}

/// `value` rounded to `decimals` places (at most 9), trailing zeros dropped, with a `.`
/// and no grouping: `12.5`, `3`, `-0.25` — for machines (`data-total`, SVG coordinates),
/// never for people.
///
/// Integer arithmetic only: Rust's float formatting (Grisu, Dragon and their tables) stays
/// out of the wasm.
pub fn decimal(value: f64, decimals: usize) -> String {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals as u32);
    let value = if value.is_finite() { value } else { 0.0 };
    // `as` saturates: absurdly large values stop at u64::MAX instead of wrapping.
    let scaled = (value.abs() * scale as f64).round() as u64;
    let mut out = String::new();
    if value < 0.0 && scaled != 0 {
        out.push('-');
    }
    out.push_str(&(scaled / scale).to_string());
    if decimals > 0 {
        let mut frac = format!("{:0width$}", scaled % scale, width = decimals);
        while frac.ends_with('0') {
            frac.pop();
        }
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
    }
    out
}

/// Compact axis labels: `1.2K`, `3.4M` / `1,2 rb`, `3,4 jt`.
pub fn compact(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    formatter("compact", |l| {
        number_format(
            &locales(l),
            &options(&[
                ("notation", s("compact")),
                ("maximumFractionDigits", n(1.0)),
            ]),
        )
    })
    .and_then(|f| call_format(&f, &n(value)))
    .unwrap_or_else(|| decimal(value, 1))
}

/// `value` of `unit` (an `Intl` unit: `millisecond`, `second`, `kilobyte`…) with up to
/// `decimals` decimals, short: `850 ms`, `2.4 sec` / `2,4 dtk`.
fn unit(value: f64, unit: &'static str, decimals: usize) -> String {
    formatter(&format!("unit/{unit}/{decimals}"), |l| {
        number_format(
            &locales(l),
            &options(&[
                ("style", s("unit")),
                ("unit", s(unit)),
                ("unitDisplay", s("short")),
                ("maximumFractionDigits", n(decimals as f64)),
                ("minimumFractionDigits", n(decimals as f64)),
            ]),
        )
    })
    .and_then(|f| call_format(&f, &n(value)))
    .unwrap_or_else(|| format!("{} {unit}", decimal(value, decimals)))
}

/// A duration in milliseconds: `850 ms`, `2.4 sec`, `3 min 5 sec` (in the reader's words).
pub fn duration_ms(ms: i64) -> String {
    match ms {
        ..=999 => unit(ms as f64, "millisecond", 0),
        1000..=59_999 => unit(((ms + 50) / 100) as f64 / 10.0, "second", 1),
        _ => format!(
            "{} {}",
            unit((ms / 60_000) as f64, "minute", 0),
            unit(((ms % 60_000) / 1000) as f64, "second", 0)
        ),
    }
}

/// `2.4 MB` / `2,4 MB`; `—` when unknown.
pub fn human_size(bytes: Option<i64>) -> String {
    let Some(bytes) = bytes else {
        return "—".into();
    };
    let whole = bytes.max(0);
    if whole < 1024 {
        unit(whole as f64, "byte", 0)
    } else if whole < 1024 * 1024 {
        unit(tenths_of(whole as f64 / 1024.0), "kilobyte", 1)
    } else {
        unit(tenths_of(whole as f64 / 1024.0 / 1024.0), "megabyte", 1)
    }
}

fn tenths_of(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// A JS `Date` of `at`.
fn js_date(at: &DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&n(at.timestamp_millis() as f64))
}

/// `at` through the date-time formatter `key` of the reader's zone.
fn zoned(key: &str, at: &DateTime<Utc>, pairs: &[(&str, JsValue)]) -> Option<String> {
    let pairs = pairs.to_vec();
    formatter(key, move |l| {
        let mut pairs = pairs;
        pairs.push(("timeZone", s(&l.time_zone)));
        date_time_format(&locales(l), &options(&pairs))
    })
    .and_then(|f| call_format(&f, &js_date(at)))
}

/// `1 Apr 2024, 13.00 WIB` / `Apr 1, 2024, 1:00 PM GMT+7`: a moment in the reader's zone,
/// the zone named.
pub fn datetime(at: &DateTime<Utc>) -> String {
    zoned(
        "datetime",
        at,
        &[
            ("year", s("numeric")),
            ("month", s("short")),
            ("day", s("numeric")),
            ("hour", s("2-digit")),
            ("minute", s("2-digit")),
            ("timeZoneName", s("short")),
        ],
    )
    .unwrap_or_else(|| {
        let t = at.time();
        format!("{} {:02}:{:02} UTC", at.date_naive(), t.hour(), t.minute())
    })
}

/// `13.00.12` / `1:00:12 PM`: the time of a log line in the reader's zone.
pub fn time_of_day(at: &DateTime<Utc>) -> String {
    zoned(
        "time",
        at,
        &[
            ("hour", s("2-digit")),
            ("minute", s("2-digit")),
            ("second", s("2-digit")),
        ],
    )
    .unwrap_or_else(|| {
        let t = at.time();
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    })
}

/// A calendar day (no zone: a day is the reader's already), through a UTC formatter.
fn day_with(key: &str, date: NaiveDate, pairs: &[(&str, JsValue)]) -> String {
    let pairs = pairs.to_vec();
    let noon = date.and_hms_opt(12, 0, 0).map(|t| t.and_utc());
    noon.and_then(|at| {
        formatter(key, move |l| {
            let mut pairs = pairs;
            pairs.push(("timeZone", s("UTC")));
            date_time_format(&locales(l), &options(&pairs))
        })
        .and_then(|f| call_format(&f, &js_date(&at)))
    })
    .unwrap_or_else(|| date.to_string())
}

/// `1 Apr` / `Apr 1`: a chart label.
pub fn month_day(date: NaiveDate) -> String {
    day_with(
        "month_day",
        date,
        &[("month", s("short")), ("day", s("numeric"))],
    )
}

/// `1 Apr 2024` / `Apr 1, 2024`: a day.
pub fn date(date: NaiveDate) -> String {
    day_with(
        "date",
        date,
        &[
            ("year", s("numeric")),
            ("month", s("short")),
            ("day", s("numeric")),
        ],
    )
}

/// `5 detik yang lalu` / `5 seconds ago`, `3 min ago`, `yesterday`…: how long ago `at` was.
pub fn ago(at: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - *at).num_seconds().max(0);
    let (value, unit) = match secs {
        0..=59 => (secs, "second"),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    formatter("ago", |l| {
        // `RelativeTimeFormat` must be called with `new`; its locale is one of ours, so it
        // cannot throw.
        let locales = js_sys::Array::of1(&locales(l));
        Ok(
            js_sys::Intl::RelativeTimeFormat::new(&locales, &options(&[("numeric", s("auto"))]))
                .into(),
        )
    })
    .and_then(|f| {
        let f: js_sys::Intl::RelativeTimeFormat = f.dyn_into().ok()?;
        f.format(-(value as f64), unit).as_string()
    })
    .unwrap_or_else(|| format!("-{value} {unit}"))
}

/// Now, from the browser's clock.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The wall-clock time in `zone` at `at`, through `Intl` (the browser's zone data).
fn wall_clock(zone: &str, at: &DateTime<Utc>) -> Option<NaiveDateTime> {
    let f = date_time_format(
        &s("en-US"),
        &options(&[
            ("timeZone", s(zone)),
            ("hourCycle", s("h23")),
            ("year", s("numeric")),
            ("month", s("numeric")),
            ("day", s("numeric")),
            ("hour", s("numeric")),
            ("minute", s("numeric")),
            ("second", s("numeric")),
        ]),
    )
    .ok()?;
    let f: js_sys::Intl::DateTimeFormat = f.dyn_into().ok()?;
    let mut part = HashMap::new();
    for p in f.format_to_parts(&js_date(at)).iter() {
        let kind = Reflect::get(&p, &s("type")).ok()?.as_string()?;
        let value = Reflect::get(&p, &s("value")).ok()?.as_string()?;
        if let Ok(number) = value.parse::<u32>() {
            part.insert(kind, number);
        }
    }
    let get = |k: &str| part.get(k).copied();
    let day = NaiveDate::from_ymd_opt(
        i32::try_from(get("year")?).ok()?,
        get("month")?,
        get("day")?,
    )?;
    // Some engines write midnight as 24 even with h23.
    day.and_hms_opt(get("hour")? % 24, get("minute")?, get("second")?)
}

/// `zone`'s offset from UTC at `at`, in seconds (+25,200 for WIB).
pub fn zone_offset(zone: &str, at: &DateTime<Utc>) -> Option<i64> {
    let wall = wall_clock(zone, at)?;
    Some(wall.and_utc().timestamp() - at.timestamp())
}

/// The moment when the clocks of `zone` read `local`, in UTC. Around a change of offset
/// (daylight saving) the offset after the change is taken; Indonesia has none.
pub fn local_to_utc(zone: &str, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let guess = local.and_utc();
    let first = zone_offset(zone, &guess)?;
    let at = guess - TimeDelta::seconds(first);
    let second = zone_offset(zone, &at)?;
    Some(if second == first {
        at
    } else {
        guess - TimeDelta::seconds(second)
    })
}

/// Today in the reader's zone (the dashboard's and analytics' "today").
pub fn today() -> NaiveDate {
    let now = now();
    wall_clock(&i18n::current().time_zone, &now)
        .map(|t| t.date())
        .unwrap_or_else(|| now.date_naive())
}

/// The reader's zone as a settings page or a form names it: `Asia/Jakarta (WIB)`,
/// `America/New_York (EST)`, `UTC`.
pub fn zone_name() -> String {
    let zone = i18n::current().time_zone;
    let short = formatter("zone", |l| {
        date_time_format(
            &locales(l),
            &options(&[("timeZone", s(&l.time_zone)), ("timeZoneName", s("short"))]),
        )
    })
    .and_then(|f| {
        let f: js_sys::Intl::DateTimeFormat = f.dyn_into().ok()?;
        f.format_to_parts(&js_date(&now())).iter().find_map(|p| {
            let kind = Reflect::get(&p, &s("type")).ok()?.as_string()?;
            (kind == "timeZoneName")
                .then(|| Reflect::get(&p, &s("value")).ok()?.as_string())
                .flatten()
        })
    });
    match short {
        Some(short) if short != zone => format!("{zone} ({short})"),
        _ => zone,
    }
}

/// `true` when the browser knows `zone` (an IANA name such as `Asia/Makassar`).
pub fn known_zone(zone: &str) -> bool {
    !zone.is_empty() && date_time_format(&s("en-US"), &options(&[("timeZone", s(zone))])).is_ok()
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::i18n::Lang;

    fn with(lang: Lang, zone: &str, currency: &str) {
        i18n::set(Locale {
            lang,
            time_zone: zone.into(),
            currency: currency.into(),
        });
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid time")
            .with_timezone(&Utc)
    }

    // Intl writes a narrow no-break space or a no-break space in places; the tests read
    // them as plain spaces.
    fn plain(text: String) -> String {
        text.replace(['\u{a0}', '\u{202f}'], " ")
    }

    #[wasm_bindgen_test]
    fn numbers_and_money_follow_the_language() {
        with(Lang::Id, "Asia/Jakarta", "IDR");
        assert_eq!(number(1_234_567.8, 0), "1.234.568");
        assert_eq!(number(1234.5, 1), "1.234,5");
        assert_eq!(plain(money(1_234_567.4)), "Rp 1.234.567");
        assert_eq!(plain(percent(4.26)), "4,3%");
        assert_eq!(plain(compact(1_500.0)), "1,5 rb");
        assert_eq!(plain(duration_ms(2400)), "2,4 dtk");
        assert_eq!(plain(human_size(Some(1536))), "1,5 kB");

        with(Lang::En, "UTC", "USD");
        assert_eq!(number(1_234_567.8, 0), "1,234,568");
        assert_eq!(number(12.0, 2), "12");
        assert_eq!(number(-1500.0, 0), "-1,500");
        assert_eq!(number(f64::NAN, 1), "0");
        assert_eq!(money(1_234_567.0), "$1,234,567.00");
        assert_eq!(percent(4.26), "4.3%");
        assert_eq!(compact(12_345.0), "12.3K");
        assert_eq!(compact(2_500_000.0), "2.5M");
        assert_eq!(plain(duration_ms(850)), "850 ms");
        assert_eq!(plain(duration_ms(2000)), "2.0 sec");
        assert_eq!(plain(duration_ms(185_000)), "3 min 5 sec");
        assert_eq!(human_size(None), "—");
        assert_eq!(plain(human_size(Some(512))), "512 byte");
        assert_eq!(plain(human_size(Some(5 * 1024 * 1024 / 2))), "2.5 MB");

        // A currency Intl refuses still shows the amount.
        with(Lang::En, "UTC", "X1");
        assert_eq!(money(12.5), "X1 12.5");
    }

    #[wasm_bindgen_test]
    fn machine_decimals_are_plain() {
        assert_eq!(decimal(12.0, 1), "12");
        assert_eq!(decimal(-3.25, 1), "-3.3");
        assert_eq!(decimal(0.05, 1), "0.1");
        assert_eq!(decimal(-0.001, 2), "0");
        assert_eq!(decimal(1234.5, 4), "1234.5");
    }

    #[wasm_bindgen_test]
    fn times_are_shown_in_the_readers_zone() {
        let moment = at("2024-04-01T06:05:09Z");
        // Indonesia's three zones: WIB (UTC+7), WITA (UTC+8), WIT (UTC+9).
        with(Lang::Id, "Asia/Jakarta", "IDR");
        assert_eq!(plain(datetime(&moment)), "1 Apr 2024, 13.05 WIB");
        assert_eq!(time_of_day(&moment), "13.05.09");
        assert_eq!(zone_name(), "Asia/Jakarta (WIB)");
        with(Lang::Id, "Asia/Makassar", "IDR");
        assert_eq!(plain(datetime(&moment)), "1 Apr 2024, 14.05 WITA");
        with(Lang::Id, "Asia/Jayapura", "IDR");
        assert_eq!(plain(datetime(&moment)), "1 Apr 2024, 15.05 WIT");
        assert_eq!(zone_offset("Asia/Jayapura", &moment), Some(9 * 3600));

        with(Lang::En, "America/New_York", "USD");
        assert_eq!(plain(datetime(&moment)), "Apr 1, 2024, 02:05 AM EDT");
        with(Lang::En, "UTC", "USD");
        assert_eq!(plain(datetime(&moment)), "Apr 1, 2024, 06:05 AM UTC");
        assert_eq!(month_day(moment.date_naive()), "Apr 1");
        assert_eq!(date(moment.date_naive()), "Apr 1, 2024");
        with(Lang::Id, "UTC", "IDR");
        assert_eq!(month_day(moment.date_naive()), "1 Apr");
        assert_eq!(date(moment.date_naive()), "1 Apr 2024");

        // A zone the browser does not know falls back to UTC words, never a panic.
        with(Lang::En, "Mars/Olympus", "USD");
        assert_eq!(datetime(&moment), "2024-04-01 06:05 UTC");
        assert!(!known_zone("Mars/Olympus"));
        assert!(known_zone("Asia/Makassar"));
    }

    #[wasm_bindgen_test]
    fn a_local_time_is_stored_as_utc() {
        let local = |text: &str| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("a local time")
        };
        assert_eq!(
            local_to_utc("Asia/Jakarta", local("2025-03-01T09:30")),
            Some(at("2025-03-01T02:30:00Z"))
        );
        assert_eq!(
            local_to_utc("Asia/Makassar", local("2025-03-01T09:30")),
            Some(at("2025-03-01T01:30:00Z"))
        );
        assert_eq!(
            local_to_utc("Asia/Jayapura", local("2025-03-01T00:30")),
            Some(at("2025-02-28T15:30:00Z"))
        );
        // Either side of New York's change to summer time (2025-03-09, 02:00 → 03:00).
        assert_eq!(
            local_to_utc("America/New_York", local("2025-03-08T12:00")),
            Some(at("2025-03-08T17:00:00Z"))
        );
        assert_eq!(
            local_to_utc("America/New_York", local("2025-03-10T12:00")),
            Some(at("2025-03-10T16:00:00Z"))
        );
        assert_eq!(
            local_to_utc("Mars/Olympus", local("2025-03-10T12:00")),
            None
        );
    }

    #[wasm_bindgen_test]
    fn how_long_ago_in_words() {
        let now = at("2024-04-02T06:00:00Z");
        with(Lang::En, "UTC", "USD");
        assert_eq!(ago(&at("2024-04-02T05:59:55Z"), now), "5 seconds ago");
        assert_eq!(ago(&at("2024-04-02T05:57:00Z"), now), "3 minutes ago");
        assert_eq!(ago(&at("2024-04-01T06:00:00Z"), now), "yesterday");
        with(Lang::Id, "UTC", "IDR");
        assert_eq!(ago(&at("2024-04-02T04:00:00Z"), now), "2 jam yang lalu");
        assert_eq!(ago(&at("2024-03-29T06:00:00Z"), now), "4 hari yang lalu");
    }
}
