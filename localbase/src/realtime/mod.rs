//! `/realtime/v1`: Supabase Realtime's WebSocket (Phoenix channels) with `postgres_changes`
//! and `broadcast`.
//!
//! Changes come from PostgreSQL itself: one logical replication connection per app streams
//! the `supabase_realtime` publication through a temporary `pgoutput` slot
//! ([`replication`]), so every writer's commits are seen, the worker's direct connection
//! included. Each change is authorized per subscriber as Realtime's `realtime.apply_rls`
//! does it ([`changes`]): filters evaluated in SQL on the change's row, then, for INSERT and
//! UPDATE on a table with RLS, `select exists(select 1 from <table> where <pk> = …)` under
//! the subscriber's role and JWT claims; a DELETE carries only the primary key when RLS is
//! on. Nothing is filtered in the client.
//!
//! The engine starts its replication connection when the first `postgres_changes`
//! subscription joins and ends it when the app is dropped. Each socket has a bounded queue:
//! a client that does not read its messages is disconnected instead of growing memory.

pub mod changes;
pub mod filter;
pub mod pgoutput;
pub mod protocol;
pub mod replication;
pub mod socket;

use crate::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use protocol::{Outgoing, Vsn};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

/// The publication Supabase Realtime reads.
pub const PUBLICATION: &str = "supabase_realtime";
/// Messages a socket may have queued before it counts as too slow and is disconnected.
pub const OUTBOX_CAPACITY: usize = 1024;

/// A socket's queue. Sending never waits: a full queue ends the socket.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Outgoing>,
    kill: CancellationToken,
}

impl Outbox {
    /// Queues `message`; when the queue is full, disconnects the socket instead.
    pub fn send(&self, message: Outgoing) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(message) {
            if !self.kill.is_cancelled() {
                tracing::warn!(
                    capacity = OUTBOX_CAPACITY,
                    "realtime: a client is not reading its messages; disconnecting it"
                );
            }
            self.kill.cancel();
        }
    }
}

/// A channel's caller: its claims, replaced by `access_token` pushes.
pub struct Caller {
    /// The claims of the latest accepted token.
    pub claims: crate::jwt::Claims,
    /// `claims` as JSON text, set as `request.jwt.claims` for the RLS checks.
    pub claims_json: String,
}

/// One `postgres_changes` binding of one joined channel, on one table.
pub struct Subscription {
    /// The id of the socket that joined.
    pub socket: u64,
    /// The channel the binding belongs to.
    pub topic: String,
    /// The id the join reply gave this binding; messages carry it in `ids`.
    pub id: u32,
    /// `*`, `INSERT`, `UPDATE` or `DELETE`.
    pub event: String,
    /// The binding's `filter`: a change reaches it only if its row matches them all.
    pub filters: Vec<filter::Filter>,
    /// The channel's caller, shared with the socket so that `access_token` pushes apply.
    pub caller: Arc<RwLock<Caller>>,
    /// The joining socket's queue.
    pub outbox: Outbox,
}

impl Subscription {
    fn wants(&self, action: &str) -> bool {
        self.event == "*" || self.event == action
    }
}

/// A socket that joined a channel, for broadcasts.
#[derive(Clone)]
pub struct Member {
    /// The socket's id.
    pub socket: u64,
    /// `config.broadcast.self`: the socket also receives its own broadcasts.
    pub self_broadcast: bool,
    /// The socket's queue.
    pub outbox: Outbox,
}

/// `(schema, table)` → the subscriptions on it.
type Registry = HashMap<(String, String), Vec<Arc<Subscription>>>;

/// The realtime service of one app.
pub struct Engine {
    /// The app's pool: subscription lookups, typing each change and the RLS checks.
    pub db: sqlx::PgPool,
    /// The secret tokens are verified with, at connect and in `phx_join`/`access_token`.
    pub jwt_secret: String,
    /// The app's schema cache ([`AppState::schema`]).
    pub schema: crate::rest::SchemaCacheHandle,
    /// `(schema, table)` → its subscriptions.
    subscriptions: RwLock<Registry>,
    /// channel topic → sockets that joined it.
    members: RwLock<HashMap<String, Vec<Member>>>,
    decoder: Mutex<Option<CancellationToken>>,
    next_socket: AtomicU64,
    shutdown: CancellationToken,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Engine {
    /// An engine for the app of `state`, with no subscriptions and no replication connection yet.
    pub fn new(state: &AppState) -> Arc<Engine> {
        Arc::new(Engine {
            db: state.db.clone(),
            jwt_secret: state.config.jwt_secret.clone(),
            schema: state.schema.clone(),
            subscriptions: RwLock::new(HashMap::new()),
            members: RwLock::new(HashMap::new()),
            decoder: Mutex::new(None),
            next_socket: AtomicU64::new(1),
            shutdown: CancellationToken::new(),
        })
    }

    fn socket_id(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts the replication connection if it is not running; returns once the slot exists,
    /// so every commit from then on reaches the subscriptions.
    pub async fn ensure_decoder(self: &Arc<Self>) -> anyhow::Result<()> {
        let mut running = self.decoder.lock().await;
        if running.as_ref().is_some_and(|t| !t.is_cancelled()) {
            return Ok(());
        }
        let options = self.db.connect_options();
        let mut conn = replication::ReplicationConnection::connect(&options).await?;
        static SLOTS: AtomicU64 = AtomicU64::new(0);
        let slot = format!(
            "localbase_realtime_{}_{}",
            std::process::id(),
            SLOTS.fetch_add(1, Ordering::Relaxed)
        );
        conn.start(&slot, PUBLICATION).await?;
        let stopped = self.shutdown.child_token();
        *running = Some(stopped.clone());
        let engine = Arc::downgrade(self);
        tokio::spawn(async move {
            let result = changes::run(engine, conn, stopped.clone()).await;
            stopped.cancel();
            if let Err(e) = result {
                tracing::error!(error = %e, "realtime: the replication stream ended");
            }
        });
        tracing::info!(slot, "realtime: streaming the {PUBLICATION} publication");
        Ok(())
    }

    /// Registers a `postgres_changes` binding on `schema.table`.
    pub fn subscribe(&self, schema: &str, table: &str, sub: Arc<Subscription>) {
        if let Ok(mut map) = self.subscriptions.write() {
            map.entry((schema.to_owned(), table.to_owned()))
                .or_default()
                .push(sub);
        }
    }

    /// The subscriptions on a table that want this action.
    pub fn subscriptions_for(
        &self,
        schema: &str,
        table: &str,
        action: &str,
    ) -> Vec<Arc<Subscription>> {
        let Ok(map) = self.subscriptions.read() else {
            return Vec::new();
        };
        map.get(&(schema.to_owned(), table.to_owned()))
            .map(|subs| subs.iter().filter(|s| s.wants(action)).cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a socket's channel (`topic`), or all its channels.
    pub fn forget(&self, socket: u64, topic: Option<&str>) {
        let matches = |s: u64, t: &str| s == socket && topic.is_none_or(|x| x == t);
        if let Ok(mut map) = self.subscriptions.write() {
            for subs in map.values_mut() {
                subs.retain(|s| !matches(s.socket, &s.topic));
            }
            map.retain(|_, subs| !subs.is_empty());
        }
        if let Ok(mut members) = self.members.write() {
            for (t, list) in members.iter_mut() {
                list.retain(|m| !matches(m.socket, t));
            }
            members.retain(|_, list| !list.is_empty());
        }
    }

    /// Adds a socket to the members of `topic`, replacing its earlier join if any.
    pub fn join_topic(&self, topic: &str, member: Member) {
        if let Ok(mut members) = self.members.write() {
            let list = members.entry(topic.to_owned()).or_default();
            list.retain(|m| m.socket != member.socket);
            list.push(member);
        }
    }

    /// Sends a broadcast to the channel's members (the sender too with `broadcast.self`).
    pub fn broadcast(&self, from: u64, topic: &str, message: Outgoing) {
        let targets: Vec<Member> = match self.members.read() {
            Ok(members) => members.get(topic).cloned().unwrap_or_default(),
            Err(_) => return,
        };
        for m in targets {
            if m.socket != from || m.self_broadcast {
                m.outbox.send(message.clone());
            }
        }
    }
}

/// `/realtime/v1`: the `/websocket` endpoint, served by a new [`Engine`] for this app.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/websocket", get(websocket))
        .layer(Extension(Engine::new(state)))
}

fn connect_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// `GET /realtime/v1/websocket?apikey=…&vsn=…`: the key (or `x-api-key`) must be a valid
/// JWT, as Realtime's `UserSocket.connect` requires; errors are its 401 JSON.
async fn websocket(
    State(_state): State<AppState>,
    Extension(engine): Extension<Arc<Engine>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let token = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| params.get("apikey").cloned());
    let Some(token) = token else {
        return connect_error(StatusCode::UNAUTHORIZED, "API key is missing");
    };
    if let Err(e) = socket::verify(&engine.jwt_secret, &token) {
        let message = match e {
            socket::TokenError::Expired(_) => "Token has expired",
            socket::TokenError::MissingClaims => "Fields `role` and `exp` are required in JWT",
            socket::TokenError::Signature => "Failed to validate JWT signature",
            socket::TokenError::Malformed | socket::TokenError::Role(_) => {
                "The token provided is not a valid JWT"
            }
        };
        return connect_error(StatusCode::UNAUTHORIZED, message);
    }
    let Some(vsn) = Vsn::parse(params.get("vsn").map(String::as_str)) else {
        return connect_error(StatusCode::BAD_REQUEST, "Unsupported serializer version");
    };
    let Ok(upgrade) = upgrade else {
        return connect_error(StatusCode::BAD_REQUEST, "Expected a WebSocket upgrade");
    };
    let id = engine.socket_id();
    upgrade
        .max_message_size(1024 * 1024)
        .on_upgrade(move |ws| socket::run(engine, id, vsn, token, ws))
}
