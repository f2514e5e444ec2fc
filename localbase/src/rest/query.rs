//! PostgREST's URL grammar parsed into an AST. Nothing here produces SQL: names are checked
//! against the schema cache and values are bound as parameters in `sql.rs`.

use super::error::ApiError;
use std::collections::BTreeMap;

/// One entry of `select=`.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`: every column.
    Star,
    /// `alias:column::cast`.
    Column {
        /// The column, or a JSON path into it (`data->>key`).
        name: String,
        /// `alias:`: the key the value appears under instead of `name`.
        alias: Option<String>,
        /// `::type`: the type the value is cast to.
        cast: Option<String>,
    },
    /// `alias:relation!hint!inner(items)`.
    Embed(Embed),
}

/// A resource embedded in `select=`: a table or view related through a foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    /// The related table or view, by name.
    pub relation: String,
    /// `alias:`: the key the embedded rows appear under instead of `relation`.
    pub alias: Option<String>,
    /// A foreign key constraint name or column naming the relationship (`!fk`).
    pub hint: Option<String>,
    /// `!inner`: keep only parents that have a matching embedded row.
    pub inner: bool,
    /// The items inside the parentheses (`*` for an empty `rel()`).
    pub select: Vec<SelectItem>,
}

impl Embed {
    /// The key the embedded resource appears under, and under which its own filters are named.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.relation)
    }
}

/// A filter operator, as named in `col=op.value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `eq`: equal to the value (`=`).
    Eq,
    /// `neq`: not equal to the value (`<>`).
    Neq,
    /// `gt`: greater than the value (`>`).
    Gt,
    /// `gte`: greater than or equal to the value (`>=`).
    Gte,
    /// `lt`: less than the value (`<`).
    Lt,
    /// `lte`: less than or equal to the value (`<=`).
    Lte,
    /// `like`: SQL `LIKE` on the text form, `*` standing for `%`.
    Like,
    /// `ilike`: case-insensitive `like` (`ILIKE`).
    Ilike,
    /// `match`: matches a POSIX regular expression (`~`).
    Match,
    /// `imatch`: matches a POSIX regular expression, ignoring case (`~*`).
    Imatch,
    /// `in`: one of a list, `in.(a,b,c)`.
    In,
    /// `is`: `IS NULL`, `IS TRUE`, `IS FALSE` or `IS UNKNOWN`.
    Is,
    /// `isdistinct`: `IS DISTINCT FROM` the value (a not-equal where null is a value).
    IsDistinct,
    /// `cs`: contains the value (`@>`), for arrays, ranges and JSON.
    Contains,
    /// `cd`: is contained in the value (`<@`).
    ContainedIn,
    /// `ov`: overlaps the value (`&&`), for arrays and ranges.
    Overlaps,
}

impl Operator {
    fn parse(s: &str) -> Option<Operator> {
        Some(match s {
            "eq" => Operator::Eq,
            "neq" => Operator::Neq,
            "gt" => Operator::Gt,
            "gte" => Operator::Gte,
            "lt" => Operator::Lt,
            "lte" => Operator::Lte,
            "like" => Operator::Like,
            "ilike" => Operator::Ilike,
            "match" => Operator::Match,
            "imatch" => Operator::Imatch,
            "in" => Operator::In,
            "is" => Operator::Is,
            "isdistinct" => Operator::IsDistinct,
            "cs" => Operator::Contains,
            "cd" => Operator::ContainedIn,
            "ov" => Operator::Overlaps,
            _ => return None,
        })
    }
}

/// The keyword after `is.`, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsValue {
    /// `is.null`: `IS NULL`.
    Null,
    /// `is.true`: `IS TRUE`.
    True,
    /// `is.false`: `IS FALSE`.
    False,
    /// `is.unknown`: `IS UNKNOWN`, a null boolean.
    Unknown,
}

/// A filter's right-hand side, in the form its operator takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// One value as text, bound as a parameter (unquoted when it came from a logic tree).
    Value(String),
    /// The items of `in.(…)`, unquoted.
    List(Vec<String>),
    /// The keyword of `is.…`.
    Is(IsValue),
}

/// A filter or a logic tree (`or=(…)`, `and=(…)`), each optionally negated.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `column=[not.]op.operand`, or `column.[not.]op.operand` inside a logic tree.
    Filter {
        /// The column (or JSON path) tested, as written.
        column: String,
        /// `not.` before the operator.
        negate: bool,
        /// How `column` is compared with `operand`.
        op: Operator,
        /// The right-hand side, parsed as `op` reads it.
        operand: Operand,
    },
    /// `and=(…)` / `or=(…)`, or an `and(…)` / `or(…)` nested in one.
    Logic {
        /// `true` for `and`, `false` for `or`.
        and: bool,
        /// `not.and` / `not.or`: the whole tree negated.
        negate: bool,
        /// The conditions it joins, in order.
        children: Vec<Condition>,
    },
}

/// One term of `order=`: `col[.asc|.desc][.nullsfirst|.nullslast]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTerm {
    /// The column (or JSON path) sorted by.
    pub column: String,
    /// `.desc`; ascending otherwise.
    pub desc: bool,
    /// `Some(true)` for nullsfirst, `Some(false)` for nullslast.
    pub nulls_first: Option<bool>,
}

/// Filters, order and paging of one resource: the root (empty path) or an embedded one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeParams {
    /// Filters and logic trees; a row must satisfy all of them.
    pub conditions: Vec<Condition>,
    /// `order=`: the sort keys, most significant first.
    pub order: Vec<OrderTerm>,
    /// `limit=`: at most this many rows.
    pub limit: Option<i64>,
    /// `offset=`: how many rows to skip first.
    pub offset: Option<i64>,
}

/// Everything the query string says.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams {
    /// `select=` (`*` when absent).
    pub select: Vec<SelectItem>,
    /// By embed path (`[]` is the root, `["task_executions"]` an embedded resource).
    pub nodes: BTreeMap<Vec<String>, NodeParams>,
    /// `columns=`: the body keys a write takes (otherwise the keys of its objects).
    pub columns: Option<Vec<String>>,
    /// `on_conflict=`: the unique columns an upsert conflicts on (otherwise the primary key).
    pub on_conflict: Option<Vec<String>>,
    /// For `GET /rpc/fn`: the parameters that name function arguments.
    pub rpc_args: Vec<(String, String)>,
}

impl QueryParams {
    /// The root resource's parameters (empty ones when the query gives none).
    pub fn root(&self) -> NodeParams {
        self.nodes.get(&Vec::new()).cloned().unwrap_or_default()
    }
}

/// How deep `or=(and(…))` trees and embeds (`rel(rel(…))`) may nest. PostgREST sets no
/// bound; the parser and the SQL writer recurse once per level, so a few thousand levels in
/// a URL of a few kilobytes would overflow the stack and abort the whole server.
pub const MAX_NESTING: usize = 16;

fn parse_error(what: &str, details: impl Into<String>) -> ApiError {
    ApiError::pgrst(
        400,
        "PGRST100",
        format!("\"failed to parse {what}\""),
        Some(details.into()),
        None,
    )
}

/// Splits a raw query string into decoded pairs (`+` is a space, as in HTML forms).
pub fn decode_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Parses the query string. `is_rpc_arg` says which names are arguments of the called
/// function (GET `/rpc/fn`); for tables it is always false.
pub fn parse(
    pairs: &[(String, String)],
    is_rpc_arg: &dyn Fn(&str) -> bool,
) -> Result<QueryParams, ApiError> {
    let mut params = QueryParams {
        select: vec![SelectItem::Star],
        nodes: BTreeMap::new(),
        columns: None,
        on_conflict: None,
        rpc_args: Vec::new(),
    };
    for (key, value) in pairs {
        match key.as_str() {
            "select" => {
                params.select = parse_select(value)?;
                continue;
            }
            "columns" => {
                params.columns = Some(split_names(value));
                continue;
            }
            "on_conflict" => {
                params.on_conflict = Some(split_names(value));
                continue;
            }
            _ => {}
        }
        if is_rpc_arg(key) {
            params.rpc_args.push((key.clone(), value.clone()));
            continue;
        }
        let segments: Vec<&str> = key.split('.').collect();
        let (path, field, negate_logic) = match segments.as_slice() {
            [] => continue,
            [rest @ .., "not", last @ ("or" | "and")] => (rest.to_vec(), *last, true),
            [rest @ .., last] => (rest.to_vec(), *last, false),
        };
        let path: Vec<String> = path.into_iter().map(str::to_owned).collect();
        let node = params.nodes.entry(path).or_default();
        match field {
            "order" => node.order = parse_order(value)?,
            "limit" => node.limit = Some(parse_count("limit", value)?),
            "offset" => node.offset = Some(parse_count("offset", value)?),
            "or" | "and" => {
                let children = parse_logic_list(value, 1)?;
                node.conditions.push(Condition::Logic {
                    and: field == "and",
                    negate: negate_logic,
                    children,
                });
            }
            column => node.conditions.push(parse_filter(column, value)?),
        }
    }
    Ok(params)
}

fn split_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_count(what: &str, value: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            parse_error(
                &format!("{what} parameter ({value})"),
                "expecting a non-negative integer",
            )
        })
}

/// `col=[not.]op.value`.
pub fn parse_filter(column: &str, expr: &str) -> Result<Condition, ApiError> {
    parse_filter_expr(column, expr, false)
}

fn parse_filter_expr(column: &str, expr: &str, in_logic: bool) -> Result<Condition, ApiError> {
    let err = || {
        parse_error(
            &format!("filter ({column}={expr})"),
            "expecting an operator such as eq, in or is",
        )
    };
    let (negate, rest) = match expr.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, expr),
    };
    let (op, value) = rest.split_once('.').ok_or_else(err)?;
    let op = Operator::parse(op).ok_or_else(err)?;
    let operand = match op {
        Operator::In => Operand::List(parse_list(value).ok_or_else(err)?),
        Operator::Is => Operand::Is(match value.to_ascii_lowercase().as_str() {
            "null" => IsValue::Null,
            "true" => IsValue::True,
            "false" => IsValue::False,
            "unknown" => IsValue::Unknown,
            _ => return Err(err()),
        }),
        _ if in_logic => Operand::Value(unquote(value)),
        _ => Operand::Value(value.to_owned()),
    };
    let column = column.trim();
    if column.is_empty() {
        return Err(err());
    }
    Ok(Condition::Filter {
        column: column.to_owned(),
        negate,
        op,
        operand,
    })
}

/// Whether the parentheses outside double quotes pair up: `(a.eq.x);drop(` is one list
/// followed by junk, not a list whose last value is `x);drop(` (PostgREST: a parse error).
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut in_quotes = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && !in_quotes
}

/// `(a,"b,c",d)` → `["a", "b,c", "d"]`.
fn parse_list(value: &str) -> Option<Vec<String>> {
    let inner = value.trim().strip_prefix('(')?.strip_suffix(')')?;
    if !balanced(inner) {
        return None;
    }
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(
        split_top_level(inner)
            .into_iter()
            .map(|s| unquote(s.trim()))
            .collect(),
    )
}

/// Strips surrounding double quotes and undoes `\"` and `\\`.
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => s.to_owned(),
    }
}

/// Splits on commas outside parentheses and double quotes.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes => depth -= 1,
            ',' if !in_quotes && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// `(a.eq.1,and(b.gt.2,c.lt.3))`, at `depth` (1 for the outermost list).
fn parse_logic_list(value: &str, depth: usize) -> Result<Vec<Condition>, ApiError> {
    let err = || parse_error(&format!("logic tree ({value})"), "expecting \"(\" … \")\"");
    if depth > MAX_NESTING {
        return Err(parse_error(
            "logic tree",
            format!("more than {MAX_NESTING} levels of nested and/or"),
        ));
    }
    let inner = value
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .filter(|inner| balanced(inner))
        .ok_or_else(err)?;
    let mut out = Vec::new();
    for item in split_top_level(inner) {
        let item = item.trim();
        if item.is_empty() {
            return Err(err());
        }
        let (negate, body) = match item.strip_prefix("not.") {
            Some(rest) if rest.starts_with("and(") || rest.starts_with("or(") => (true, rest),
            _ => (false, item),
        };
        if let Some(rest) = body.strip_prefix("and") {
            if rest.starts_with('(') {
                out.push(Condition::Logic {
                    and: true,
                    negate,
                    children: parse_logic_list(rest, depth + 1)?,
                });
                continue;
            }
        }
        if let Some(rest) = body.strip_prefix("or") {
            if rest.starts_with('(') {
                out.push(Condition::Logic {
                    and: false,
                    negate,
                    children: parse_logic_list(rest, depth + 1)?,
                });
                continue;
            }
        }
        let (column, expr) = item.split_once('.').ok_or_else(err)?;
        out.push(parse_filter_expr(column, expr, true)?);
    }
    Ok(out)
}

/// `order=col.desc.nullslast,col2`.
pub fn parse_order(value: &str) -> Result<Vec<OrderTerm>, ApiError> {
    let mut terms = Vec::new();
    for part in value.split(',') {
        let mut pieces = part.trim().split('.');
        let column = pieces.next().unwrap_or_default().trim().to_owned();
        if column.is_empty() {
            return Err(parse_error(
                &format!("order ({value})"),
                "expecting a column name",
            ));
        }
        let mut term = OrderTerm {
            column,
            desc: false,
            nulls_first: None,
        };
        for modifier in pieces {
            match modifier {
                "asc" => term.desc = false,
                "desc" => term.desc = true,
                "nullsfirst" => term.nulls_first = Some(true),
                "nullslast" => term.nulls_first = Some(false),
                other => {
                    return Err(parse_error(
                        &format!("order ({value})"),
                        format!("unexpected \"{other}\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\""),
                    ))
                }
            }
        }
        terms.push(term);
    }
    Ok(terms)
}

/// `select=` items.
pub fn parse_select(value: &str) -> Result<Vec<SelectItem>, ApiError> {
    let mut parser = SelectParser {
        s: value,
        chars: value.char_indices().collect(),
        pos: 0,
        depth: 0,
    };
    let items = parser.items()?;
    if parser.pos != parser.chars.len() {
        return Err(parser.error("unexpected \")\""));
    }
    Ok(items)
}

struct SelectParser<'a> {
    s: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    /// Embeds open around the current position.
    depth: usize,
}

impl SelectParser<'_> {
    fn error(&self, details: &str) -> ApiError {
        parse_error(
            &format!("select parameter ({})", self.s),
            format!("{details} at column {}", self.pos + 1),
        )
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn items(&mut self) -> Result<Vec<SelectItem>, ApiError> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            items.push(self.item()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                _ => break,
            }
        }
        Ok(items)
    }

    /// A name: double-quoted, or characters up to a delimiter.
    fn name(&mut self) -> Result<String, ApiError> {
        self.skip_ws();
        if self.peek() == Some('"') {
            self.pos += 1;
            let mut out = String::new();
            loop {
                match self.peek() {
                    None => return Err(self.error("unterminated quoted name")),
                    Some('"') => {
                        self.pos += 1;
                        break;
                    }
                    Some('\\') => {
                        self.pos += 1;
                        if let Some(c) = self.peek() {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                    Some(c) => {
                        out.push(c);
                        self.pos += 1;
                    }
                }
            }
            return Ok(out);
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, ',' | '(' | ')' | '!' | ':') {
                break;
            }
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos]
            .iter()
            .map(|(_, c)| *c)
            .collect();
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(self.error("expecting a column or relation name"));
        }
        if name.starts_with("...") {
            return Err(self.error("spread embedding (...) is not supported by localbase"));
        }
        Ok(name)
    }

    fn item(&mut self) -> Result<SelectItem, ApiError> {
        self.skip_ws();
        if self.peek() == Some('*') {
            self.pos += 1;
            return Ok(SelectItem::Star);
        }
        let first = self.name()?;
        self.skip_ws();
        // `alias:name` (but not `name::cast`).
        let (alias, name) = if self.peek() == Some(':')
            && self.chars.get(self.pos + 1).map(|(_, c)| *c) != Some(':')
        {
            self.pos += 1;
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        self.skip_ws();
        let mut hint = None;
        let mut inner = false;
        while self.peek() == Some('!') {
            self.pos += 1;
            let h = self.name()?;
            match h.as_str() {
                "inner" => inner = true,
                "left" => {}
                _ => hint = Some(h),
            }
            self.skip_ws();
        }
        if self.peek() == Some('(') {
            if self.depth >= MAX_NESTING {
                return Err(self.error(&format!("more than {MAX_NESTING} levels of embedding")));
            }
            self.pos += 1;
            self.skip_ws();
            self.depth += 1;
            let select = if self.peek() == Some(')') {
                vec![SelectItem::Star]
            } else {
                self.items()?
            };
            self.depth -= 1;
            self.skip_ws();
            if self.peek() != Some(')') {
                return Err(self.error("expecting \")\""));
            }
            self.pos += 1;
            return Ok(SelectItem::Embed(Embed {
                relation: name,
                alias,
                hint,
                inner,
                select,
            }));
        }
        if hint.is_some() || inner {
            return Err(self.error("expecting \"(\" after a relationship hint"));
        }
        let mut cast = None;
        if self.peek() == Some(':') {
            self.pos += 2;
            cast = Some(self.name()?);
        }
        Ok(SelectItem::Column { name, alias, cast })
    }
}

/// `Prefer:` preferences PostgREST honours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=`: what a write answers with.
    pub ret: Return,
    /// `count=`: whether and how the total in `Content-Range` is counted.
    pub count: Option<Count>,
    /// `resolution=`: makes a POST an upsert.
    pub resolution: Option<Resolution>,
    /// `missing=default`: keys missing from a body object take the column default, not null.
    pub missing_default: bool,
}

/// `Prefer: count=…`: how the total in `Content-Range` is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `count(*)` of every matching row.
    Exact,
    /// The planner's row estimate (`EXPLAIN`), from the table's statistics.
    Planned,
    /// Exact up to `max_rows`, the planned count (if larger) beyond it.
    Estimated,
}

impl Count {
    /// The value of `Preference-Applied` for this mode.
    pub fn applied(self) -> &'static str {
        match self {
            Count::Exact => "count=exact",
            Count::Planned => "count=planned",
            Count::Estimated => "count=estimated",
        }
    }
}

/// `Prefer: return=…`: what a write answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Return {
    /// `return=minimal`, the default: no body.
    #[default]
    Minimal,
    /// `return=headers-only`: no body, but a `Location` for a single created row.
    HeadersOnly,
    /// `return=representation`: the affected rows, shaped by `select=`.
    Representation,
}

/// `Prefer: resolution=…`: what an upsert does with a row whose key already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `merge-duplicates`: update the existing row (`on conflict … do update`).
    MergeDuplicates,
    /// `ignore-duplicates`: keep the existing row (`on conflict … do nothing`).
    IgnoreDuplicates,
}

impl Prefer {
    /// Reads every `Prefer` header value; preferences it does not know are ignored.
    pub fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Prefer {
        let mut prefer = Prefer::default();
        for value in values {
            for item in value.split(',') {
                match item.trim() {
                    "return=representation" => prefer.ret = Return::Representation,
                    "return=headers-only" => prefer.ret = Return::HeadersOnly,
                    "return=minimal" => prefer.ret = Return::Minimal,
                    "count=exact" => prefer.count = Some(Count::Exact),
                    "count=planned" => prefer.count = Some(Count::Planned),
                    "count=estimated" => prefer.count = Some(Count::Estimated),
                    "resolution=merge-duplicates" => {
                        prefer.resolution = Some(Resolution::MergeDuplicates)
                    }
                    "resolution=ignore-duplicates" => {
                        prefer.resolution = Some(Resolution::IgnoreDuplicates)
                    }
                    "missing=default" => prefer.missing_default = true,
                    _ => {}
                }
            }
        }
        prefer
    }
}

/// `Range: 0-14` (items) → (offset, limit).
pub fn parse_range(value: &str) -> Result<(i64, Option<i64>), ApiError> {
    let err = || {
        ApiError::pgrst(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            Some(format!("The range {value} is not valid")),
            None,
        )
    };
    let v = value.trim();
    let v = v.strip_prefix("items=").unwrap_or(v);
    let (start, end) = v.split_once('-').ok_or_else(err)?;
    let start: i64 = start.trim().parse().map_err(|_| err())?;
    if start < 0 {
        return Err(err());
    }
    if end.trim().is_empty() {
        return Ok((start, None));
    }
    let end: i64 = end.trim().parse().map_err(|_| err())?;
    if end < start {
        return Err(err());
    }
    // `0-9223372036854775807` is every row: its length does not fit an i64.
    Ok((start, (end - start).checked_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_args(_: &str) -> bool {
        false
    }

    #[test]
    fn select_with_aliases_casts_and_embeds() {
        let items =
            parse_select("id,t:title,created_at::text,task_executions!inner(status,attempt)")
                .expect("parses");
        assert_eq!(items.len(), 4);
        assert_eq!(
            items[1],
            SelectItem::Column {
                name: "title".into(),
                alias: Some("t".into()),
                cast: None
            }
        );
        assert_eq!(
            items[2],
            SelectItem::Column {
                name: "created_at".into(),
                alias: None,
                cast: Some("text".into())
            }
        );
        match &items[3] {
            SelectItem::Embed(e) => {
                assert!(e.inner);
                assert_eq!(e.relation, "task_executions");
                assert_eq!(e.select.len(), 2);
            }
            other => panic!("expected an embed, got {other:?}"),
        }
        assert!(parse_select("id,(").is_err());
        assert_eq!(
            parse_select("theme:preferences->>theme").expect("parses")[0],
            SelectItem::Column {
                name: "preferences->>theme".into(),
                alias: Some("theme".into()),
                cast: None
            }
        );
    }

    #[test]
    fn filters_lists_and_logic_trees() {
        let pairs = vec![
            ("status".to_owned(), "in.(pending,\"a,b\")".to_owned()),
            ("title".to_owned(), "not.ilike.*report*".to_owned()),
            (
                "or".to_owned(),
                "(priority.eq.high,and(progress.gt.2,progress.lt.50))".to_owned(),
            ),
            ("task_executions.status".to_owned(), "eq.failed".to_owned()),
            ("error_message".to_owned(), "is.null".to_owned()),
        ];
        let q = parse(&pairs, &no_args).expect("parses");
        let root = q.root();
        assert_eq!(root.conditions.len(), 4);
        assert_eq!(
            root.conditions[0],
            Condition::Filter {
                column: "status".into(),
                negate: false,
                op: Operator::In,
                operand: Operand::List(vec!["pending".into(), "a,b".into()])
            }
        );
        match &root.conditions[2] {
            Condition::Logic {
                and: false,
                children,
                ..
            } => assert_eq!(children.len(), 2),
            other => panic!("expected or, got {other:?}"),
        }
        assert_eq!(
            q.nodes
                .get(&vec!["task_executions".to_owned()])
                .map(|n| n.conditions.len()),
            Some(1)
        );
        assert!(parse(&[("title".into(), "nope.x".into())], &no_args).is_err());
    }

    #[test]
    fn nesting_is_bounded_and_lists_must_pair_their_parentheses() {
        let tree =
            |levels: usize| format!("({}a.eq.1{})", "and(".repeat(levels), ")".repeat(levels));
        let logic = |value: String| parse(&[("or".to_owned(), value)], &no_args);
        assert!(logic(tree(MAX_NESTING - 1)).is_ok());
        assert!(logic(tree(MAX_NESTING)).is_err());
        assert!(logic(tree(100_000)).is_err(), "refused without recursing");
        let embeds = |levels: usize| format!("{}id{}", "t(".repeat(levels), ")".repeat(levels));
        assert!(parse_select(&embeds(MAX_NESTING)).is_ok());
        assert!(parse_select(&embeds(MAX_NESTING + 1)).is_err());
        assert!(parse_select(&embeds(100_000)).is_err());

        assert!(logic("(a.eq.x);drop(".to_owned()).is_err());
        assert!(logic("(a.eq.Report (draft))".to_owned()).is_ok());
        assert!(logic("(a.eq.\"x)\")".to_owned()).is_ok());
        assert!(parse(&[("a".into(), "in.(x);drop(".into())], &no_args).is_err());
        assert!(parse(&[("a".into(), "in.(\"x)\",y)".into())], &no_args).is_ok());
    }

    #[test]
    fn order_range_and_prefer() {
        let terms = parse_order("created_at.desc.nullslast,id").expect("parses");
        assert_eq!(
            terms[0],
            OrderTerm {
                column: "created_at".into(),
                desc: true,
                nulls_first: Some(false)
            }
        );
        assert!(!terms[1].desc);
        assert!(parse_order("id.sideways").is_err());
        assert_eq!(parse_range("0-14").ok(), Some((0, Some(15))));
        assert_eq!(parse_range("5-").ok(), Some((5, None)));
        assert!(parse_range("9-2").is_err());
        assert_eq!(parse_range("0-9223372036854775807").ok(), Some((0, None)));
        let p = Prefer::parse(["return=representation, count=exact"].into_iter());
        assert_eq!(p.ret, Return::Representation);
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(
            Prefer::parse(["count=planned"].into_iter()).count,
            Some(Count::Planned)
        );
        assert_eq!(
            Prefer::parse(["count=estimated"].into_iter()).count,
            Some(Count::Estimated)
        );
        assert_eq!(Prefer::parse(["count=maybe"].into_iter()).count, None);
    }
}
