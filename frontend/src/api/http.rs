//! The one request layer under every service: `fetch` through gloo-net, with `apikey`
//! and `Authorization: Bearer`, a refresh of the session shortly before it expires and
//! once after a 401 (then the request is retried), and every error body mapped to
//! [`AppError`].

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo::net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::JsValue;
use web_sys::{RequestRedirect, ResponseType};
use yew::Callback;

use crate::api::config::Config;
use crate::api::decode::{self, FromJson};
use crate::api::error::AppError;
use crate::api::session::{self, AuthUser, RefreshDecision, Session, SessionResponse};

/// A request to one of the services.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Body,
    auth: bool,
    manual_redirect: bool,
}

#[derive(Debug, Clone)]
enum Body {
    Empty,
    Json(String),
    Raw(JsValue, String),
}

impl ApiRequest {
    /// A request with the user's JWT (the anon key when signed out).
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Body::Empty,
            auth: true,
            manual_redirect: false,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::POST, url)
    }

    /// `PATCH url`.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::PATCH, url)
    }

    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::PUT, url)
    }

    /// `DELETE url`.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::DELETE, url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        // Serializing our own types to JSON cannot fail (no maps with non-string keys).
        self.body = Body::Json(serde_json::to_string(body).unwrap_or_else(|_| "null".into()));
        self
    }

    /// A raw body (a `File`) with its content type.
    pub fn raw(mut self, body: JsValue, content_type: impl Into<String>) -> Self {
        self.body = Body::Raw(body, content_type.into());
        self
    }

    /// Sent with the anon key only (sign-in, sign-up, recovery, refresh).
    pub fn anonymous(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Do not follow redirects; the response then says [`ApiResponse::redirected`].
    pub fn manual_redirect(mut self) -> Self {
        self.manual_redirect = true;
        self
    }

    /// The URL, for tests and logs.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Range` (PostgREST counts).
    pub content_range: Option<String>,
    /// The body as text.
    pub body: String,
    /// The server answered with a redirect that was not followed.
    pub redirected: bool,
}

impl ApiResponse {
    /// The body as rows (an array of objects), read without serde's derived code.
    pub fn rows<T: FromJson>(&self) -> Result<Vec<T>, AppError> {
        decode::many(&decode::parse(&self.body)?)
    }

    /// The body as one row (an object).
    pub fn row<T: FromJson>(&self) -> Result<T, AppError> {
        decode::one(&decode::parse(&self.body)?)
    }

    /// The total of `Content-Range: 0-24/123`, if counted.
    pub fn total(&self) -> Option<u64> {
        self.content_range
            .as_deref()
            .and_then(parse_content_range)
            .and_then(|range| range.total)
    }
}

/// `Content-Range` of PostgREST: `0-24/3573458`, `*/0`, `0-24/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First and last row of the page, when there are rows.
    pub rows: Option<(u64, u64)>,
    /// The total, with `Prefer: count=exact`.
    pub total: Option<u64>,
}

/// Parses a `Content-Range` header.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim().trim_start_matches("items").trim();
    let (range, total) = value.split_once('/')?;
    let rows = if range == "*" {
        None
    } else {
        let (first, last) = range.split_once('-')?;
        Some((first.trim().parse().ok()?, last.trim().parse().ok()?))
    };
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse().ok()?),
    };
    Some(ContentRange { rows, total })
}

type RefreshFuture = Shared<LocalBoxFuture<'static, Result<Session, AppError>>>;

struct Inner {
    config: Config,
    base: String,
    session: RefCell<Option<Session>>,
    listener: RefCell<Option<Callback<Option<Session>>>>,
    refreshing: RefCell<Option<RefreshFuture>>,
}

/// The client of the three services; cheap to clone, one per app.
#[derive(Clone)]
pub struct Api(Rc<Inner>);

impl PartialEq for Api {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Api {
    /// A client for `config`, starting with the session kept in localStorage.
    pub fn new(config: Config, origin: &str) -> Self {
        let base = config.base_url(origin);
        Self(Rc::new(Inner {
            config,
            base,
            session: RefCell::new(session::load()),
            listener: RefCell::new(None),
            refreshing: RefCell::new(None),
        }))
    }

    /// Called with the new session whenever it changes (refresh, sign-out).
    pub fn on_session_change(&self, callback: Callback<Option<Session>>) {
        *self.0.listener.borrow_mut() = Some(callback);
    }

    /// The public anon key.
    pub fn anon_key(&self) -> String {
        self.0.config.supabase_anon_key.clone()
    }

    /// `{supabase}/rest/v1/{path}`.
    pub fn rest(&self, path: &str) -> String {
        format!("{}/rest/v1/{}", self.0.base, path.trim_start_matches('/'))
    }

    /// `{supabase}/auth/v1/{path}`.
    pub fn auth(&self, path: &str) -> String {
        format!("{}/auth/v1/{}", self.0.base, path.trim_start_matches('/'))
    }

    /// `{supabase}/storage/v1/{path}`.
    pub fn storage(&self, path: &str) -> String {
        format!(
            "{}/storage/v1/{}",
            self.0.base,
            path.trim_start_matches('/')
        )
    }

    /// The current session.
    pub fn session(&self) -> Option<Session> {
        self.0.session.borrow().clone()
    }

    /// The signed-in user's id: the owner filter of "my …" lists.
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        self.0.session.borrow().as_ref().map(|s| s.user.id)
    }

    /// Replaces the session: kept in localStorage and announced to the app.
    pub fn set_session(&self, session: Option<Session>) {
        session::store(session.as_ref());
        *self.0.session.borrow_mut() = session.clone();
        let listener = self.0.listener.borrow().clone();
        if let Some(listener) = listener {
            listener.emit(session);
        }
    }

    /// Sends `request`: refreshes first when the token is about to expire, retries once
    /// after refreshing on a 401, and maps failures to [`AppError`].
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, AppError> {
        if request.auth {
            if let Some(current) = self.session() {
                if session::refresh_decision(current.expires_at, session::now_secs())
                    == RefreshDecision::RefreshNow
                {
                    self.refresh().await?;
                }
            }
        }
        let mut retried = false;
        loop {
            let response = self.fetch(&request).await?;
            if (200..300).contains(&response.status) || response.redirected {
                return Ok(response);
            }
            if request.auth
                && session::retry_after_refresh(response.status, retried, self.session().is_some())
            {
                retried = true;
                self.refresh().await?;
                continue;
            }
            let error = AppError::from_response(response.status, &response.body);
            return Err(if request.auth {
                self.check_mfa(error, &response.body).await
            } else {
                error
            });
        }
    }

    /// A refusal of an `aal1` session may mean the user has turned on two-step sign-in
    /// since this session's user was read (on another device, say): the database then
    /// answers `mfa_required` (or a plain 42501, or nothing at all). The user is read
    /// again; when it has a verified factor now, the session needs the code (the guard
    /// takes the user to the code step) and the error says so.
    async fn check_mfa(&self, error: AppError, body: &str) -> AppError {
        let suspect = matches!(error, AppError::MfaRequired | AppError::Forbidden);
        let aal1 = self.session().is_some_and(|s| !s.is_aal2());
        if !suspect || !aal1 || self.reload_user().await.is_err() {
            return error;
        }
        match self.session() {
            Some(session) if session.needs_code() => AppError::MfaRequired,
            // `mfa_required` without a factor to verify (an administrator who must set
            // one up first): the database's own words say what to do.
            _ if error == AppError::MfaRequired => AppError::database_words(body),
            _ => error,
        }
    }

    /// The user of `access_token`, read from `/auth/v1/user` (with its factors).
    pub async fn user_of(&self, access_token: &str) -> Result<AuthUser, AppError> {
        let request = ApiRequest::get(self.auth("user"))
            .anonymous()
            .header("Authorization", format!("Bearer {access_token}"));
        let response = self.fetch(&request).await?;
        if (200..300).contains(&response.status) {
            response.row()
        } else {
            Err(AppError::from_response(response.status, &response.body))
        }
    }

    /// The session of an Auth token answer (sign-in, code, refresh). Unless the token is
    /// `aal2` already, its user is read from `/auth/v1/user`: the user's verified factors
    /// decide whether the session still needs the code ([`session::assurance`]), and an
    /// answer may come without its user. When that read fails, `fallback` (if any) is
    /// the user.
    pub async fn settle(
        &self,
        answer: SessionResponse,
        fallback: Option<AuthUser>,
    ) -> Result<Session, AppError> {
        let now = session::now_secs();
        if let Some(user) = answer
            .user()
            .filter(|_| session::token_aal(answer.access_token()).as_deref() == Some("aal2"))
        {
            let user = user.clone();
            return Ok(answer.into_session(now, user));
        }
        let user = match (self.user_of(answer.access_token()).await, fallback) {
            (Ok(user), _) => user,
            (Err(_), Some(user)) => user,
            (Err(error), None) => return Err(error),
        };
        Ok(answer.into_session(now, user))
    }

    /// Reads the signed-in user again and keeps it in the session (a session restored at
    /// page load, an `mfa_required` answer): so the guard sees factors added elsewhere.
    pub async fn reload_user(&self) -> Result<(), AppError> {
        let Some(current) = self.session() else {
            return Ok(());
        };
        if session::refresh_decision(current.expires_at, session::now_secs())
            == RefreshDecision::RefreshNow
        {
            // A refresh reads the user of an `aal1` token anyway.
            return self.refresh().await.map(drop);
        }
        let user = match self.user_of(&current.access_token).await {
            Ok(user) => user,
            Err(AppError::SessionExpired) => return self.refresh().await.map(drop),
            Err(error) => return Err(error),
        };
        // Unless the session changed meanwhile (signed out, refreshed).
        if let Some(now) = self
            .session()
            .filter(|s| s.access_token == current.access_token)
        {
            if now.user != user {
                self.set_session(Some(Session { user, ..now }));
            }
        }
        Ok(())
    }

    /// Sends and parses the JSON answer: one boxed future for every answer type, so the
    /// request's state machine is not copied into each typed reader below.
    pub fn value(&self, request: ApiRequest) -> LocalBoxFuture<'_, Result<Value, AppError>> {
        async move { decode::parse(&self.send(request).await?.body) }.boxed_local()
    }

    /// Sends and reads the answer as rows ([`ApiResponse::rows`]).
    pub fn rows<T: FromJson>(
        &self,
        request: ApiRequest,
    ) -> impl Future<Output = Result<Vec<T>, AppError>> + '_ {
        self.value(request).map(|value| decode::many(&value?))
    }

    /// Sends and reads the answer as one row ([`ApiResponse::row`]).
    pub fn row<T: FromJson>(
        &self,
        request: ApiRequest,
    ) -> impl Future<Output = Result<T, AppError>> + '_ {
        self.value(request).map(|value| decode::one(&value?))
    }

    /// Refreshes the session (one refresh at a time, however many requests ask).
    pub async fn refresh(&self) -> Result<Session, AppError> {
        let future = {
            let mut slot = self.0.refreshing.borrow_mut();
            match slot.as_ref() {
                Some(future) => future.clone(),
                None => {
                    let api = self.clone();
                    let future = async move { api.refresh_once().await }
                        .boxed_local()
                        .shared();
                    *slot = Some(future.clone());
                    future
                }
            }
        };
        let result = future.await;
        self.0.refreshing.borrow_mut().take();
        result
    }

    async fn refresh_once(&self) -> Result<Session, AppError> {
        let Some(current) = self.session() else {
            return Err(AppError::SessionExpired);
        };
        // Another tab may have rotated the refresh token already: take its session.
        if let Some(stored) = session::load() {
            if stored.refresh_token != current.refresh_token
                && session::refresh_decision(stored.expires_at, session::now_secs())
                    == RefreshDecision::Keep
            {
                self.set_session(Some(stored.clone()));
                return Ok(stored);
            }
        }
        let request = ApiRequest::post(self.auth("token?grant_type=refresh_token"))
            .anonymous()
            .json(&serde_json::json!({ "refresh_token": current.refresh_token }));
        let response = self.fetch(&request).await?;
        if (200..300).contains(&response.status) {
            let answer: SessionResponse = response.row()?;
            // The old refresh token is spent: keep the new tokens even when the user
            // can't be read again just now.
            let fallback = answer.user().cloned().or(Some(current.user));
            let fresh = self.settle(answer, fallback).await?;
            self.set_session(Some(fresh.clone()));
            Ok(fresh)
        } else {
            let error = AppError::from_response(response.status, &response.body);
            match error {
                AppError::Network | AppError::Server | AppError::RateLimited => Err(error),
                _ => {
                    self.set_session(None);
                    Err(AppError::SessionExpired)
                }
            }
        }
    }

    async fn fetch(&self, request: &ApiRequest) -> Result<ApiResponse, AppError> {
        let anon = &self.0.config.supabase_anon_key;
        let bearer = match (request.auth, self.session()) {
            (true, Some(session)) => session.access_token,
            _ => anon.clone(),
        };
        let mut builder = RequestBuilder::new(&request.url)
            .method(request.method.clone())
            .header("apikey", anon)
            .header("Authorization", &format!("Bearer {bearer}"));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if request.manual_redirect {
            builder = builder.redirect(RequestRedirect::Manual);
        }
        let built = match &request.body {
            Body::Empty => builder.build(),
            Body::Json(text) => builder
                .header("Content-Type", "application/json")
                .body(JsValue::from_str(text)),
            Body::Raw(value, content_type) => builder
                .header("Content-Type", content_type)
                .body(value.clone()),
        }
        .map_err(|error| {
            // The browser's reason (a bad header, say); not the whole error's `Display`, which
            // would bring serde_json's and std's error texts into the wasm for this one case.
            AppError::Unexpected(match error {
                gloo::net::Error::JsError(error) => error.message,
                _ => "the request could not be built".to_owned(),
            })
        })?;
        let response = built.send().await.map_err(|_| AppError::Network)?;
        let redirected = response.type_() == ResponseType::Opaqueredirect;
        let status = response.status();
        let content_range = response.headers().get("content-range");
        let body = if redirected {
            String::new()
        } else {
            response.text().await.map_err(|_| AppError::Network)?
        };
        Ok(ApiResponse {
            status,
            content_range,
            body,
            redirected,
        })
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn content_range_with_and_without_total() {
        assert_eq!(
            parse_content_range("0-24/3573458"),
            Some(ContentRange {
                rows: Some((0, 24)),
                total: Some(3_573_458)
            })
        );
        assert_eq!(
            parse_content_range("*/0"),
            Some(ContentRange {
                rows: None,
                total: Some(0)
            })
        );
        assert_eq!(
            parse_content_range("0-14/*"),
            Some(ContentRange {
                rows: Some((0, 14)),
                total: None
            })
        );
        assert_eq!(parse_content_range("garbage"), None);
    }

    #[wasm_bindgen_test]
    fn urls_of_the_three_services() {
        let api = Api::new(
            Config {
                supabase_url: "http://127.0.0.1:54321/".into(),
                supabase_anon_key: "anon".into(),
            },
            "http://localhost:8080",
        );
        assert_eq!(
            api.rest("tasks?select=*"),
            "http://127.0.0.1:54321/rest/v1/tasks?select=*"
        );
        assert_eq!(api.auth("/user"), "http://127.0.0.1:54321/auth/v1/user");
        assert_eq!(
            api.storage("object/sign/reports/a.csv"),
            "http://127.0.0.1:54321/storage/v1/object/sign/reports/a.csv"
        );
    }
}
