//! One WebSocket: Phoenix channels as Realtime's `RealtimeChannel` runs them: `phx_join`
//! (with `config.postgres_changes`, `config.broadcast.self/ack`, `access_token`),
//! `heartbeat` on `phoenix`, `access_token` refreshes, `phx_leave`, `broadcast`, and the end
//! of a channel when its token expires (the `system` message, then `phx_close`).

use super::filter;
use super::protocol::{self, Frame, Message, Outgoing, UserBroadcast, Vsn};
use super::{Caller, Engine, Member, Outbox, Subscription, OUTBOX_CAPACITY};
use crate::jwt::Claims;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Why a token was refused, with Realtime's wording.
#[derive(Debug)]
pub enum TokenError {
    /// Seconds since it expired.
    Expired(i64),
    /// No `exp` or no `role` claim (or claims that do not decode).
    MissingClaims,
    /// A bad signature, or an algorithm other than HS256.
    Signature,
    /// Not three dot-separated parts, or parts that do not decode.
    Malformed,
    /// A correctly signed token whose role is not one of [`crate::request::API_ROLES`].
    Role(String),
}

impl TokenError {
    /// The reason of a refused join (`{:error, %{reason: …}}`).
    fn join_reason(&self) -> String {
        match self {
            TokenError::Expired(n) => format!("InvalidJWTToken: Token has expired {n} seconds ago"),
            TokenError::MissingClaims => {
                "InvalidJWTToken: Fields `role` and `exp` are required in JWT".to_owned()
            }
            TokenError::Signature => {
                "JwtSignatureError: Failed to validate JWT signature".to_owned()
            }
            TokenError::Malformed => {
                "MalformedJWT: The token provided is not a valid JWT".to_owned()
            }
            TokenError::Role(r) => format!("Unauthorized: role \"{r}\" is not allowed"),
        }
    }

    /// The message of a channel shut down by a bad token (`shutdown_response`).
    fn shutdown_message(&self) -> String {
        match self {
            TokenError::Expired(n) => format!("Token has expired {n} seconds ago"),
            TokenError::MissingClaims => "Fields `role` and `exp` are required in JWT".to_owned(),
            TokenError::Signature => "Failed to validate JWT signature".to_owned(),
            TokenError::Malformed => "The token provided is not a valid JWT".to_owned(),
            TokenError::Role(r) => format!("role \"{r}\" is not allowed"),
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Checks an HS256 token as Realtime does: signature, `role` and `exp` present, not expired.
pub fn verify(secret: &str, token: &str) -> Result<Claims, TokenError> {
    let token = token.trim();
    if token.split('.').count() != 3 {
        return Err(TokenError::Malformed);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenError::Signature,
            _ => TokenError::Malformed,
        }
    })?;
    let exp = data.claims.get("exp").and_then(Value::as_i64);
    let role = data.claims.get("role").and_then(Value::as_str);
    let (Some(exp), Some(_)) = (exp, role) else {
        return Err(TokenError::MissingClaims);
    };
    let now = now_secs();
    if exp <= now {
        return Err(TokenError::Expired(now - exp));
    }
    let claims: Claims =
        serde_json::from_value(data.claims).map_err(|_| TokenError::MissingClaims)?;
    if !crate::request::API_ROLES.contains(&claims.role.as_str()) {
        return Err(TokenError::Role(claims.role));
    }
    Ok(claims)
}

/// Upstream's binding id is `:erlang.phash2(params)` (an integer below 2^27); any stable hash
/// of the params in that range serves the client, which only matches ids.
fn binding_id(params: &Value) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in params.to_string().bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash & 0x07ff_ffff
}

struct Channel {
    join_ref: Option<String>,
    sub_topic: String,
    token: String,
    caller: Arc<RwLock<Caller>>,
    expires_at: Instant,
    ack: bool,
}

struct Socket {
    engine: Arc<Engine>,
    id: u64,
    vsn: Vsn,
    token: String,
    outbox: Outbox,
    channels: HashMap<String, Channel>,
    frames: Vec<Frame>,
}

fn expiry(claims: &Claims) -> Instant {
    let left = claims.exp.unwrap_or(0) - now_secs();
    Instant::now() + Duration::from_secs(left.max(0) as u64)
}

fn system(sub_topic: &str, extension: &str, status: &str, message: &str) -> Value {
    json!({"extension": extension, "status": status, "message": message, "channel": sub_topic})
}

impl Socket {
    fn send(&mut self, m: Message) {
        self.frames
            .push(protocol::encode(self.vsn, &Outgoing::Message(m)));
    }

    fn reply(&mut self, to: &Message, status: &str, response: Value) {
        self.send(Message::reply(to, status, response));
    }

    /// Ends a channel: the `system` error, then `phx_close` (Phoenix's reply to a channel
    /// that stopped normally).
    fn shutdown(&mut self, topic: &str, message: &str) {
        self.engine.forget(self.id, Some(topic));
        if let Some(ch) = self.channels.remove(topic) {
            self.send(Message {
                join_ref: ch.join_ref.clone(),
                r#ref: None,
                topic: topic.to_owned(),
                event: "system".to_owned(),
                payload: system(&ch.sub_topic, "system", "error", message),
            });
            self.close(topic, ch.join_ref);
        }
    }

    fn close(&mut self, topic: &str, join_ref: Option<String>) {
        self.send(Message {
            join_ref: join_ref.clone(),
            r#ref: join_ref,
            topic: topic.to_owned(),
            event: "phx_close".to_owned(),
            payload: json!({}),
        });
    }

    async fn handle(&mut self, m: Message) {
        if m.topic == "phoenix" {
            if m.event == "heartbeat" {
                self.reply(&m, "ok", json!({}));
            }
            return;
        }
        if m.event == "phx_join" {
            return self.join(m).await;
        }
        if !self.channels.contains_key(&m.topic) {
            self.reply(&m, "error", json!({"reason": "unmatched topic"}));
            return;
        }
        match m.event.as_str() {
            "phx_leave" => {
                self.engine.forget(self.id, Some(&m.topic));
                let join_ref = self.channels.remove(&m.topic).and_then(|c| c.join_ref);
                self.reply(&m, "ok", json!({}));
                self.close(&m.topic, join_ref);
            }
            "access_token" => self.access_token(&m),
            "broadcast" => {
                let message = Message::push(&m.topic, "broadcast", m.payload.clone());
                self.engine
                    .broadcast(self.id, &m.topic, Outgoing::Message(message));
                if self.channels.get(&m.topic).is_some_and(|c| c.ack) {
                    self.reply(&m, "ok", json!({}));
                }
            }
            "presence" => self.reply(&m, "ok", json!({})),
            _ => {}
        }
    }

    fn user_broadcast(&mut self, envelope: Message, b: UserBroadcast) {
        if !self.channels.contains_key(&b.topic) {
            self.reply(&envelope, "error", json!({"reason": "unmatched topic"}));
            return;
        }
        let topic = b.topic.clone();
        self.engine
            .broadcast(self.id, &topic, Outgoing::Broadcast(Arc::new(b)));
        if self.channels.get(&topic).is_some_and(|c| c.ack) {
            self.reply(&envelope, "ok", json!({}));
        }
    }

    /// A refreshed JWT replaces the channel's; an invalid or expired one ends the channel.
    fn access_token(&mut self, m: &Message) {
        let Some(token) = m.payload.get("access_token").and_then(Value::as_str) else {
            return;
        };
        let Some(ch) = self.channels.get(&m.topic) else {
            return;
        };
        if token.starts_with("sb_") || token == ch.token {
            return;
        }
        match verify(&self.engine.jwt_secret, token) {
            Ok(claims) => {
                let expires_at = expiry(&claims);
                let claims_json = claims.to_json().to_string();
                if let Some(ch) = self.channels.get_mut(&m.topic) {
                    if let Ok(mut c) = ch.caller.write() {
                        *c = Caller {
                            claims,
                            claims_json,
                        };
                    }
                    ch.token = token.to_owned();
                    ch.expires_at = expires_at;
                }
            }
            Err(e) => {
                let topic = m.topic.clone();
                self.shutdown(&topic, &e.shutdown_message());
            }
        }
    }

    async fn join(&mut self, m: Message) {
        let Some(sub_topic) = m.topic.strip_prefix("realtime:").map(str::to_owned) else {
            self.reply(&m, "error", json!({"reason": "unmatched topic"}));
            return;
        };
        if sub_topic.is_empty() {
            self.reply(
                &m,
                "error",
                json!({"reason": "TopicNameRequired: You must provide a topic name"}),
            );
            return;
        }
        if self.channels.contains_key(&m.topic) {
            // A rejoin replaces the channel, as Phoenix does.
            self.engine.forget(self.id, Some(&m.topic));
            let old = self.channels.remove(&m.topic).and_then(|c| c.join_ref);
            self.close(&m.topic, old);
        }
        let config = m.payload.get("config").cloned().unwrap_or(json!({}));
        if config.get("private").and_then(Value::as_bool) == Some(true) {
            let reason = format!(
                "Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"
            );
            self.reply(&m, "error", json!({ "reason": reason }));
            return;
        }
        let token = ["access_token", "user_token"]
            .iter()
            .find_map(|k| m.payload.get(*k).and_then(Value::as_str))
            .filter(|t| !t.starts_with("sb_"))
            .unwrap_or(&self.token)
            .to_owned();
        let claims = match verify(&self.engine.jwt_secret, &token) {
            Ok(c) => c,
            Err(e) => {
                self.reply(&m, "error", json!({"reason": e.join_reason()}));
                return;
            }
        };
        let expires_at = expiry(&claims);
        let claims_json = claims.to_json().to_string();
        let caller = Arc::new(RwLock::new(Caller {
            claims,
            claims_json,
        }));
        let broadcast = config.get("broadcast");
        let flag = |k: &str| {
            broadcast
                .and_then(|b| b.get(k))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let (self_broadcast, ack) = (flag("self"), flag("ack"));

        let params: Vec<Value> = config
            .get("postgres_changes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter(|p| !p.is_null()).cloned().collect())
            .unwrap_or_default();
        let mut reply_list = Vec::new();
        let mut error: Option<String> = None;
        let mut subs: Vec<(String, String, Arc<Subscription>)> = Vec::new();
        for p in &params {
            let id = binding_id(p);
            let mut with_id = p.clone();
            if let Some(obj) = with_id.as_object_mut() {
                obj.insert("id".into(), json!(id));
            }
            reply_list.push(with_id);
            if error.is_some() {
                continue;
            }
            match self.resolve(p).await {
                Ok((event, filters, tables)) => {
                    for (schema, table) in tables {
                        subs.push((
                            schema,
                            table,
                            Arc::new(Subscription {
                                socket: self.id,
                                topic: m.topic.clone(),
                                id,
                                event: event.clone(),
                                filters: filters.clone(),
                                caller: caller.clone(),
                                outbox: self.outbox.clone(),
                            }),
                        ));
                    }
                }
                Err(e) => error = Some(e),
            }
        }
        if error.is_none() && !subs.is_empty() {
            if let Err(e) = self.engine.ensure_decoder().await {
                tracing::error!(error = %e, "realtime: cannot start the replication stream");
                error = Some(format!(
                    "Realtime was unable to connect to the project database: {e}"
                ));
            }
        }
        if error.is_none() {
            for (schema, table, sub) in subs {
                self.engine.subscribe(&schema, &table, sub);
            }
        }
        self.engine.join_topic(
            &m.topic,
            Member {
                socket: self.id,
                self_broadcast,
                outbox: self.outbox.clone(),
            },
        );
        self.channels.insert(
            m.topic.clone(),
            Channel {
                join_ref: m.join_ref.clone(),
                sub_topic: sub_topic.clone(),
                token,
                caller,
                expires_at,
                ack,
            },
        );
        self.reply(&m, "ok", json!({"postgres_changes": reply_list}));
        if !params.is_empty() {
            let payload = match &error {
                None => system(
                    &sub_topic,
                    "postgres_changes",
                    "ok",
                    "Subscribed to PostgreSQL",
                ),
                Some(e) => system(&sub_topic, "postgres_changes", "error", e),
            };
            self.send(Message {
                join_ref: m.join_ref.clone(),
                r#ref: None,
                topic: m.topic.clone(),
                event: "system".to_owned(),
                payload,
            });
        }
    }

    /// A `postgres_changes` entry → (event, filters, published tables it covers), with
    /// upstream's error texts.
    async fn resolve(
        &self,
        p: &Value,
    ) -> Result<(String, Vec<filter::Filter>, Vec<(String, String)>), String> {
        let s = |k: &str| p.get(k).and_then(Value::as_str);
        let event = match s("event").map(str::to_ascii_uppercase).as_deref() {
            Some("INSERT") => "INSERT",
            Some("UPDATE") => "UPDATE",
            Some("DELETE") => "DELETE",
            _ => "*",
        }
        .to_owned();
        let (schema, table, filter_text) = match (s("schema"), s("table")) {
            (Some(schema), Some(table)) => (schema, table, s("filter").unwrap_or("")),
            (Some(schema), None) if s("filter").is_none() => (schema, "*", ""),
            (None, Some(table)) if s("filter").is_none() => ("public", table, ""),
            _ => {
                return Err(format!(
                    "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: {p}"
                ))
            }
        };
        let filters = filter::parse(filter_text)?;
        let describe = || {
            let fs: Vec<String> = filters
                .iter()
                .map(|f| format!("{{{:?}, {:?}, {:?}}}", f.column, f.op, f.values.join(",")))
                .collect();
            format!(
                "[event: {event}, schema: {schema}, table: {table}, filters: [{}]]",
                fs.join(", ")
            )
        };
        let tables: Vec<(String, String)> = sqlx::query_as(
            "select schemaname::text, tablename::text from pg_publication_tables \
              where pubname = $1 \
                and schemaname like (case $2 when '*' then '%' else $2 end) escape '' \
                and tablename like (case $3 when '*' then '%' else $3 end) escape ''",
        )
        .bind(super::PUBLICATION)
        .bind(schema)
        .bind(table)
        .fetch_all(&self.engine.db)
        .await
        .map_err(|e| {
            format!("Unable to subscribe to changes with given parameters. Exception: {e}")
        })?;
        if tables.is_empty() {
            return Err(format!(
                "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: {}",
                describe()
            ));
        }
        for (schema, table) in &tables {
            let columns: Vec<String> = sqlx::query_scalar(
                "select attname::text from pg_attribute \
                  where attrelid = format('%I.%I', $1::text, $2::text)::regclass \
                    and attnum > 0 and not attisdropped",
            )
            .bind(schema)
            .bind(table)
            .fetch_all(&self.engine.db)
            .await
            .map_err(|e| e.to_string())?;
            for f in &filters {
                let fail = |e: String| {
                    format!(
                        "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: {}. Exception: {e}",
                        describe()
                    )
                };
                if !columns.contains(&f.column) {
                    return Err(fail(format!(
                        "ERROR P0001 (raise_exception) invalid column for filter {}",
                        f.column
                    )));
                }
                if f.op == "is" {
                    continue;
                }
                // Each value must be valid input for the column's type.
                let qualified = format!(
                    "{}.{}",
                    super::changes::quote_ident(schema),
                    super::changes::quote_ident(table)
                );
                let sql = format!(
                    "select (jsonb_populate_record(null::{qualified}, $1::text::jsonb)).{} is null",
                    super::changes::quote_ident(&f.column)
                );
                for v in &f.values {
                    sqlx::query(&sql)
                        .bind(json!({ &f.column: v }).to_string())
                        .execute(&self.engine.db)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                }
            }
        }
        Ok((event, filters, tables))
    }

    /// Channels whose token has run out: upstream's `confirm_token` timer ends them.
    fn expire(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, c)| c.expires_at <= now)
            .map(|(t, _)| t.clone())
            .collect();
        for topic in expired {
            let seconds = self
                .channels
                .get(&topic)
                .and_then(|c| c.caller.read().ok().and_then(|c| c.claims.exp))
                .map(|exp| (now_secs() - exp).max(0))
                .unwrap_or(0);
            self.shutdown(&topic, &format!("Token has expired {seconds} seconds ago"));
        }
    }
}

fn ws_frame(frame: Frame) -> WsMessage {
    match frame {
        Frame::Text(t) => WsMessage::Text(t.into()),
        Frame::Binary(b) => WsMessage::Binary(b.into()),
    }
}

/// Serves one socket until the client goes, the engine ends, or the client falls too far
/// behind (its queue is full: closed with 1013, "try again later").
pub async fn run(engine: Arc<Engine>, id: u64, vsn: Vsn, token: String, ws: WebSocket) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel(OUTBOX_CAPACITY);
    let kill = CancellationToken::new();
    let shutdown = engine.shutdown.clone();
    let mut socket = Socket {
        engine,
        id,
        vsn,
        token,
        outbox: Outbox {
            tx,
            kill: kill.clone(),
        },
        channels: HashMap::new(),
        frames: Vec::new(),
    };
    loop {
        let next_expiry = socket.channels.values().map(|c| c.expires_at).min();
        tokio::select! {
            incoming = stream.next() => {
                let Some(Ok(incoming)) = incoming else { break };
                match incoming {
                    WsMessage::Text(text) => {
                        if let Some(m) = protocol::decode_text(vsn, text.as_str()) {
                            socket.handle(m).await;
                        }
                    }
                    WsMessage::Binary(data) => {
                        if let Some((envelope, b)) = protocol::decode_binary(&data) {
                            socket.user_broadcast(envelope, b);
                        }
                    }
                    WsMessage::Close(_) => break,
                    WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                }
            }
            Some(out) = rx.recv() => {
                socket.frames.push(protocol::encode(vsn, &out));
            }
            _ = tokio::time::sleep_until(next_expiry.unwrap_or_else(Instant::now)), if next_expiry.is_some() => {
                socket.expire();
            }
            _ = kill.cancelled() => {
                let _ = sink.send(WsMessage::Close(Some(CloseFrame {
                    code: 1013,
                    reason: "the client is not reading its messages".into(),
                }))).await;
                break;
            }
            _ = shutdown.cancelled() => break,
        }
        let mut failed = false;
        for frame in socket.frames.drain(..) {
            if sink.feed(ws_frame(frame)).await.is_err() {
                failed = true;
                break;
            }
        }
        if failed || sink.flush().await.is_err() {
            break;
        }
    }
    socket.engine.forget(id, None);
}
