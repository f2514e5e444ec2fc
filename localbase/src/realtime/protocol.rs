//! Phoenix channel messages as Supabase Realtime frames them: `vsn=1.0.0` JSON objects
//! `{topic, event, payload, ref, join_ref}`, `vsn=2.0.0` JSON arrays
//! `[join_ref, ref, topic, event, payload]` plus the binary user-broadcast frames of
//! `RealtimeWeb.Socket.V2Serializer` (push kind 3 from clients, kind 4 to clients).

use serde_json::{json, Value};

/// The serializer a socket asked for with the `vsn` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vsn {
    /// `1.0.0`, the default: messages are JSON objects.
    V1,
    /// `2.0.0`: messages are JSON arrays, user broadcasts binary frames.
    V2,
}

impl Vsn {
    /// The value of `vsn` (absent means `1.0.0`); `None` for a version Realtime does not serve.
    pub fn parse(v: Option<&str>) -> Option<Vsn> {
        match v {
            None | Some("1.0.0") => Some(Vsn::V1),
            Some("2.0.0") => Some(Vsn::V2),
            Some(_) => None,
        }
    }
}

/// One Phoenix message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The `ref` of the `phx_join` that opened the channel; `None` for messages outside one.
    pub join_ref: Option<String>,
    /// The client's id for this message, echoed by its `phx_reply`; `None` in server pushes.
    pub r#ref: Option<String>,
    /// The channel: `realtime:<name>`, or `phoenix` for heartbeats.
    pub topic: String,
    /// `phx_join`, `phx_reply`, `heartbeat`, `access_token`, `broadcast`, `postgres_changes`…
    pub event: String,
    /// The event's JSON body.
    pub payload: Value,
}

impl Message {
    /// A server push on `topic`: no `ref`, no `join_ref`.
    pub fn push(topic: &str, event: &str, payload: Value) -> Message {
        Message {
            join_ref: None,
            r#ref: None,
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
        }
    }

    /// The `phx_reply` to `to`, with its refs: `{"status": status, "response": response}`.
    pub fn reply(to: &Message, status: &str, response: Value) -> Message {
        Message {
            join_ref: to.join_ref.clone(),
            r#ref: to.r#ref.clone(),
            topic: to.topic.clone(),
            event: "phx_reply".to_owned(),
            payload: json!({"status": status, "response": response}),
        }
    }
}

/// A broadcast as a client sent it: JSON (`payload.payload`) or the v2 binary push.
#[derive(Debug, Clone)]
pub struct UserBroadcast {
    /// The channel it is sent on.
    pub topic: String,
    /// The user's event name (the broadcast's `event`, not Phoenix's).
    pub event: String,
    /// 1 = JSON, 0 = binary (the V2 serializer's encoding byte).
    pub encoding: u8,
    /// The user's payload as sent: JSON text, or opaque bytes, per `encoding`.
    pub payload: Vec<u8>,
}

/// What a socket writes.
#[derive(Debug, Clone)]
pub enum Frame {
    /// A text frame: a v1 or v2 JSON message.
    Text(String),
    /// A binary frame: a v2 user broadcast (kind 4).
    Binary(Vec<u8>),
}

/// Something sent to a socket; encoded by the socket for its own protocol version.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A Phoenix message, a JSON text frame in either version.
    Message(Message),
    /// A user broadcast, shared by all its recipients: a binary frame for v2, a `broadcast`
    /// message for v1.
    Broadcast(std::sync::Arc<UserBroadcast>),
}

fn ref_value(r: &Option<String>) -> Value {
    r.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

/// Frames `out` for a socket speaking `vsn`.
pub fn encode(vsn: Vsn, out: &Outgoing) -> Frame {
    match out {
        Outgoing::Message(m) => Frame::Text(encode_message(vsn, m)),
        Outgoing::Broadcast(b) => match vsn {
            Vsn::V2 => Frame::Binary(encode_user_broadcast(b)),
            Vsn::V1 => {
                let payload = if b.encoding == 1 {
                    serde_json::from_slice(&b.payload).unwrap_or(Value::Null)
                } else {
                    Value::Array(b.payload.iter().map(|&x| json!(x)).collect())
                };
                Frame::Text(encode_message(
                    vsn,
                    &Message::push(
                        &b.topic,
                        "broadcast",
                        json!({"type": "broadcast", "event": b.event, "payload": payload}),
                    ),
                ))
            }
        },
    }
}

/// A message as v1's JSON object or v2's `[join_ref, ref, topic, event, payload]`.
pub fn encode_message(vsn: Vsn, m: &Message) -> String {
    match vsn {
        Vsn::V1 => json!({
            "topic": m.topic,
            "event": m.event,
            "payload": m.payload,
            "ref": ref_value(&m.r#ref),
            "join_ref": ref_value(&m.join_ref),
        })
        .to_string(),
        Vsn::V2 => json!([
            ref_value(&m.join_ref),
            ref_value(&m.r#ref),
            m.topic,
            m.event,
            m.payload
        ])
        .to_string(),
    }
}

/// Kind 4: `kind, topic_len, event_len, metadata_len, encoding, topic, event, metadata, payload`.
fn encode_user_broadcast(b: &UserBroadcast) -> Vec<u8> {
    let topic = truncate(b.topic.as_bytes());
    let event = truncate(b.event.as_bytes());
    let mut out = Vec::with_capacity(5 + topic.len() + event.len() + b.payload.len());
    out.push(4);
    out.push(topic.len() as u8);
    out.push(event.len() as u8);
    out.push(0);
    out.push(b.encoding);
    out.extend_from_slice(topic);
    out.extend_from_slice(event);
    out.extend_from_slice(&b.payload);
    out
}

fn truncate(b: &[u8]) -> &[u8] {
    &b[..b.len().min(255)]
}

fn ref_from(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A text frame: a v1 object or a v2 array.
pub fn decode_text(vsn: Vsn, text: &str) -> Option<Message> {
    let value: Value = serde_json::from_str(text).ok()?;
    match (vsn, value) {
        (Vsn::V2, Value::Array(items)) if items.len() >= 5 => Some(Message {
            join_ref: ref_from(&items[0]),
            r#ref: ref_from(&items[1]),
            topic: items[2].as_str()?.to_owned(),
            event: items[3].as_str()?.to_owned(),
            payload: items[4].clone(),
        }),
        (Vsn::V1, Value::Object(map)) => Some(Message {
            join_ref: map.get("join_ref").and_then(ref_from),
            r#ref: map.get("ref").and_then(ref_from),
            topic: map.get("topic")?.as_str()?.to_owned(),
            event: map.get("event")?.as_str()?.to_owned(),
            payload: map.get("payload").cloned().unwrap_or(Value::Null),
        }),
        _ => None,
    }
}

/// A v2 binary frame from a client: only kind 3 (user broadcast push) is meaningful.
/// Returns the message envelope (refs, topic) and the broadcast.
pub fn decode_binary(data: &[u8]) -> Option<(Message, UserBroadcast)> {
    let (&kind, rest) = data.split_first()?;
    if kind != 3 || rest.len() < 6 {
        return None;
    }
    let lens: Vec<usize> = rest[..5].iter().map(|&b| b as usize).collect();
    let encoding = rest[5];
    let mut body = &rest[6..];
    let mut take = |n: usize| -> Option<Vec<u8>> {
        if body.len() < n {
            return None;
        }
        let (head, tail) = body.split_at(n);
        body = tail;
        Some(head.to_vec())
    };
    let join_ref = String::from_utf8(take(lens[0])?).ok()?;
    let r#ref = String::from_utf8(take(lens[1])?).ok()?;
    let topic = String::from_utf8(take(lens[2])?).ok()?;
    let event = String::from_utf8(take(lens[3])?).ok()?;
    let _metadata = take(lens[4])?;
    let payload = body.to_vec();
    let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    Some((
        Message {
            join_ref: non_empty(join_ref),
            r#ref: non_empty(r#ref),
            topic: topic.clone(),
            event: "broadcast".to_owned(),
            payload: Value::Null,
        },
        UserBroadcast {
            topic,
            event,
            encoding: if encoding == 0 { 0 } else { 1 },
            payload,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_arrays_round_trip() {
        let m = decode_text(
            Vsn::V2,
            r#"["1","2","realtime:room","phx_join",{"config":{}}]"#,
        )
        .expect("a v2 message");
        assert_eq!(m.join_ref.as_deref(), Some("1"));
        assert_eq!(m.topic, "realtime:room");
        let text = encode_message(Vsn::V2, &Message::reply(&m, "ok", json!({})));
        assert_eq!(
            text,
            r#"["1","2","realtime:room","phx_reply",{"response":{},"status":"ok"}]"#
        );
    }

    #[test]
    fn binary_pushes_decode_and_broadcasts_encode() {
        // kind 3, join_ref "1", ref "2", topic "realtime:r", event "ev", no metadata, JSON.
        let mut frame = vec![3, 1, 1, 10, 2, 0, 1];
        frame.extend_from_slice(b"12realtime:rev{\"a\":1}");
        let (envelope, b) = decode_binary(&frame).expect("a broadcast push");
        assert_eq!(envelope.r#ref.as_deref(), Some("2"));
        assert_eq!(b.topic, "realtime:r");
        assert_eq!(b.event, "ev");
        assert_eq!(b.payload, b"{\"a\":1}");
        let Frame::Binary(out) = encode(Vsn::V2, &Outgoing::Broadcast(std::sync::Arc::new(b)))
        else {
            panic!("binary expected")
        };
        assert_eq!(&out[..5], &[4, 10, 2, 0, 1]);
        assert!(decode_binary(&[3, 9, 9]).is_none());
    }
}
