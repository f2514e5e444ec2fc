//! What the worker tells people, as data: a [`Text`] is one `run.*` line of the catalogs
//! (`i18n/en.txt`, `i18n/id.txt`) and its values. The worker stores it twice: as a code
//! and values (`execution_logs.message_text`, `tasks.error_text`,
//! `task_executions.error_text`), which the SPA says in the reader's language and zone, and
//! as the English text (`message`, `error_message`) for the worker's own log, for
//! administrators reading the database and for older clients.
//!
//! The stored form, `{"code": "attempt_started", "args": {"n": 2, "of": 3, "worker": "w1"}}`:
//! a value is a number, a string shown as it is (a name, a path, a technical detail from
//! a library), another text, or one of `{"ms": …}` (a duration), `{"bytes": …}` (a size),
//! `{"date": "2024-04-01"}`, `{"at": "2024-04-01T06:00:00Z"}` (a moment),
//! `{"labels": "metric", "values": ["revenue"]}` (values of one of `domain`'s enums, said
//! by their names: `metric`, `task_type`, `export_dataset`), or a list of texts (said one
//! after the other, separated by `; `).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

include!(concat!(env!("OUT_DIR"), "/run_texts.rs"));

/// A line for people: a [`Run`] message and the values of its placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    run: Run,
    args: Vec<(&'static str, Arg)>,
}

/// The value of one placeholder.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Number(i64),
    Raw(String),
    Text(Box<Text>),
    Ms(i64),
    Bytes(u64),
    Date(NaiveDate),
    At(DateTime<Utc>),
    List(Vec<Text>),
    Labels(Labels, Vec<String>),
}

/// The enums of `domain` whose values a line may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// [`domain::Metric`].
    Metric,
    /// [`domain::TaskType`].
    TaskType,
    /// [`domain::ExportDataset`].
    ExportDataset,
}

impl Labels {
    const ALL: [Labels; 3] = [Labels::Metric, Labels::TaskType, Labels::ExportDataset];

    fn kind(self) -> &'static str {
        match self {
            Labels::Metric => "metric",
            Labels::TaskType => "task_type",
            Labels::ExportDataset => "export_dataset",
        }
    }

    /// The English name of `value` (the value itself when it is not one of the enum's).
    fn english(self, value: &str) -> String {
        let label = match self {
            Labels::Metric => value.parse::<domain::Metric>().map(|v| v.label()),
            Labels::TaskType => value.parse::<domain::TaskType>().map(|v| v.label()),
            Labels::ExportDataset => value.parse::<domain::ExportDataset>().map(|v| v.label()),
        };
        label.map_or_else(|_| value.to_owned(), str::to_owned)
    }
}

impl From<Run> for Text {
    fn from(run: Run) -> Self {
        Text::new(run)
    }
}

impl Text {
    /// `run` with no values yet.
    pub fn new(run: Run) -> Self {
        Self {
            run,
            args: Vec::new(),
        }
    }

    /// A technical detail shown as it is (a library's error): `run.detail`.
    pub fn detail(detail: impl fmt::Display) -> Self {
        Self::new(Run::Detail).raw("detail", detail)
    }

    /// The message.
    pub fn run(&self) -> Run {
        self.run
    }

    fn with(mut self, name: &'static str, arg: Arg) -> Self {
        self.args.push((name, arg));
        self
    }

    /// A count or a number (`n` also chooses between the forms of a count).
    pub fn num(self, name: &'static str, value: impl TryInto<i64>) -> Self {
        let value = value.try_into().unwrap_or(i64::MAX);
        self.with(name, Arg::Number(value))
    }

    /// A name, a path or a technical detail, shown as it is.
    pub fn raw(self, name: &'static str, value: impl fmt::Display) -> Self {
        self.with(name, Arg::Raw(value.to_string()))
    }

    /// Another line inside this one (the error of "Failed: {error}").
    pub fn text(self, name: &'static str, value: impl Into<Text>) -> Self {
        self.with(name, Arg::Text(Box::new(value.into())))
    }

    /// A duration in milliseconds.
    pub fn ms(self, name: &'static str, ms: i64) -> Self {
        self.with(name, Arg::Ms(ms))
    }

    /// A size in bytes.
    pub fn bytes(self, name: &'static str, bytes: u64) -> Self {
        self.with(name, Arg::Bytes(bytes))
    }

    /// A calendar day.
    pub fn date(self, name: &'static str, date: NaiveDate) -> Self {
        self.with(name, Arg::Date(date))
    }

    /// A moment (the reader sees it in their zone).
    pub fn at(self, name: &'static str, at: DateTime<Utc>) -> Self {
        self.with(name, Arg::At(at))
    }

    /// Values of one of `domain`'s enums (`revenue`), said by their names.
    pub fn labels(self, name: &'static str, kind: Labels, values: &[&str]) -> Self {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        self.with(name, Arg::Labels(kind, values))
    }

    /// Several lines, said one after the other.
    pub fn list(self, name: &'static str, items: Vec<Text>) -> Self {
        self.with(name, Arg::List(items))
    }

    /// The stored form (see the module's documentation).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("code".into(), Value::from(self.run.code()));
        if !self.args.is_empty() {
            let args: Map<String, Value> = self
                .args
                .iter()
                .map(|(name, arg)| ((*name).to_owned(), arg.to_json()))
                .collect();
            out.insert("args".into(), Value::Object(args));
        }
        Value::Object(out)
    }

    /// The English text.
    pub fn english(&self) -> String {
        let forms = self.run.english();
        let one = self
            .args
            .iter()
            .any(|(name, arg)| *name == "n" && *arg == Arg::Number(1));
        let form = match forms {
            [one_form, other] => {
                if one {
                    one_form
                } else {
                    other
                }
            }
            [only, ..] => only,
            [] => "",
        };
        let text = domain::template::fill(form, |name| {
            self.args
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, arg)| arg.english())
        });
        // A value may be empty (a status without a reason phrase) at the end.
        match text.trim_end().len() {
            len if len == text.len() => text,
            len => text[..len].to_owned(),
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl Arg {
    fn to_json(&self) -> Value {
        match self {
            Arg::Number(n) => Value::from(*n),
            Arg::Raw(s) => Value::from(s.as_str()),
            Arg::Text(t) => t.to_json(),
            Arg::Ms(ms) => json!({ "ms": ms }),
            Arg::Bytes(b) => json!({ "bytes": b }),
            Arg::Date(d) => json!({ "date": d.format("%Y-%m-%d").to_string() }),
            Arg::At(at) => json!({ "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }),
            Arg::List(items) => Value::Array(items.iter().map(Text::to_json).collect()),
            Arg::Labels(kind, values) => json!({ "labels": kind.kind(), "values": values }),
        }
    }

    fn english(&self) -> String {
        match self {
            Arg::Number(n) => n.to_string(),
            Arg::Raw(s) => s.clone(),
            Arg::Text(t) => t.english(),
            Arg::Ms(ms) => human_duration(*ms),
            Arg::Bytes(b) => human_bytes(*b),
            Arg::Date(d) => d.format("%Y-%m-%d").to_string(),
            Arg::At(at) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
            Arg::List(items) => items
                .iter()
                .map(Text::english)
                .collect::<Vec<_>>()
                .join("; "),
            Arg::Labels(kind, values) => values
                .iter()
                .map(|v| kind.english(v))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Formats a duration for people: `850 ms`, `2.4 s`, `3 min 5 s`.
pub fn human_duration(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let secs = ms / 1000;
        format!("{} min {} s", secs / 60, secs % 60)
    }
}

/// Formats a byte count for people: `512 bytes`, `12.3 KB`, `4.0 MB`.
pub fn human_bytes(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// The English text of a stored form, as the worker wrote it beside: `None` when the
/// form is not one (an unknown code, a value of an unknown kind). For checking stored rows.
pub fn english_of(stored: &Value) -> Option<String> {
    let code = stored.get("code")?.as_str()?;
    let run = Run::ALL.iter().copied().find(|run| run.code() == code)?;
    let args = stored.get("args").and_then(Value::as_object);
    let mut text = Text::new(run);
    for (name, value) in args.into_iter().flatten() {
        let name: &'static str = placeholder(run, name)?;
        let arg = match value {
            Value::Number(n) => Arg::Number(n.as_i64()?),
            Value::String(s) => Arg::Raw(s.clone()),
            Value::Array(items) => Arg::List(
                items
                    .iter()
                    .map(|item| english_of(item).map(Text::detail))
                    .collect::<Option<_>>()?,
            ),
            Value::Object(o) if o.contains_key("code") => {
                Arg::Text(Box::new(Text::detail(english_of(value)?)))
            }
            Value::Object(o) => {
                if let Some(kind) = o.get("labels") {
                    let kind = Labels::ALL
                        .into_iter()
                        .find(|k| Some(k.kind()) == kind.as_str())?;
                    let values = o.get("values")?.as_array()?;
                    let values = values
                        .iter()
                        .map(|v| v.as_str().map(str::to_owned))
                        .collect::<Option<_>>()?;
                    Arg::Labels(kind, values)
                } else if let Some(ms) = o.get("ms") {
                    Arg::Ms(ms.as_i64()?)
                } else if let Some(b) = o.get("bytes") {
                    Arg::Bytes(b.as_u64()?)
                } else if let Some(d) = o.get("date") {
                    Arg::Date(d.as_str()?.parse().ok()?)
                } else {
                    let at = o.get("at")?.as_str()?;
                    Arg::At(DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc))
                }
            }
            _ => return None,
        };
        text.args.push((name, arg));
    }
    Some(text.english())
}

/// `name` as it is written in `run`'s English text (so `'static`), if it is there.
fn placeholder(run: Run, name: &str) -> Option<&'static str> {
    run.english().iter().find_map(|form| {
        let at = form.find(&format!("{{{name}}}"))?;
        Some(&form[at + 1..at + 1 + name.len()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_stored_as_its_code_and_values_and_written_in_english() {
        let text = Text::new(Run::AttemptFailed)
            .num("n", 2)
            .num("of", 3)
            .text(
                "error",
                Text::new(Run::HttpAnswered)
                    .num("status", 503)
                    .raw("reason", "Service Unavailable"),
            )
            .ms("delay", 2400);
        assert_eq!(
            text.english(),
            "Attempt 2 of 3 failed: The server answered 503 Service Unavailable. Trying again in 2.4 s"
        );
        assert_eq!(
            text.to_json(),
            json!({"code": "attempt_failed", "args": {
                "n": 2, "of": 3, "delay": {"ms": 2400},
                "error": {"code": "http_answered", "args": {"status": 503, "reason": "Service Unavailable"}}
            }})
        );
        assert_eq!(
            english_of(&text.to_json()).as_deref(),
            Some(text.english().as_str())
        );
    }

    #[test]
    fn a_count_chooses_its_form() {
        let one = Text::new(Run::ImportDone).num("n", 1);
        let many = Text::new(Run::ImportDone).num("n", 1200);
        assert_eq!(one.english(), "Imported 1 event");
        assert_eq!(many.english(), "Imported 1200 events");
    }

    #[test]
    fn every_kind_of_value_survives_the_stored_form() {
        let text = Text::new(Run::ImportInvalid).num("n", 2).list(
            "errors",
            vec![
                Text::new(Run::RowValues).num("line", 3).num("n", 2),
                Text::new(Run::RowBadCsv)
                    .num("line", 4)
                    .text("detail", Run::RowNotUtf8),
            ],
        );
        assert_eq!(
            text.english(),
            "The file has 2 invalid rows; nothing was imported: line 3: expected 3 values, found 2; \
             line 4: not valid CSV (the text is not UTF-8)"
        );
        assert_eq!(english_of(&text.to_json()), Some(text.english()));
        let at = DateTime::parse_from_rfc3339("2024-04-01T06:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let next = Text::new(Run::NextRun).at("at", at.unwrap_or_default());
        assert_eq!(
            next.english(),
            "Next run scheduled for 2024-04-01 06:00 UTC"
        );
        assert_eq!(english_of(&next.to_json()), Some(next.english()));
        let size = Text::new(Run::ImportDownloaded).bytes("size", 2048);
        assert_eq!(
            english_of(&size.to_json()),
            Some("Downloaded 2.0 KB; checking every row".into())
        );
        assert_eq!(english_of(&json!({"code": "no_such_code"})), None);
    }

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(2400), "2.4 s");
        assert_eq!(human_duration(185_000), "3 min 5 s");
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(2048), "2.0 KB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MB");
    }
}
