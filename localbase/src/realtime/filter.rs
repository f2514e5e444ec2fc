//! `postgres_changes` filters as Realtime parses them (`Subscriptions.parse_subscription_params`):
//! `col=op.value`, several joined by commas (AND), `not.` to negate, `in.(a,b)`, double quotes
//! around values that hold commas or parentheses.

/// The operators localbase evaluates (upstream's list minus `match`/`imatch`/`isdistinct`).
pub const OPERATORS: [&str; 10] = [
    "eq", "neq", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is",
];

/// One `col=[not.]op.value` condition of a `postgres_changes` filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    /// The column tested.
    pub column: String,
    /// The operator's name, one of [`OPERATORS`].
    pub op: String,
    /// The value as text; for `in`, the list items.
    pub values: Vec<String>,
    /// `not.` before the operator.
    pub negate: bool,
}

impl Filter {
    /// The SQL operator; `None` for `in` and `is`, which are written differently.
    pub fn sql_operator(&self) -> Option<&'static str> {
        Some(match self.op.as_str() {
            "eq" => "=",
            "neq" => "<>",
            "lt" => "<",
            "lte" => "<=",
            "gt" => ">",
            "gte" => ">=",
            "like" => "like",
            "ilike" => "ilike",
            _ => return None,
        })
    }
}

/// Splits on commas outside parentheses and double quotes.
fn split_top_level(s: &str) -> Vec<String> {
    let (mut parts, mut current) = (Vec::new(), String::new());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in s.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '(' if !quoted => {
                depth += 1;
                current.push(c);
            }
            ')' if !quoted => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if !quoted && depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return v.to_owned();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses a filter string; the error text is upstream's (`Error parsing `filter` params: …`).
pub fn parse(filter: &str) -> Result<Vec<Filter>, String> {
    let trimmed = filter.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut filters = Vec::new();
    for segment in split_top_level(trimmed) {
        let segment = segment.trim();
        if segment.is_empty() {
            return Err(
                "Error parsing `filter` params: filter must not contain empty segments (check for extra commas)"
                    .to_owned(),
            );
        }
        let Some((column, rest)) = segment.split_once('=') else {
            return Err(format!("Error parsing `filter` params: [{segment:?}]"));
        };
        let (negate, op_value) = match rest.strip_prefix("not.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let Some((op, value)) = op_value.split_once('.') else {
            return Err(format!("Error parsing `filter` params: [{op_value:?}]"));
        };
        if !OPERATORS.contains(&op) {
            return Err(format!(
                "Error parsing `filter` params: [{op:?}, {value:?}]"
            ));
        }
        let values = if op == "in" {
            let Some(list) = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) else {
                return Err(
                    "Error parsing `filter` params: `in` filter value must be wrapped by parentheses"
                        .to_owned(),
                );
            };
            split_top_level(list)
                .iter()
                .map(|v| unquote(v.trim()))
                .collect()
        } else if op == "is" {
            let v = value.to_ascii_lowercase();
            if !["null", "true", "false", "unknown"].contains(&v.as_str()) {
                return Err(
                    "Error parsing `filter` params: invalid value for is filter: must be null, true, false, or unknown"
                        .to_owned(),
                );
            }
            vec![v]
        } else {
            vec![unquote(value)]
        };
        filters.push(Filter {
            column: column.trim().to_owned(),
            op: op.to_owned(),
            values,
            negate,
        });
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(column: &str, op: &str, values: &[&str], negate: bool) -> Filter {
        Filter {
            column: column.into(),
            op: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            negate,
        }
    }

    #[test]
    fn upstreams_examples_parse_the_same() {
        assert_eq!(
            parse("subject=eq.hey"),
            Ok(vec![f("subject", "eq", &["hey"], false)])
        );
        assert_eq!(
            parse("subject=in.(hidee,ho)"),
            Ok(vec![f("subject", "in", &["hidee", "ho"], false)])
        );
        assert_eq!(
            parse("subject=not.like.hey%"),
            Ok(vec![f("subject", "like", &["hey%"], true)])
        );
        assert_eq!(
            parse("id=gt.0,id=lt.100"),
            Ok(vec![
                f("id", "gt", &["0"], false),
                f("id", "lt", &["100"], false)
            ])
        );
        assert_eq!(parse("   "), Ok(vec![]));
        assert_eq!(
            parse("title=eq.\"a,b\""),
            Ok(vec![f("title", "eq", &["a,b"], false)])
        );
        assert!(parse("subject=foo.hey").is_err());
        assert!(parse("undefined").is_err());
        assert!(parse("id=in.1,2").is_err());
        assert!(parse("a=eq.1,,b=eq.2").is_err());
    }
}
