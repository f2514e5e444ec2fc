//! `domain::db_errors` maps the database's messages and CHECK constraints to stable codes;
//! this test reads `migrations/` (no database needed) and proves the table and the SQL
//! still agree: every mapped message is raised somewhere and every mapped constraint
//! exists, and every message the migrations raise is mapped (a message that is only a
//! value, `'%'`, is the domain's own words, said by the SPA from `DomainError`).

use std::collections::BTreeSet;
use std::path::Path;

use domain::db_errors::{DbSource, DB_ERRORS};

/// Every migration's text, in order.
fn migrations() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the migrations folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a readable migration"))
        .collect()
}

/// The messages of `raise exception '…'`, as written (with `''` for a quote).
fn raised(sql: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (_, after) in sql
        .match_indices("raise exception '")
        .map(|(i, m)| sql.split_at(i + m.len()))
    {
        let mut message = String::new();
        let mut chars = after.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    message.push_str("''");
                    continue;
                }
                break;
            }
            message.push(c);
        }
        found.push(message);
    }
    found
}

/// Every CHECK constraint's name: named ones, and the names PostgreSQL gives inline ones
/// (`<table>_<column>_check`, `<table>_check`) in `create table` statements.
fn constraints(sql: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let words: Vec<&str> = sql.split_whitespace().collect();
    for pair in words.windows(3) {
        if pair[0] == "constraint" && pair[2].starts_with("check") {
            names.insert(pair[1].to_owned());
        }
    }
    let mut table: Option<String> = None;
    for line in sql.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("create table ") {
            let name = rest.split([' ', '(']).next().unwrap_or_default();
            table = Some(name.rsplit('.').next().unwrap_or(name).to_owned());
            continue;
        }
        let Some(t) = &table else { continue };
        if line.starts_with(");") {
            table = None;
        } else if line.starts_with("check (") {
            names.insert(format!("{t}_check"));
        } else if line.contains(" check (") || line.ends_with(" check") {
            if let Some(column) = line.split_whitespace().next() {
                names.insert(format!("{t}_{column}_check"));
            }
        }
    }
    names
}

#[test]
fn every_mapped_message_and_constraint_is_still_in_the_migrations() {
    let sql = migrations();
    let messages: BTreeSet<String> = sql.iter().flat_map(|s| raised(s)).collect();
    let checks: BTreeSet<String> = sql.iter().flat_map(|s| constraints(s)).collect();
    assert!(
        messages.len() > 20,
        "the parser finds the messages: {messages:?}"
    );
    let mut missing = Vec::new();
    for (source, error) in DB_ERRORS {
        let present = match source {
            DbSource::Raised(message) => messages.contains(*message),
            DbSource::Constraint(name) => checks.contains(*name),
        };
        if !present {
            missing.push(format!("{source:?} ({error:?})"));
        }
    }
    assert!(
        missing.is_empty(),
        "no longer in migrations/: {missing:#?}\nconstraints: {checks:?}"
    );
}

#[test]
fn every_message_the_migrations_raise_has_a_code() {
    let mapped: BTreeSet<&str> = DB_ERRORS
        .iter()
        .filter_map(|(source, _)| match source {
            DbSource::Raised(message) => Some(*message),
            DbSource::Constraint(_) => None,
        })
        .collect();
    let unmapped: BTreeSet<String> = migrations()
        .iter()
        .flat_map(|s| raised(s))
        .filter(|message| message != "%" && !mapped.contains(message.as_str()))
        .collect();
    assert!(
        unmapped.is_empty(),
        "give these a code in domain::db_errors: {unmapped:#?}"
    );
}
