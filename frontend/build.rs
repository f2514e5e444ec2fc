//! Checks the message catalogs (`i18n/en.txt`, `i18n/id.txt`) and writes `$OUT_DIR/messages.rs`:
//! a `Msg` enum with one variant per key, their count and a hash of the keys. The texts
//! stay out of the wasm: Trunk copies the catalogs into `dist/i18n/`, the SPA fetches the
//! reader's language at start-up and takes its texts by position (`Msg as usize`), after
//! checking the count and the hash.
//!
//! The build fails when the catalogs differ in keys, in their order, in placeholders, or in
//! the forms of a plural, so a missing translation cannot ship. (The wasm tests check the
//! same again on the files themselves.)
//!
//! The format, one message a line (`#` starts a comment line):
//!
//! ```text
//! nav.tasks = Tasks
//! tasks.delete_confirm = Delete "{title}"?
//! tasks.count[one] = {n} task
//! tasks.count[other] = {n} tasks
//! ```
//!
//! `{name}` is a placeholder; `key[one]`/`key[other]` are the forms of a count (both are
//! required, in every language); `\n` is a line break.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

/// The languages, in the order of `i18n::Lang`; the first one defines the keys' order.
const LANGS: [&str; 2] = ["en", "id"];

/// One message of a catalog: its key, its forms (one, or one + other) and its line.
struct Entry {
    key: String,
    forms: Vec<String>,
    line: usize,
    /// Given as `key[one]` (then `key[other]` must follow).
    plural: bool,
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../i18n");
    let mut catalogs = Vec::new();
    for lang in LANGS {
        let path = dir.join(format!("{lang}.txt"));
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        catalogs.push(parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    let (first, rest) = catalogs.split_first().expect("LANGS is not empty");
    for (lang, catalog) in LANGS.iter().skip(1).zip(rest) {
        if let Err(e) = same_shape(first, catalog).and_then(|()| same_order(first, catalog)) {
            panic!("i18n/{lang}.txt differs from i18n/en.txt: {e}");
        }
    }

    let mut out = String::new();
    out.push_str(
        "/// A message of the catalogs (`i18n/*.txt`), one variant per key.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\n#[repr(u16)]\npub enum Msg {\n",
    );
    for entry in first {
        let forms = if entry.forms.len() > 1 {
            " (a count: one/other)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    /// `{}`{forms}: {:?}\n    {},",
            entry.key,
            entry.forms.join(" / "),
            variant(&entry.key)
        );
    }
    out.push_str("}\n\nimpl Msg {\n    /// Every message, in the catalogs' order.\n    pub const ALL: [Msg; COUNT] = [\n");
    for entry in first {
        let _ = writeln!(out, "        Msg::{},", variant(&entry.key));
    }
    out.push_str("    ];\n\n");
    // The worker's lines are stored by code (`run.<code>`, see worker/src/text.rs). The
    // `run.*` keys are the last ones of the catalogs; their codes go in as one string (a
    // `match` over a hundred strings costs more code than this data).
    let run: Vec<&str> = first
        .iter()
        .filter_map(|e| e.key.strip_prefix("run."))
        .collect();
    let first_run = first.len() - run.len();
    assert!(
        first[first_run..].iter().all(|e| e.key.starts_with("run.")),
        "i18n/en.txt: the run.* keys must be the last ones"
    );
    let _ = write!(
        out,
        "    /// The message of a code the worker stores (`attempt_started` → `run.attempt_started`).\n    \
         pub fn run(code: &str) -> Option<Msg> {{\n        \
         const CODES: &str = {:?};\n        \
         let at = CODES.split('\\n').position(|c| c == code)?;\n        \
         Msg::ALL.get({first_run} + at).copied()\n    }}\n}}\n\n",
        run.join("\n")
    );
    let _ = writeln!(
        out,
        "/// How many messages there are.\npub const COUNT: usize = {};\n",
        first.len()
    );
    // The texts are not compiled in: the SPA fetches `/i18n/<lang>.txt` (copied into
    // `dist/` by Trunk) and takes them by position, checking the count and this hash of
    // the keys (the same order in every catalog, checked above).
    let _ = writeln!(
        out,
        "/// FNV-1a (64 bits) of the keys in order, each followed by a line break.\n\
         pub const KEYS_HASH: u64 = {:#x};",
        keys_hash(first.iter().map(|e| e.key.as_str()))
    );
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("messages.rs"), out).expect("write messages.rs");
}

/// The entries of one catalog, forms of a plural gathered under their key.
fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: no `=`", i + 1))?;
        let (key, value) = (key.trim(), value.trim().replace("\\n", "\n"));
        if value.is_empty() {
            return Err(format!("line {}: `{key}` has no text", i + 1));
        }
        let (key, form) = match key.strip_suffix("[one]") {
            Some(k) => (k, Some(0)),
            None => match key.strip_suffix("[other]") {
                Some(k) => (k, Some(1)),
                None => (key, None),
            },
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        {
            return Err(format!("line {}: bad key `{key}`", i + 1));
        }
        // `[one]` starts an entry like a plain key; `[other]` must follow it.
        match (form, entries.last_mut()) {
            (Some(1), Some(last)) if last.plural && last.key == key && last.forms.len() == 1 => {
                last.forms.push(value);
            }
            (Some(1), _) => {
                return Err(format!(
                    "line {}: `{key}[other]` without `[one]` before it",
                    i + 1
                ))
            }
            _ => {
                if entries.iter().any(|e| e.key == key) {
                    return Err(format!("line {}: `{key}` twice", i + 1));
                }
                entries.push(Entry {
                    key: key.to_owned(),
                    forms: vec![value],
                    line: i + 1,
                    plural: form == Some(0),
                });
            }
        }
    }
    if let Some(e) = entries.iter().find(|e| e.plural && e.forms.len() != 2) {
        return Err(format!(
            "line {}: `{}[one]` without `[other]`",
            e.line, e.key
        ));
    }
    if let Some(e) = entries
        .iter()
        .find(|e| e.forms.iter().any(|f| f.contains('\u{1f}')))
    {
        return Err(format!(
            "line {}: a control character in `{}`",
            e.line, e.key
        ));
    }
    Ok(entries)
}

/// `Ok` when `other` has the same keys, forms and placeholders as `first`.
fn same_shape(first: &[Entry], other: &[Entry]) -> Result<(), String> {
    let keys = |c: &[Entry]| c.iter().map(|e| e.key.clone()).collect::<BTreeSet<_>>();
    let (a, b) = (keys(first), keys(other));
    let missing: Vec<_> = a.difference(&b).collect();
    let extra: Vec<_> = b.difference(&a).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!("missing {missing:?}, extra {extra:?}"));
    }
    for entry in first {
        let own = other
            .iter()
            .find(|e| e.key == entry.key)
            .expect("same keys");
        if own.forms.len() != entry.forms.len() {
            return Err(format!("`{}`: a count in one and not the other", entry.key));
        }
        for (x, y) in entry.forms.iter().zip(&own.forms) {
            if placeholders(x) != placeholders(y) {
                return Err(format!(
                    "`{}` (line {}): placeholders {:?} vs {:?}",
                    entry.key,
                    own.line,
                    placeholders(x),
                    placeholders(y)
                ));
            }
        }
    }
    Ok(())
}

/// `Ok` when `other` lists its keys in the order of `first` (the SPA takes the texts of a
/// catalog by position).
fn same_order(first: &[Entry], other: &[Entry]) -> Result<(), String> {
    match first.iter().zip(other).find(|(a, b)| a.key != b.key) {
        Some((a, b)) => Err(format!(
            "line {}: `{}` where i18n/en.txt has `{}` (line {}): keep the keys in the same order",
            b.line, b.key, a.key, a.line
        )),
        None => Ok(()),
    }
}

/// FNV-1a (64 bits) over each key followed by `\n`; the SPA computes the same while it
/// reads a catalog (`i18n::catalog::install`).
fn keys_hash<'a>(keys: impl Iterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in keys.flat_map(|k| k.bytes().chain([b'\n'])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The `{name}`s of a text.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// `tasks.delete_confirm` → `TasksDeleteConfirm`.
fn variant(key: &str) -> String {
    key.split(['.', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
