//! Writes `$OUT_DIR/run_texts.rs`: the [`Run`] enum of the worker's words for people, one
//! variant per `run.*` key of the English catalog (`i18n/en.txt`, shared with the SPA),
//! with its code and its English forms. The worker stores a line as its code and values
//! (`message_text`, `error_text`) and writes the English text beside it; the SPA says the
//! same code in the reader's language. A code the worker uses that the catalog lacks
//! therefore does not compile. (The SPA's build checks that every language has the same
//! keys and placeholders.)
//!
//! It also has the crate rebuilt when a query file (`queries/`), the queries' checked data
//! (`.sqlx/`) or `SQLX_OFFLINE` changes: `sqlx::query_file!` reads them at compile time,
//! and cargo does not know that by itself.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=queries");
    println!("cargo:rerun-if-changed=.sqlx");
    println!("cargo:rerun-if-env-changed=SQLX_OFFLINE");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../i18n/en.txt");
    println!("cargo:rerun-if-changed={}", path.display());
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // (code, forms): `key[one]` and `key[other]` are the two forms of one code.
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        let Some((key, value)) = line.strip_prefix("run.").and_then(|l| l.split_once('=')) else {
            continue;
        };
        let key = key.trim();
        let code = key
            .strip_suffix("[one]")
            .or_else(|| key.strip_suffix("[other]"))
            .unwrap_or(key);
        let value = value.trim().replace("\\n", "\n");
        match runs.last_mut() {
            Some((last, forms)) if last == code && key.ends_with("[other]") => forms.push(value),
            _ => runs.push((code.to_owned(), vec![value])),
        }
    }
    assert!(!runs.is_empty(), "{}: no run.* messages", path.display());

    let mut out = String::from(
        "/// A line the worker writes for people (`run.*` in `i18n/en.txt`).\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum Run {\n",
    );
    for (code, forms) in &runs {
        let _ = writeln!(
            out,
            "    /// {:?}\n    {},",
            forms.join(" / "),
            variant(code)
        );
    }
    out.push_str("}\n\nimpl Run {\n    /// Every message, in the catalog's order.\n    pub const ALL: &'static [Run] = &[\n");
    for (code, _) in &runs {
        let _ = writeln!(out, "        Run::{},", variant(code));
    }
    out.push_str("    ];\n\n    /// The code stored with the line (`run.<code>` in the catalogs).\n    pub const fn code(self) -> &'static str {\n        match self {\n");
    for (code, _) in &runs {
        let _ = writeln!(out, "            Run::{} => {code:?},", variant(code));
    }
    out.push_str("        }\n    }\n\n    /// The English text: one form, or the forms for a count `n` of one and of more.\n    pub const fn english(self) -> &'static [&'static str] {\n        match self {\n");
    for (code, forms) in &runs {
        let _ = writeln!(out, "            Run::{} => &{forms:?},", variant(code));
    }
    out.push_str("        }\n    }\n}\n");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("run_texts.rs"), out).expect("write run_texts.rs");
}

/// `attempt_started` → `AttemptStarted`.
fn variant(code: &str) -> String {
    code.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
