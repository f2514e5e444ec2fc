//! Supabase Realtime over one WebSocket per tab: Phoenix `vsn=1.0.0` JSON frames
//! `{topic, event, payload, ref, join_ref}`, a heartbeat on `phoenix` every 25 s, one
//! `realtime:…` channel per subscribing component with its `postgres_changes` bindings
//! (authorized by the database's RLS under the user's JWT, sent as `access_token` on join
//! and pushed again on every channel when the session is refreshed), and a reconnect with
//! exponential backoff (1 s → 30 s) after a drop, every channel joined again.
//!
//! The frames are written with `serde_json`'s writer and read through `JSON.parse`
//! ([`decode::parse`]): no derived code. Components use it through
//! `ui::hooks::use_realtime`; while a channel is not live they poll as before.

use std::cell::RefCell;
use std::time::Duration;

use gloo::timers::callback::Interval;
use serde_json::{json, Map, Value};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, WebSocket};
use yew::platform::spawn_local;
use yew::platform::time::sleep;
use yew::Callback;

use crate::api::decode;

/// The heartbeat period (Phoenix' default is 30 s, supabase-js' 25 s).
pub const HEARTBEAT_MS: u32 = 25_000;

/// The longest wait between two reconnects.
pub const MAX_BACKOFF_MS: u32 = 30_000;

/// The wait before reconnect number `failures + 1`: 1 s, 2 s, 4 s, 8 s, 16 s, then 30 s.
pub fn backoff_ms(failures: u32) -> u32 {
    1000u32
        .saturating_mul(1 << failures.min(5))
        .min(MAX_BACKOFF_MS)
}

/// `ws(s)://…/realtime/v1/websocket?apikey=<anon>&vsn=1.0.0` for the Supabase `base` URL
/// (`http(s)://host[:port][/prefix]`).
pub fn socket_url(base: &str, anon_key: &str) -> String {
    let base = base.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!(
        "{ws}/realtime/v1/websocket?apikey={}&vsn=1.0.0",
        crate::api::query::encode(anon_key)
    )
}

/// One Phoenix message.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// `phoenix` or `realtime:<name>`.
    pub topic: String,
    /// `phx_join`, `phx_reply`, `postgres_changes`, …
    pub event: String,
    /// The message.
    pub payload: Value,
    /// The push's ref (replies carry it back).
    pub r#ref: Option<String>,
    /// The ref of the channel's join.
    pub join_ref: Option<String>,
}

/// The `vsn=1.0.0` text of a frame.
pub fn encode(frame: &Frame) -> String {
    json!({
        "topic": frame.topic,
        "event": frame.event,
        "payload": frame.payload,
        "ref": frame.r#ref,
        "join_ref": frame.join_ref,
    })
    .to_string()
}

/// A `vsn=1.0.0` text frame (refs may be strings or numbers); `None` when it is not one.
pub fn decode_frame(text: &str) -> Option<Frame> {
    let value = decode::parse(text).ok()?;
    let object = value.as_object()?;
    let reference = |key: &str| match object.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(Frame {
        topic: object.get("topic")?.as_str()?.to_owned(),
        event: object.get("event")?.as_str()?.to_owned(),
        payload: object.get("payload").cloned().unwrap_or(Value::Null),
        r#ref: reference("ref"),
        join_ref: reference("join_ref"),
    })
}

/// One `postgres_changes` binding: every event of `table` in `public`, optionally filtered
/// (`id=eq.<uuid>`, `user_id=eq.<uuid>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The table.
    pub table: &'static str,
    /// Realtime's filter, `column=op.value`.
    pub filter: Option<String>,
}

impl Binding {
    /// `table` with `filter`.
    pub fn new(table: &'static str, filter: impl Into<String>) -> Self {
        Self {
            table,
            filter: Some(filter.into()),
        }
    }

    /// Every row of `table` the user may see.
    pub fn all(table: &'static str) -> Self {
        Self {
            table,
            filter: None,
        }
    }
}

/// The `phx_join` payload for `bindings` with the user's JWT.
pub fn join_payload(bindings: &[Binding], access_token: Option<&str>) -> Value {
    let changes: Vec<Value> = bindings
        .iter()
        .map(|b| {
            let mut binding = json!({"event": "*", "schema": "public", "table": b.table});
            if let Some(filter) = &b.filter {
                binding["filter"] = json!(filter);
            }
            binding
        })
        .collect();
    let mut payload = json!({"config": {
        "broadcast": {"ack": false, "self": false},
        "presence": {"key": ""},
        "postgres_changes": changes,
        "private": false,
    }});
    if let Some(token) = access_token {
        payload["access_token"] = json!(token);
    }
    payload
}

/// A change of a row, as a `postgres_changes` message carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub kind: String,
    /// The table.
    pub table: String,
    /// The new row (empty for a delete).
    pub record: Map<String, Value>,
    /// The old row (its key only, for most tables).
    pub old_record: Map<String, Value>,
}

impl Change {
    /// `true` for a deleted row.
    pub fn is_delete(&self) -> bool {
        self.kind == "DELETE"
    }
}

/// The change in a `postgres_changes` payload (`{ids, data: {type, table, record, …}}`).
pub fn change_of(payload: &Value) -> Option<Change> {
    let data = payload.get("data")?;
    let object = |key: &str| {
        data.get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Some(Change {
        kind: data.get("type")?.as_str()?.to_owned(),
        table: data.get("table")?.as_str()?.to_owned(),
        record: object("record"),
        old_record: object("old_record"),
    })
}

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Joining (the socket is opening or the channel waits for its reply).
    Connecting,
    /// Changes arrive as they are committed.
    Live,
    /// The socket is down or the channel was refused: the page polls.
    Paused,
}

struct Channel {
    id: u32,
    topic: String,
    bindings: Vec<Binding>,
    join_ref: Option<String>,
    feed: Feed,
    on_change: Callback<Change>,
    on_feed: Callback<Feed>,
}

type Handlers = (
    Closure<dyn FnMut()>,
    Closure<dyn FnMut(MessageEvent)>,
    Closure<dyn FnMut(JsValue)>,
);

#[derive(Default)]
struct Hub {
    url: String,
    token: Option<String>,
    ws: Option<WebSocket>,
    handlers: Option<Handlers>,
    open: bool,
    generation: u32,
    next_ref: u64,
    next_id: u32,
    failures: u32,
    retrying: bool,
    heartbeat: Option<Interval>,
    pending_heartbeat: Option<String>,
    channels: Vec<Channel>,
}

/// Callbacks to call once the hub is no longer borrowed (they may re-enter it).
enum Emit {
    Change(Callback<Change>, Change),
    Feed(Callback<Feed>, Feed),
}

thread_local! {
    static HUB: RefCell<Hub> = RefCell::new(Hub::default());
}

fn with_hub(f: impl FnOnce(&mut Hub) -> Vec<Emit>) {
    let emits = HUB.with(|hub| f(&mut hub.borrow_mut()));
    for emit in emits {
        match emit {
            Emit::Change(callback, change) => callback.emit(change),
            Emit::Feed(callback, feed) => callback.emit(feed),
        }
    }
}

/// `<html data-realtime="open|closed">`: whether the tab's socket is open (for tests).
fn mark(open: bool) {
    if let Some(root) = gloo::utils::document().document_element() {
        let _ = root.set_attribute("data-realtime", if open { "open" } else { "closed" });
    }
}

impl Hub {
    fn next_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    fn send(&self, frame: &Frame) {
        if let (true, Some(ws)) = (self.open, &self.ws) {
            let _ = ws.send_with_str(&encode(frame));
        }
    }

    fn push(&mut self, topic: &str, event: &str, payload: Value, join_ref: Option<String>) {
        let r#ref = Some(self.next_ref());
        self.send(&Frame {
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
            r#ref,
            join_ref,
        });
    }

    fn join(&mut self, index: usize) {
        let join_ref = self.next_ref();
        let payload = join_payload(&self.channels[index].bindings, self.token.as_deref());
        let channel = &mut self.channels[index];
        channel.join_ref = Some(join_ref.clone());
        let frame = Frame {
            topic: channel.topic.clone(),
            event: "phx_join".into(),
            payload,
            r#ref: Some(join_ref.clone()),
            join_ref: Some(join_ref),
        };
        self.send(&frame);
    }

    fn set_feed(&mut self, index: usize, feed: Feed, emits: &mut Vec<Emit>) {
        let channel = &mut self.channels[index];
        if channel.feed != feed {
            channel.feed = feed;
            emits.push(Emit::Feed(channel.on_feed.clone(), feed));
        }
    }

    fn connect(&mut self) {
        if self.ws.is_some() || self.retrying || self.channels.is_empty() || self.url.is_empty() {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let Ok(ws) = WebSocket::new(&self.url) else {
            self.retry_later();
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || with_hub(|h| h.opened(generation)));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                with_hub(|h| h.received(generation, &text));
            }
        });
        let on_close =
            Closure::<dyn FnMut(JsValue)>::new(move |_| with_hub(|h| h.closed(generation)));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The handlers of an earlier socket may be running right now: dropped later.
        if let Some(old) = self.handlers.replace((on_open, on_message, on_close)) {
            spawn_local(async move { drop(old) });
        }
        self.ws = Some(ws);
    }

    fn retry_later(&mut self) {
        if self.retrying {
            return;
        }
        self.retrying = true;
        let delay = backoff_ms(self.failures);
        self.failures = self.failures.saturating_add(1);
        spawn_local(async move {
            sleep(Duration::from_millis(u64::from(delay))).await;
            with_hub(|h| {
                h.retrying = false;
                h.connect();
                Vec::new()
            });
        });
    }

    fn opened(&mut self, generation: u32) -> Vec<Emit> {
        if generation != self.generation {
            return Vec::new();
        }
        self.open = true;
        self.failures = 0;
        self.pending_heartbeat = None;
        mark(true);
        for index in 0..self.channels.len() {
            self.join(index);
        }
        self.heartbeat = Some(Interval::new(HEARTBEAT_MS, || {
            with_hub(|h| {
                h.beat();
                Vec::new()
            })
        }));
        Vec::new()
    }

    fn beat(&mut self) {
        if self.pending_heartbeat.is_some() {
            // The last heartbeat went unanswered: the connection is dead, start over.
            if let Some(ws) = &self.ws {
                let _ = ws.close();
            }
            return;
        }
        let r#ref = self.next_ref();
        self.pending_heartbeat = Some(r#ref.clone());
        self.send(&Frame {
            topic: "phoenix".into(),
            event: "heartbeat".into(),
            payload: json!({}),
            r#ref: Some(r#ref),
            join_ref: None,
        });
    }

    fn received(&mut self, generation: u32, text: &str) -> Vec<Emit> {
        let mut emits = Vec::new();
        let Some(frame) = decode_frame(text) else {
            return emits;
        };
        if generation != self.generation {
            return emits;
        }
        if frame.topic == "phoenix" {
            if frame.r#ref.is_some() && frame.r#ref == self.pending_heartbeat {
                self.pending_heartbeat = None;
            }
            return emits;
        }
        let Some(index) = self.channels.iter().position(|c| c.topic == frame.topic) else {
            return emits;
        };
        let current = self.channels[index].join_ref.is_some()
            && frame
                .join_ref
                .as_ref()
                .is_none_or(|j| Some(j) == self.channels[index].join_ref.as_ref());
        let status = frame.payload.get("status").and_then(Value::as_str);
        match frame.event.as_str() {
            "postgres_changes" => {
                if let Some(change) = change_of(&frame.payload) {
                    emits.push(Emit::Change(self.channels[index].on_change.clone(), change));
                }
            }
            // The join's answer; the "Subscribed to PostgreSQL" notice follows it.
            "phx_reply"
                if current
                    && frame.r#ref == self.channels[index].join_ref
                    && status != Some("ok") =>
            {
                self.set_feed(index, Feed::Paused, &mut emits);
            }
            "system" if current => {
                let feed = if status == Some("ok") {
                    Feed::Live
                } else {
                    Feed::Paused
                };
                self.set_feed(index, feed, &mut emits);
            }
            // The server ended the channel (an expired token, an error): join it again.
            "phx_close" | "phx_error" if current => {
                self.channels[index].join_ref = None;
                self.set_feed(index, Feed::Paused, &mut emits);
                let id = self.channels[index].id;
                let delay = backoff_ms(0);
                spawn_local(async move {
                    sleep(Duration::from_millis(u64::from(delay))).await;
                    with_hub(|h| {
                        if let Some(index) = h.channels.iter().position(|c| c.id == id) {
                            if h.open && h.channels[index].join_ref.is_none() {
                                h.join(index);
                            }
                        }
                        Vec::new()
                    });
                });
            }
            _ => {}
        }
        emits
    }

    fn closed(&mut self, generation: u32) -> Vec<Emit> {
        let mut emits = Vec::new();
        if generation != self.generation {
            return emits;
        }
        self.open = false;
        self.ws = None;
        self.heartbeat = None;
        self.pending_heartbeat = None;
        mark(false);
        for index in 0..self.channels.len() {
            self.channels[index].join_ref = None;
            self.set_feed(index, Feed::Paused, &mut emits);
        }
        if !self.channels.is_empty() {
            self.retry_later();
        }
        emits
    }
}

/// Joins a channel for `bindings` on the tab's socket (opened on the first subscription,
/// at `url`, with the user's `access_token`): `on_change` gets every change, `on_feed`
/// where the channel stands. Returns the id to [`unsubscribe`] with.
pub fn subscribe(
    url: &str,
    access_token: Option<String>,
    bindings: Vec<Binding>,
    on_change: Callback<Change>,
    on_feed: Callback<Feed>,
) -> u32 {
    let mut id = 0;
    with_hub(|h| {
        if h.url.is_empty() {
            h.url = url.to_owned();
        }
        if access_token.is_some() {
            h.token = access_token;
        }
        h.next_id += 1;
        id = h.next_id;
        h.channels.push(Channel {
            id,
            topic: format!("realtime:taskdeck-{id}"),
            bindings,
            join_ref: None,
            feed: Feed::Connecting,
            on_change,
            on_feed,
        });
        let mut emits = Vec::new();
        if h.open {
            h.join(h.channels.len() - 1);
        } else if h.ws.is_none() && h.retrying {
            // Reconnecting after a drop: this channel waits for it, polling.
            h.set_feed(h.channels.len() - 1, Feed::Paused, &mut emits);
        } else {
            h.connect();
        }
        emits
    });
    id
}

/// Leaves the channel `id` (the socket stays open for the next page).
pub fn unsubscribe(id: u32) {
    with_hub(|h| {
        if let Some(index) = h.channels.iter().position(|c| c.id == id) {
            let channel = h.channels.remove(index);
            if let Some(join_ref) = channel.join_ref {
                h.push(&channel.topic, "phx_leave", json!({}), Some(join_ref));
            }
        }
        Vec::new()
    });
}

/// A new JWT (the session was refreshed): pushed as `access_token` on every channel.
pub fn set_token(access_token: Option<String>) {
    with_hub(|h| {
        if access_token.is_none() || h.token == access_token {
            return Vec::new();
        }
        h.token = access_token;
        let token = h.token.clone();
        for index in 0..h.channels.len() {
            if let Some(join_ref) = h.channels[index].join_ref.clone() {
                let topic = h.channels[index].topic.clone();
                h.push(
                    &topic,
                    "access_token",
                    json!({ "access_token": token }),
                    Some(join_ref),
                );
            }
        }
        Vec::new()
    });
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn backoff_doubles_from_one_to_thirty_seconds() {
        let delays: Vec<u32> = (0..8).map(backoff_ms).collect();
        assert_eq!(
            delays,
            [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(backoff_ms(u32::MAX), 30_000);
    }

    #[wasm_bindgen_test]
    fn socket_urls_follow_the_scheme() {
        assert_eq!(
            socket_url("http://127.0.0.1:54321/", "a.b.c"),
            "ws://127.0.0.1:54321/realtime/v1/websocket?apikey=a.b.c&vsn=1.0.0"
        );
        assert_eq!(
            socket_url("https://xyz.supabase.co", "k"),
            "wss://xyz.supabase.co/realtime/v1/websocket?apikey=k&vsn=1.0.0"
        );
    }

    #[wasm_bindgen_test]
    fn frames_are_v1_objects_both_ways() {
        let frame = Frame {
            topic: "phoenix".into(),
            event: "heartbeat".into(),
            payload: json!({}),
            r#ref: Some("7".into()),
            join_ref: None,
        };
        let text = encode(&frame);
        assert_eq!(
            decode::parse(&text).ok(),
            Some(
                json!({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "7", "join_ref": null})
            )
        );
        assert_eq!(decode_frame(&text), Some(frame));
        // Numeric refs (some servers) read as text; arrays (vsn 2) and junk are not frames.
        let reply = decode_frame(
            r#"{"topic":"realtime:x","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":3,"join_ref":"3"}"#,
        )
        .expect("a reply");
        assert_eq!(reply.r#ref.as_deref(), Some("3"));
        assert_eq!(reply.payload["status"], "ok");
        assert_eq!(decode_frame(r#"["1","2","t","e",{}]"#), None);
        assert_eq!(decode_frame("not json"), None);
    }

    #[wasm_bindgen_test]
    fn joins_carry_the_bindings_and_the_token() {
        let payload = join_payload(
            &[
                Binding::new("tasks", "id=eq.42"),
                Binding::all("analytics_reports"),
            ],
            Some("jwt"),
        );
        assert_eq!(payload["access_token"], "jwt");
        assert_eq!(
            payload["config"]["postgres_changes"],
            json!([
                {"event": "*", "schema": "public", "table": "tasks", "filter": "id=eq.42"},
                {"event": "*", "schema": "public", "table": "analytics_reports"}
            ])
        );
        assert!(join_payload(&[], None).get("access_token").is_none());
    }

    #[wasm_bindgen_test]
    fn changes_are_read_from_the_message() {
        let frame = decode_frame(
            r#"{"topic":"realtime:taskdeck-1","event":"postgres_changes","ref":null,"join_ref":"1",
                "payload":{"ids":[1],"data":{"schema":"public","table":"execution_logs",
                "commit_timestamp":"2024-04-01T06:00:00Z","type":"INSERT","columns":[],
                "record":{"id":5,"message":"hi"},"old_record":null,"errors":null}}}"#,
        )
        .expect("a frame");
        let change = change_of(&frame.payload).expect("a change");
        assert_eq!(change.kind, "INSERT");
        assert_eq!(change.table, "execution_logs");
        assert_eq!(change.record.get("id"), Some(&json!(5)));
        assert!(change.old_record.is_empty());
        assert!(!change.is_delete());
        assert_eq!(change_of(&json!({"status": "ok"})), None);
    }
}
