//! Small helpers to read a `serde_json::Value` field by field, so each rule can say which
//! field is wrong and how, instead of surfacing serde's messages.

use std::str::FromStr;

use serde_json::{Map, Value};

use crate::{DomainError, Rule};

/// `prefix.name`, or `name` at the root (empty prefix).
pub(crate) fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `value` as an object, or `{field} {message}`.
pub(crate) fn object<'a>(
    value: &'a Value,
    field: &str,
    rule: Rule,
) -> Result<&'a Map<String, Value>, DomainError> {
    value
        .as_object()
        .ok_or_else(|| DomainError::invalid(field, rule))
}

/// Fails on the first member of `map` not in `allowed`, naming it with its full path.
pub(crate) fn reject_unknown_fields(
    map: &Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
) -> Result<(), DomainError> {
    match map.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(DomainError::unknown_field(path(prefix, key))),
        None => Ok(()),
    }
}

/// The member `name`, treating JSON `null` as absent.
pub(crate) fn member<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|value| !value.is_null())
}

/// A string enum's value, or `{field} must be one of a, b, c` when missing, not a string
/// or not one of `values`.
pub(crate) fn one_of<T: FromStr>(
    value: Option<&Value>,
    field: &str,
    values: &'static [&'static str],
) -> Result<T, DomainError> {
    value
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| DomainError::invalid(field, Rule::OneOf(values)))
}

/// How a JSON value is quoted in a message: strings in double quotes, others as JSON.
pub(crate) fn quote(value: &Value) -> String {
    value.to_string()
}
