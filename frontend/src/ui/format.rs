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

/// An `Intl` option's value: text, a number, or one of the locale's.
#[derive(Clone, Copy, PartialEq)]
enum V {
    S(&'static str),
    N(u8),
    /// The reader's zone.
    Zone,
    /// The system's currency.
    Currency,
    /// `0` for rupiah (shown whole), absent for other currencies (their own minor unit).
    WholeRupiah,
}

/// Which `Intl` constructor.
#[derive(Clone, Copy, PartialEq)]
enum Ctor {
    Number,
    Date,
}

/// What a formatter is: its constructor and options (a static table per use; the options
/// are also its identity in the cache).
type Spec = (Ctor, &'static [(&'static str, V)]);

/// The formatters built, for one locale.
type Formatters = Vec<(Spec, Option<JsValue>)>;

thread_local! {
    /// Formatters by spec, for the locale they were built for (a dozen or so: a list costs
    /// less wasm than a map).
    static CACHE: RefCell<(Locale, Formatters)> =
        RefCell::new((Locale::default(), Vec::new()));
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

fn n(value: f64) -> JsValue {
    JsValue::from_f64(value)
}

/// Builds the formatter of `spec` for `locale`; `None` when `Intl` refuses its zone or
/// currency.
fn build(locale: &Locale, (ctor, pairs): Spec) -> Option<JsValue> {
    let object = Object::new();
    for (key, value) in pairs {
        let value = match *value {
            V::S(text) => s(text),
            V::N(number) => n(f64::from(number)),
            V::Zone => s(&locale.time_zone),
            V::Currency => s(&locale.currency),
            V::WholeRupiah if locale.currency == "IDR" => n(0.0),
            V::WholeRupiah => continue,
        };
        // Setting a property on a plain new object cannot fail.
        let _ = Reflect::set(&object, &s(key), &value);
    }
    let tag = s(locale.lang.tag());
    match ctor {
        Ctor::Number => number_format(&tag, &object),
        Ctor::Date => date_time_format(&tag, &object),
    }
    .ok()
}

/// The formatter of `spec` in the current locale, built the first time it is asked for.
fn formatter(spec: Spec) -> Option<JsValue> {
    let locale = i18n::current();
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != locale {
            *cache = (locale.clone(), Vec::new());
        }
        if let Some((_, found)) = cache.1.iter().find(|(k, _)| *k == spec) {
            return found.clone();
        }
        let made = build(&locale, spec);
        cache.1.push((spec, made.clone()));
        made
    })
}

/// `arg` through the formatter of `spec`.
fn format_with(spec: Spec, arg: &JsValue) -> Option<String> {
    let formatter = formatter(spec)?;
    let format: Function = Reflect::get(&formatter, &s("format"))
        .ok()?
        .dyn_into()
        .ok()?;
    format.call1(&formatter, arg).ok()?.as_string()
}

/// `value` through the number formatter of `pairs`.
fn number_with(pairs: &'static [(&'static str, V)], value: f64) -> Option<String> {
    let value = if value.is_finite() { value } else { 0.0 };
    format_with((Ctor::Number, pairs), &n(value))
}

const MAX_DIGITS: [&[(&str, V)]; 3] = [
    &[("maximumFractionDigits", V::N(0))],
    &[("maximumFractionDigits", V::N(1))],
    &[("maximumFractionDigits", V::N(2))],
];

/// A number with up to `decimals` decimals (at most 2) in the reader's locale: `1,234,568`
/// / `1.234.568`.
pub fn number(value: f64, decimals: usize) -> String {
    let decimals = decimals.min(2);
    number_with(MAX_DIGITS[decimals], value).unwrap_or_else(|| decimal(value, decimals))
}

/// An amount of money in the system's currency (`system_settings.currency`): `Rp1.234.567`
/// in Indonesian, `$1,234,567.50` in English. Rupiah are shown whole, as Indonesian shops
/// write them; other currencies with their own minor unit.
pub fn money(value: f64) -> String {
    const MONEY: &[(&str, V)] = &[
        ("style", V::S("currency")),
        ("currency", V::Currency),
        ("currencyDisplay", V::S("narrowSymbol")),
        ("maximumFractionDigits", V::WholeRupiah),
    ];
    number_with(MONEY, value)
        .unwrap_or_else(|| format!("{} {}", i18n::current().currency, decimal(value, 2)))
}

/// A percentage with one decimal (`value` is already in percent): `4.3%` / `4,3%`.
pub fn percent(value: f64) -> String {
    const PERCENT: &[(&str, V)] = &[
        ("style", V::S("percent")),
        ("maximumFractionDigits", V::N(1)),
    ];
    number_with(PERCENT, value / 100.0).unwrap_or_else(|| format!("{}%", decimal(value, 1)))
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
    const COMPACT: &[(&str, V)] = &[
        ("notation", V::S("compact")),
        ("maximumFractionDigits", V::N(1)),
    ];
    number_with(COMPACT, value).unwrap_or_else(|| decimal(value, 1))
}

/// The options of a short unit with `decimals` decimals.
macro_rules! unit {
    ($unit:literal, $decimals:literal) => {
        &[
            ("style", V::S("unit")),
            ("unit", V::S($unit)),
            ("unitDisplay", V::S("short")),
            ("minimumFractionDigits", V::N($decimals)),
            ("maximumFractionDigits", V::N($decimals)),
        ]
    };
}

/// A duration in milliseconds: `850 ms`, `2.4 sec`, `3 min 5 sec` (in the reader's words).
pub fn duration_ms(ms: i64) -> String {
    let unit = |pairs, value: f64, fallback: &str| {
        number_with(pairs, value).unwrap_or_else(|| format!("{} {fallback}", decimal(value, 1)))
    };
    match ms {
        ..=999 => unit(unit!("millisecond", 0), ms as f64, "ms"),
        1000..=59_999 => unit(unit!("second", 1), ((ms + 50) / 100) as f64 / 10.0, "s"),
        _ => format!(
            "{} {}",
            unit(unit!("minute", 0), (ms / 60_000) as f64, "min"),
            unit(unit!("second", 0), ((ms % 60_000) / 1000) as f64, "s")
        ),
    }
}

/// `2.4 MB` / `2,4 MB`; `—` when unknown.
pub fn human_size(bytes: Option<i64>) -> String {
    let Some(bytes) = bytes else {
        return "—".into();
    };
    let whole = bytes.max(0) as f64;
    let (pairs, value, fallback): (&'static [(&str, V)], f64, &str) = if whole < 1024.0 {
        (unit!("byte", 0), whole, "B")
    } else if whole < 1024.0 * 1024.0 {
        (unit!("kilobyte", 1), whole / 1024.0, "KB")
    } else {
        (unit!("megabyte", 1), whole / 1024.0 / 1024.0, "MB")
    };
    let value = (value * 10.0).round() / 10.0;
    number_with(pairs, value).unwrap_or_else(|| format!("{} {fallback}", decimal(value, 1)))
}

/// A JS `Date` of `at`.
fn js_date(at: &DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&n(at.timestamp_millis() as f64))
}

/// `at` through the date-time formatter of `pairs`.
fn date_with(pairs: &'static [(&'static str, V)], at: &DateTime<Utc>) -> Option<String> {
    format_with((Ctor::Date, pairs), &js_date(at))
}

/// `YYYY-MM-DD HH:MM` (and `:SS`) written by hand: what a time reads when `Intl` refuses.
fn plain_time(at: &DateTime<Utc>, seconds: bool) -> String {
    let t = at.time();
    let mut text = format!("{} {:02}:{:02}", at.date_naive(), t.hour(), t.minute());
    if seconds {
        text.push_str(&format!(":{:02}", t.second()));
    }
    text
}

/// `1 Apr 2024, 13.00 WIB` / `Apr 1, 2024, 01:00 PM GMT+7`: a moment in the reader's zone,
/// the zone named.
pub fn datetime(at: &DateTime<Utc>) -> String {
    const DATETIME: &[(&str, V)] = &[
        ("timeZone", V::Zone),
        ("year", V::S("numeric")),
        ("month", V::S("short")),
        ("day", V::S("numeric")),
        ("hour", V::S("2-digit")),
        ("minute", V::S("2-digit")),
        ("timeZoneName", V::S("short")),
    ];
    date_with(DATETIME, at).unwrap_or_else(|| format!("{} UTC", plain_time(at, false)))
}

/// `13.00.12` / `01:00:12 PM`: the time of a log line in the reader's zone.
pub fn time_of_day(at: &DateTime<Utc>) -> String {
    const TIME: &[(&str, V)] = &[
        ("timeZone", V::Zone),
        ("hour", V::S("2-digit")),
        ("minute", V::S("2-digit")),
        ("second", V::S("2-digit")),
    ];
    date_with(TIME, at).unwrap_or_else(|| plain_time(at, true)[11..].to_owned())
}

/// A calendar day (no zone: a day is the reader's already), through a UTC formatter.
fn day_with(pairs: &'static [(&'static str, V)], date: NaiveDate) -> String {
    date.and_hms_opt(12, 0, 0)
        .and_then(|noon| date_with(pairs, &noon.and_utc()))
        .unwrap_or_else(|| date.to_string())
}

/// `1 Apr` / `Apr 1`: a chart label.
pub fn month_day(date: NaiveDate) -> String {
    const MONTH_DAY: &[(&str, V)] = &[
        ("timeZone", V::S("UTC")),
        ("month", V::S("short")),
        ("day", V::S("numeric")),
    ];
    day_with(MONTH_DAY, date)
}

/// `1 Apr 2024` / `Apr 1, 2024`: a day.
pub fn date(date: NaiveDate) -> String {
    const DATE: &[(&str, V)] = &[
        ("timeZone", V::S("UTC")),
        ("year", V::S("numeric")),
        ("month", V::S("short")),
        ("day", V::S("numeric")),
    ];
    day_with(DATE, date)
}

thread_local! {
    /// `Intl.RelativeTimeFormat` of the language it was built for (it must be called with
    /// `new`, so it is not one of the cached specs).
    static RELATIVE: RefCell<Option<(i18n::Lang, js_sys::Intl::RelativeTimeFormat)>> =
        const { RefCell::new(None) };
}

/// `5 detik yang lalu` / `5 seconds ago`, `3 minutes ago`, `yesterday`…: how long ago `at`
/// was.
pub fn ago(at: &DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - *at).num_seconds().max(0);
    let (value, unit) = match secs {
        0..=59 => (secs, "second"),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    let lang = i18n::lang();
    RELATIVE
        .with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.as_ref().is_none_or(|(built, _)| *built != lang) {
                // One of our own language tags: the constructor cannot throw.
                let format = js_sys::Intl::RelativeTimeFormat::new(
                    &js_sys::Array::of1(&s(lang.tag())),
                    &numeric_auto(),
                );
                *cell = Some((lang, format));
            }
            cell.as_ref()
                .and_then(|(_, f)| f.format(-(value as f64), unit).as_string())
        })
        .unwrap_or_else(|| format!("-{value} {unit}"))
}

/// `{numeric: "auto"}`: "yesterday" rather than "1 day ago".
fn numeric_auto() -> Object {
    let object = Object::new();
    let _ = Reflect::set(&object, &s("numeric"), &s("auto"));
    object
}

/// Now, from the browser's clock.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The wall-clock time in the reader's zone at `at`, through `Intl` (the browser's zone
/// data).
fn wall_clock(at: &DateTime<Utc>) -> Option<NaiveDateTime> {
    const WALL: &[(&str, V)] = &[
        ("timeZone", V::Zone),
        ("hourCycle", V::S("h23")),
        ("year", V::S("numeric")),
        ("month", V::S("numeric")),
        ("day", V::S("numeric")),
        ("hour", V::S("numeric")),
        ("minute", V::S("numeric")),
        ("second", V::S("numeric")),
    ];
    const FIELDS: [&str; 6] = ["year", "month", "day", "hour", "minute", "second"];
    let f: js_sys::Intl::DateTimeFormat = formatter((Ctor::Date, WALL))?.dyn_into().ok()?;
    let mut field = [None::<u32>; 6];
    for p in f.format_to_parts(&js_date(at)).iter() {
        let kind = Reflect::get(&p, &s("type")).ok()?.as_string()?;
        if let Some(i) = FIELDS.iter().position(|f| *f == kind) {
            field[i] = Reflect::get(&p, &s("value"))
                .ok()?
                .as_string()?
                .parse()
                .ok();
        }
    }
    let [year, month, day, hour, minute, second] = field;
    let day = NaiveDate::from_ymd_opt(i32::try_from(year?).ok()?, month?, day?)?;
    // Some engines write midnight as 24 even with h23.
    day.and_hms_opt(hour? % 24, minute?, second?)
}

/// The reader's zone's offset from UTC at `at`, in seconds (+25,200 for WIB).
pub fn zone_offset(at: &DateTime<Utc>) -> Option<i64> {
    Some(wall_clock(at)?.and_utc().timestamp() - at.timestamp())
}

/// The moment when the clocks of the reader's zone read `local`, in UTC. Around a change
/// of offset (daylight saving) the offset after the change is taken; Indonesia has none.
pub fn local_to_utc(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let guess = local.and_utc();
    let first = zone_offset(&guess)?;
    let at = guess - TimeDelta::seconds(first);
    let second = zone_offset(&at)?;
    Some(guess - TimeDelta::seconds(second))
}

/// Today in the reader's zone (the dashboard's and analytics' "today").
pub fn today() -> NaiveDate {
    let now = now();
    wall_clock(&now)
        .map(|t| t.date())
        .unwrap_or_else(|| now.date_naive())
}

/// The reader's zone as a form names it: `Asia/Jakarta (WIB)`, `America/New_York (EST)`,
/// `UTC`.
pub fn zone_name() -> String {
    const ZONE: &[(&str, V)] = &[("timeZone", V::Zone), ("timeZoneName", V::S("short"))];
    let zone = i18n::current().time_zone;
    let short = formatter((Ctor::Date, ZONE))
        .and_then(|f| f.dyn_into::<js_sys::Intl::DateTimeFormat>().ok())
        .and_then(|f| {
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
    let object = Object::new();
    let _ = Reflect::set(&object, &s("timeZone"), &s(zone));
    !zone.is_empty() && date_time_format(&s("en-US"), &object).is_ok()
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
        assert_eq!(zone_offset(&moment), Some(9 * 3600));

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
        let in_zone = |zone: &str, text: &str| {
            with(Lang::En, zone, "USD");
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("a time");
            local_to_utc(local)
        };
        let cases = [
            ("Asia/Jakarta", "2025-03-01T09:30", "2025-03-01T02:30:00Z"),
            ("Asia/Makassar", "2025-03-01T09:30", "2025-03-01T01:30:00Z"),
            ("Asia/Jayapura", "2025-03-01T00:30", "2025-02-28T15:30:00Z"),
            // Either side of New York's change to summer time (2025-03-09, 02:00 → 03:00).
            (
                "America/New_York",
                "2025-03-08T12:00",
                "2025-03-08T17:00:00Z",
            ),
            (
                "America/New_York",
                "2025-03-10T12:00",
                "2025-03-10T16:00:00Z",
            ),
        ];
        for (zone, local, utc) in cases {
            assert_eq!(in_zone(zone, local), Some(at(utc)), "{zone} {local}");
        }
        assert_eq!(in_zone("Mars/Olympus", "2025-03-10T12:00"), None);
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
        // The locale is global: the tests after this one read English.
        i18n::set(Locale::default());
    }
}
