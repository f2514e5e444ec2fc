//! A small typed builder of PostgREST query strings: `select`, filters, `order`,
//! `limit`/`offset`. Values are percent-encoded; `in.(…)` values are quoted.

/// A query on one table (or RPC) of PostgREST.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    path: String,
    params: Vec<(String, String)>,
}

impl Query {
    /// A query on `table` selecting every column.
    pub fn table(table: &str) -> Self {
        Self {
            path: table.to_owned(),
            params: Vec::new(),
        }
    }

    fn push(mut self, key: &str, value: String) -> Self {
        self.params.push((key.to_owned(), value));
        self
    }

    /// `select=columns`.
    pub fn select(self, columns: &str) -> Self {
        self.push("select", columns.to_owned())
    }

    /// `col=eq.value`.
    pub fn eq(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("eq.{}", value.to_string()))
    }

    /// `col=neq.value`.
    pub fn neq(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("neq.{}", value.to_string()))
    }

    /// `col=gte.value`.
    pub fn gte(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("gte.{}", value.to_string()))
    }

    /// `col=lte.value`.
    pub fn lte(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("lte.{}", value.to_string()))
    }

    /// `col=lt.value`.
    pub fn lt(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("lt.{}", value.to_string()))
    }

    /// `col=gt.value`.
    pub fn gt(self, column: &str, value: impl ToString) -> Self {
        self.push(column, format!("gt.{}", value.to_string()))
    }

    /// `col=ilike.*text*`: contains `text`, any case. `*` and `%` typed by the user are
    /// taken literally as far as PostgREST allows (they are dropped).
    pub fn contains(self, column: &str, text: &str) -> Self {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '*' | '%' | '_' | '\\'))
            .collect();
        self.push(column, format!("ilike.*{cleaned}*"))
    }

    /// `col=in.("a","b")`.
    pub fn is_in<I, S>(self, column: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list: Vec<String> = values
            .into_iter()
            .map(|v| {
                format!(
                    "\"{}\"",
                    v.as_ref().replace('\\', "\\\\").replace('"', "\\\"")
                )
            })
            .collect();
        self.push(column, format!("in.({})", list.join(",")))
    }

    /// `col=is.null`.
    pub fn is_null(self, column: &str) -> Self {
        self.push(column, "is.null".to_owned())
    }

    /// `order=col.asc|desc` (appended to an existing order).
    pub fn order(mut self, column: &str, ascending: bool) -> Self {
        let term = format!("{column}.{}", if ascending { "asc" } else { "desc" });
        if let Some((_, existing)) = self.params.iter_mut().find(|(k, _)| k == "order") {
            existing.push(',');
            existing.push_str(&term);
            return self;
        }
        self.push("order", term)
    }

    /// `limit=n`.
    pub fn limit(self, n: u64) -> Self {
        self.push("limit", n.to_string())
    }

    /// `offset=n`.
    pub fn offset(self, n: u64) -> Self {
        self.push("offset", n.to_string())
    }

    /// `table?k=v&…`, percent-encoded.
    pub fn to_path(&self) -> String {
        if self.params.is_empty() {
            return self.path.clone();
        }
        let query: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{}?{}", self.path, query.join("&"))
    }
}

/// The value of `name` in a query string (`?a=1&b=x+y`, leading `?` optional),
/// form-decoded (`+` is a space, `%XX` a byte); the first one when repeated.
///
/// Read by hand instead of through serde_urlencoded (smaller wasm).
pub fn param(query: &str, name: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(key, _)| form_decode(key) == name)
        .map(|(_, value)| form_decode(value))
}

/// `application/x-www-form-urlencoded` decoding of one key or value.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| {
            bytes
                .get(at)
                .and_then(|b| char::from(*b).to_digit(16))
                .map(|d| d as u8)
        };
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but unreserved characters and the few PostgREST syntax
/// characters that are safe in a query (`.,()*:!`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b'('
            | b')'
            | b'*'
            | b':'
            | b'!' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn builds_filters_order_and_paging() {
        let query = Query::table("tasks")
            .select("id,title,status")
            .is_in("status", ["pending", "running"])
            .eq("type", "analytics_report")
            .contains("title", "Q3 report")
            .order("created_at", false)
            .order("id", true)
            .limit(20)
            .offset(40);
        assert_eq!(
            query.to_path(),
            "tasks?select=id,title,status&status=in.(%22pending%22,%22running%22)&type=eq.analytics_report&title=ilike.*Q3%20report*&order=created_at.desc,id.asc&limit=20&offset=40"
        );
    }

    #[wasm_bindgen_test]
    fn encodes_reserved_characters() {
        assert_eq!(encode("a&b=c/d+e"), "a%26b%3Dc%2Fd%2Be");
        assert_eq!(encode("été"), "%C3%A9t%C3%A9");
        assert_eq!(
            Query::table("t").contains("title", "50%_off*").to_path(),
            "t?title=ilike.*50off*"
        );
    }
}
