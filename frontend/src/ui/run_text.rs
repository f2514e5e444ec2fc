//! The worker's words in the reader's language: a log line, an attempt's error or a task's
//! error is stored both in English and as a code with values (`message_text`,
//! `error_text`: `{"code": "attempt_failed", "args": {"n": 2, "error": {"code": …}}}`, see
//! `worker/src/text.rs`). The code is a `run.*` message of the catalogs; numbers, sizes,
//! durations, days and moments are formatted here for the reader (moments in their zone),
//! the names of metrics, task types and datasets said in their words, and a value that
//! is itself a line said the same way.
//!
//! A row without a code (written before codes existed), or with one this build does not
//! know (a newer worker), is shown in its English.

use serde_json::{Map, Value};

use crate::api::time;

use crate::i18n::{label, tf, tn, Msg};
use crate::ui::format;

/// `stored` in the current language, else `english`.
pub fn say(stored: Option<&Value>, english: &str) -> String {
    stored.and_then(line).unwrap_or_else(|| english.to_owned())
}

/// Why `task` failed (its error, else its last attempt's), in the current language.
pub fn task_error(task: &domain::Task) -> Option<String> {
    match (&task.error_message, &task.last_error) {
        (Some(english), _) => Some(say(task.error_text.as_ref(), english)),
        (None, Some(english)) => Some(say(task.last_error_text.as_ref(), english)),
        (None, None) => None,
    }
}

/// One stored line, or `None` when it is not one this build can say.
fn line(stored: &Value) -> Option<String> {
    let msg = Msg::run(stored.get("code")?.as_str()?)?;
    let empty = Map::new();
    let args = stored
        .get("args")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let values: Vec<(&str, String)> = args
        .iter()
        .map(|(name, value)| Some((name.as_str(), value_text(value)?)))
        .collect::<Option<_>>()?;
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Some(match args.get("n").and_then(Value::as_i64) {
        Some(n) => tn(msg, n, &pairs),
        None => tf(msg, &pairs),
    })
}

/// One value, for the reader.
fn value_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => format::number(n.as_f64()?, 0),
        Value::Array(items) => items
            .iter()
            .map(line)
            .collect::<Option<Vec<_>>>()?
            .join("; "),
        Value::Object(o) if o.contains_key("code") => line(value)?,
        Value::Object(o) => {
            if let Some(ms) = o.get("ms") {
                format::duration_ms(ms.as_i64()?)
            } else if let Some(bytes) = o.get("bytes") {
                format::human_size(bytes.as_i64())
            } else if let Some(day) = o.get("date") {
                format::date(time::parse_date(day.as_str()?)?)
            } else if let Some(at) = o.get("at") {
                format::datetime(&time::parse_time(at.as_str()?)?)
            } else {
                labels(o.get("labels")?.as_str()?, o.get("values")?.as_array()?)?
            }
        }
        Value::Bool(_) | Value::Null => return None,
    })
}

/// The names of values of one of `domain`'s enums, `Pendapatan, Pesanan`.
fn labels(kind: &str, values: &[Value]) -> Option<String> {
    let names = values
        .iter()
        .map(|value| {
            let value = value.as_str()?;
            Some(match kind {
                "metric" => label(value.parse::<domain::Metric>().ok()?),
                "task_type" => label(value.parse::<domain::TaskType>().ok()?),
                "export_dataset" => label(value.parse::<domain::ExportDataset>().ok()?),
                _ => return None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(names.join(", "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::i18n::{self, Lang, Locale};

    fn with(lang: Lang, zone: &str) {
        i18n::set(Locale {
            lang,
            time_zone: zone.into(),
            currency: "IDR".into(),
        });
    }

    // Intl writes no-break spaces in places; the tests read them as plain spaces.
    fn plain(text: String) -> String {
        text.replace(['\u{a0}', '\u{202f}'], " ")
    }

    #[wasm_bindgen_test]
    fn a_stored_line_is_said_in_the_readers_language_and_formats() {
        let failed = json!({"code": "attempt_failed", "args": {
            "n": 2, "of": 3, "delay": {"ms": 2400},
            "error": {"code": "http_answered", "args": {"status": 503, "reason": "Service Unavailable"}}
        }});
        with(Lang::Id, "Asia/Jakarta");
        {
            assert_eq!(
                plain(say(Some(&failed), "english")),
                "Percobaan 2 dari 3 gagal: Server menjawab 503 Service Unavailable. Dicoba lagi dalam 2,4 dtk"
            );
            let computing = json!({"code": "report_computing", "args": {
                "metrics": {"labels": "metric", "values": ["revenue", "orders"]},
                "start": {"date": "2024-04-01"}, "end": {"date": "2024-04-30"}
            }});
            let said = plain(say(Some(&computing), "english"));
            assert!(
                said.starts_with("Menghitung Pendapatan, Pesanan dari 1 Apr 2024"),
                "{said}"
            );
            let next = json!({"code": "next_run", "args": {"at": {"at": "2024-04-01T06:00:00Z"}}});
            let said = plain(say(Some(&next), "english"));
            assert!(said.contains("13.00") && said.contains("WIB"), "{said}");
            let imported = json!({"code": "import_done", "args": {"n": 1200}});
            assert_eq!(say(Some(&imported), "english"), "1200 peristiwa diimpor");
        }
        with(Lang::En, "UTC");
        {
            let one = json!({"code": "import_done", "args": {"n": 1}});
            assert_eq!(say(Some(&one), "x"), "Imported 1 event");
            let size = json!({"code": "import_downloaded", "args": {"size": {"bytes": 2048}}});
            assert_eq!(
                plain(say(Some(&size), "x")),
                "Downloaded 2.0 kB; checking every row"
            );
        }
    }

    #[wasm_bindgen_test]
    fn a_line_without_a_known_code_is_shown_in_its_english() {
        with(Lang::Id, "UTC");
        {
            assert_eq!(
                say(None, "Attempt 1 of 3 started"),
                "Attempt 1 of 3 started"
            );
            let newer = json!({"code": "from_a_newer_worker"});
            assert_eq!(say(Some(&newer), "As written"), "As written");
            let odd = json!({"code": "completed", "args": {"duration": {"weeks": 2}}});
            assert_eq!(
                say(Some(&odd), "Completed in 2 weeks"),
                "Completed in 2 weeks"
            );
        }
        // The locale is global: the tests after this one read English.
        i18n::set(Locale::default());
    }
}
