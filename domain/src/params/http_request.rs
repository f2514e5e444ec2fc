//! Parameters of an `http_request` task.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Parameters of an `http_request` task:
/// `{"method":"POST","url":"https://…","headers":{…}?,"body":…?,"timeoutSecs":10?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestParams {
    /// The request method.
    pub method: HttpMethod,
    /// An absolute `http://` or `https://` URL with a host, at most 2048 characters.
    pub url: String,
    /// Extra request headers: token names, single-line values.
    pub headers: Option<BTreeMap<String, String>>,
    /// The body: a JSON string is sent as is, any other JSON value as JSON.
    /// Not allowed with GET or HEAD.
    pub body: Option<Value>,
    /// Seconds before the request is abandoned, 1 to 60 (default 30).
    pub timeout_secs: Option<u32>,
}

/// How an [`HttpRequestParams`] body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody<'a> {
    /// A JSON string: sent as is (`text/plain; charset=utf-8` unless a `Content-Type`
    /// header says otherwise).
    Text(&'a str),
    /// Any other JSON value: sent serialized, as `application/json`.
    Json(&'a Value),
}

impl HttpRequestParams {
    /// The JSON field names.
    pub const FIELDS: &'static [&'static str] =
        &["method", "url", "headers", "body", "timeoutSecs"];
    /// The longest URL, in characters.
    pub const MAX_URL_CHARS: usize = 2048;
    /// The timeout when none is given.
    pub const DEFAULT_TIMEOUT_SECS: u32 = 30;
    /// The longest timeout that may be asked for.
    pub const MAX_TIMEOUT_SECS: u32 = 60;

    /// Parses and checks the parameters.
    ///
    /// Errors: `method must be one of GET, POST, PUT, PATCH, DELETE, HEAD`, `url is
    /// required`, `url must be an absolute http:// or https:// URL`, `url must be at most
    /// 2048 characters`, `headers must be an object of header names and values`, `headers
    /// has an invalid header name "X Y"`, `headers.X-Y must be a single line of text`,
    /// `timeoutSecs must be between 1 and 60`, `body is not allowed with GET or HEAD`.
    pub fn parse(value: &Value) -> Result<Self, DomainError> {
        let map = parameters_object(value)?;
        reject_unknown_fields(map, Self::FIELDS, "")?;
        let method = one_of(member(map, "method"), "method", HttpMethod::VALUES)?;
        let url = match member(map, "url") {
            None => return Err(DomainError::invalid("url", Rule::Required)),
            Some(Value::String(url)) => url.trim().to_owned(),
            Some(_) => return Err(url_error()),
        };
        let headers = match member(map, "headers") {
            None => None,
            Some(value) => {
                let map = object(value, "headers", Rule::HeadersObject)?;
                let mut headers = BTreeMap::new();
                for (name, value) in map {
                    check_header_name(name)?;
                    let value = value.as_str().ok_or_else(|| header_value_error(name))?;
                    headers.insert(name.clone(), value.to_owned());
                }
                Some(headers)
            }
        };
        let timeout_secs = match member(map, "timeoutSecs") {
            None => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|secs| u32::try_from(secs).ok())
                    .ok_or_else(Self::timeout_error)?,
            ),
        };
        let params = Self {
            method,
            url,
            headers,
            body: member(map, "body").cloned(),
            timeout_secs,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks the URL, headers, timeout and body rules.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.url.is_empty() {
            return Err(DomainError::invalid("url", Rule::Required));
        }
        if self.url.chars().count() > Self::MAX_URL_CHARS {
            return Err(DomainError::invalid(
                "url",
                Rule::AtMostChars(Self::MAX_URL_CHARS),
            ));
        }
        if !is_http_url(&self.url) {
            return Err(url_error());
        }
        for (name, value) in self.headers.iter().flatten() {
            check_header_name(name)?;
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(header_value_error(name));
            }
        }
        if let Some(secs) = self.timeout_secs {
            if !(1..=Self::MAX_TIMEOUT_SECS).contains(&secs) {
                return Err(Self::timeout_error());
            }
        }
        if self.body.as_ref().is_some_and(|body| !body.is_null()) && !self.method.allows_body() {
            return Err(DomainError::invalid("body", Rule::BodyNotAllowed));
        }
        Ok(())
    }

    /// How long to wait for the response: `timeoutSecs`, or 30 seconds.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(
            self.timeout_secs.unwrap_or(Self::DEFAULT_TIMEOUT_SECS),
        ))
    }

    /// The body to send, if any.
    pub fn request_body(&self) -> Option<RequestBody<'_>> {
        match self.body.as_ref()? {
            Value::Null => None,
            Value::String(text) => Some(RequestBody::Text(text)),
            value => Some(RequestBody::Json(value)),
        }
    }

    /// The JSON form; absent optional fields are left out.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("method".into(), Value::String(self.method.as_str().into()));
        map.insert("url".into(), Value::String(self.url.clone()));
        if let Some(headers) = &self.headers {
            // Inserted one by one: collecting into the map would sort the pairs first,
            // which brings a whole sort routine into the wasm for nothing.
            let mut object = Map::new();
            for (name, value) in headers {
                object.insert(name.clone(), Value::String(value.clone()));
            }
            map.insert("headers".into(), Value::Object(object));
        }
        if let Some(body) = self.body.as_ref().filter(|body| !body.is_null()) {
            map.insert("body".into(), body.clone());
        }
        if let Some(secs) = self.timeout_secs {
            map.insert("timeoutSecs".into(), Value::from(secs));
        }
        Value::Object(map)
    }
}

fn url_error() -> DomainError {
    DomainError::invalid("url", Rule::Url)
}

impl HttpRequestParams {
    /// The error for a timeout outside 1..=[`Self::MAX_TIMEOUT_SECS`] (or not a number).
    pub fn timeout_error() -> DomainError {
        DomainError::invalid("timeoutSecs", Rule::Between(Self::MAX_TIMEOUT_SECS.into()))
    }
}

fn header_value_error(name: &str) -> DomainError {
    DomainError::invalid(path("headers", name), Rule::SingleLine)
}

/// A header name is a non-empty RFC 9110 token.
fn check_header_name(name: &str) -> Result<(), DomainError> {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(DomainError::invalid(
            "headers",
            Rule::HeaderName(quote(&Value::from(name))),
        ));
    }
    Ok(())
}

/// `http://` or `https://` (any case), then a host (optionally with user info and a
/// numeric port), no whitespace or control characters anywhere.
fn is_http_url(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    let (host_ok, port) = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let address_ok = !address.is_empty()
            && address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (address_ok, port)
    } else {
        let (host, port) = match host_and_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_and_port, None),
        };
        let host_ok = !host.is_empty()
            && !host.starts_with('.')
            && !host.contains("..")
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '%'));
        (host_ok, port)
    };
    let port_ok = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|port| port > 0));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::params::tests::message;

    fn http(value: Value) -> Result<HttpRequestParams, DomainError> {
        HttpRequestParams::parse(&value)
    }

    #[test]
    fn http_request_round_trips() {
        let value = json!({
            "method": "POST",
            "url": "https://api.example.com/v1/hooks?x=1",
            "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
            "body": {"hello": "world"},
            "timeoutSecs": 10
        });
        let params = http(value.clone()).expect("valid");
        assert_eq!(params.method, HttpMethod::Post);
        assert_eq!(params.timeout(), Duration::from_secs(10));
        assert_eq!(
            params.request_body(),
            Some(RequestBody::Json(&json!({"hello": "world"})))
        );
        assert_eq!(params.to_json(), value);
        let back: HttpRequestParams =
            serde_json::from_value(serde_json::to_value(&params).expect("serializes"))
                .expect("deserializes");
        assert_eq!(back, params);
    }

    #[test]
    fn http_request_minimal_and_defaults() {
        let params = http(json!({"method": "GET", "url": "http://localhost:8080"})).expect("valid");
        assert_eq!(params.timeout(), Duration::from_secs(30));
        assert_eq!(params.request_body(), None);
        assert_eq!(
            params.to_json(),
            json!({"method": "GET", "url": "http://localhost:8080"})
        );
        let params = http(json!({
            "method": "PUT", "url": "https://example.com", "body": "plain text",
            "headers": null, "timeoutSecs": null
        }))
        .expect("valid");
        assert_eq!(params.request_body(), Some(RequestBody::Text("plain text")));
        assert_eq!(params.headers, None);
    }

    #[test]
    fn http_request_method_messages() {
        let expected = "method must be one of GET, POST, PUT, PATCH, DELETE, HEAD";
        assert_eq!(
            message(http(json!({"url": "https://example.com"}))),
            expected
        );
        assert_eq!(
            message(http(json!({"method": "get", "url": "https://example.com"}))),
            expected
        );
    }

    #[test]
    fn http_request_url_messages() {
        assert_eq!(message(http(json!({"method": "GET"}))), "url is required");
        assert_eq!(
            message(http(json!({"method": "GET", "url": "  "}))),
            "url is required"
        );
        let expected = "url must be an absolute http:// or https:// URL";
        for bad in [
            json!(42),
            json!("example.com"),
            json!("ftp://example.com/file"),
            json!("https://"),
            json!("https:///path"),
            json!("http://exa mple.com"),
            json!("https://example.com:99999/"),
            json!("https://example.com:/"),
            json!("https://user@/x"),
            json!("https://[::1/"),
            json!("javascript:alert(1)"),
            json!("https://.example.com"),
        ] {
            assert_eq!(
                message(http(json!({"method": "GET", "url": bad}))),
                expected,
                "{bad}"
            );
        }
        for good in [
            "https://example.com",
            "HTTPS://Example.com/a/b?c=d#e",
            "http://user:pw@example.com:8080/",
            "http://[::1]:3000/health",
            "http://127.0.0.1/",
            "https://bücher.example/",
        ] {
            assert!(
                http(json!({"method": "GET", "url": good})).is_ok(),
                "{good}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(
            message(http(json!({"method": "GET", "url": long}))),
            "url must be at most 2048 characters"
        );
    }

    #[test]
    fn http_request_header_messages() {
        let request = |headers: Value| {
            http(json!({"method": "GET", "url": "https://example.com", "headers": headers}))
        };
        assert_eq!(
            message(request(json!(["Accept: */*"]))),
            "headers must be an object of header names and values"
        );
        assert_eq!(
            message(request(json!({"X Bad": "1"}))),
            "headers has an invalid header name \"X Bad\""
        );
        assert_eq!(
            message(request(json!({"": "1"}))),
            "headers has an invalid header name \"\""
        );
        assert_eq!(
            message(request(json!({"X-Evil": "a\r\nSet-Cookie: x"}))),
            "headers.X-Evil must be a single line of text"
        );
        assert_eq!(
            message(request(json!({"X-Count": 3}))),
            "headers.X-Count must be a single line of text"
        );
        assert!(request(json!({"Accept": "*/*", "X-Tab": "a\tb"})).is_ok());
    }

    #[test]
    fn http_request_timeout_messages() {
        let expected = "timeoutSecs must be between 1 and 60";
        for bad in [
            json!(0),
            json!(61),
            json!(-1),
            json!(1.5),
            json!("10"),
            json!((1u64 << 40)),
        ] {
            assert_eq!(
                message(http(json!({
                    "method": "GET", "url": "https://example.com", "timeoutSecs": bad
                }))),
                expected
            );
        }
        for good in [1, 60] {
            assert!(http(json!({
                "method": "GET", "url": "https://example.com", "timeoutSecs": good
            }))
            .is_ok());
        }
    }

    #[test]
    fn http_request_body_is_not_allowed_with_get_or_head() {
        for method in ["GET", "HEAD"] {
            assert_eq!(
                message(http(json!({
                    "method": method, "url": "https://example.com", "body": {"a": 1}
                }))),
                "body is not allowed with GET or HEAD"
            );
        }
        assert!(http(json!({"method": "GET", "url": "https://example.com", "body": null})).is_ok());
        assert!(
            http(json!({"method": "DELETE", "url": "https://example.com", "body": [1]})).is_ok()
        );
    }

    #[test]
    fn http_request_rejects_unknown_fields() {
        assert_eq!(
            message(http(
                json!({"method": "GET", "url": "https://example.com", "timeout": 5})
            )),
            "unknown field \"timeout\""
        );
    }
}
