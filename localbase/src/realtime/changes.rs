//! From the replication stream to subscribers: what Realtime's `realtime.apply_rls` does,
//! per change.
//!
//! 1. One query (as the pool's role) types the change's row (`jsonb_populate_record` over
//!    the table's own row type, so values are cast exactly as PostgreSQL casts them),
//!    evaluates every subscriber filter on it, and reads the table's RLS flag and which
//!    columns each API role may select.
//! 2. For INSERT/UPDATE on a table with RLS: per distinct caller, in one transaction,
//!    `set_config('role', …, true)`, `set_config('request.jwt.claims', …, true)`, then
//!    `select exists(select 1 from <table> where <pk> = <the change's pk>)`; only callers
//!    whose policies let them see the row get the message. DELETEs cannot be checked (the row
//!    is gone): with RLS on they carry only the primary key, as upstream's do.
//! 3. The payload per role: `columns` and `record`/`old_record` keep only the columns the
//!    role may select.

use super::pgoutput::{self, Message, OldTuple, Relation, Value};
use super::protocol::{self, Outgoing};
use super::replication::{Event, ReplicationConnection};
use super::{Engine, Subscription};
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Upstream's `max_record_bytes`: larger rows are sent with their long values left out.
const MAX_RECORD_BYTES: usize = 1024 * 1024;
const API_ROLES: [&str; 3] = crate::request::API_ROLES;
/// How many pooled connections one change's RLS checks may use at once.
const CHECK_CONNECTIONS: usize = 4;

/// Reads the stream until `stop` or the engine is gone, handling each change in order.
pub async fn run(
    engine: Weak<Engine>,
    mut conn: ReplicationConnection,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut relations: HashMap<u32, Relation> = HashMap::new();
    let mut commit_time = 0i64;
    let (mut handled, mut acknowledged) = (0u64, 0u64);
    let mut status = tokio::time::interval(Duration::from_secs(10));
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = status.tick() => {
                if handled > acknowledged {
                    conn.acknowledge(handled).await?;
                    acknowledged = handled;
                }
                continue;
            }
            event = conn.next_event() => event?,
        };
        let data = match event {
            Event::KeepaliveReply => {
                conn.acknowledge(handled).await?;
                acknowledged = handled;
                continue;
            }
            Event::Keepalive => continue,
            Event::Data { data, .. } => data,
        };
        let Some(engine) = engine.upgrade() else {
            return Ok(());
        };
        let (relation, action, new, old) = match pgoutput::parse(&data)? {
            Message::Begin { commit_time: t } => {
                commit_time = t;
                continue;
            }
            Message::Commit { end_lsn } => {
                handled = end_lsn;
                continue;
            }
            Message::Relation(r) => {
                relations.insert(r.id, r);
                continue;
            }
            Message::Insert { relation, new } => (relation, "INSERT", Some(new), None),
            Message::Update { relation, old, new } => (relation, "UPDATE", Some(new), old),
            Message::Delete { relation, old } => (relation, "DELETE", None, Some(old)),
            Message::Other => continue,
        };
        let Some(rel) = relations.get(&relation) else {
            tracing::warn!(relation, "realtime: a change for an unknown relation");
            continue;
        };
        let subs = engine.subscriptions_for(&rel.schema, &rel.table, action);
        if subs.is_empty() {
            continue;
        }
        let change = Change {
            rel,
            action,
            new,
            old,
            commit_timestamp: pgoutput::commit_timestamp(commit_time),
        };
        if let Err(e) = deliver(&engine, &change, &subs).await {
            tracing::error!(error = %e, table = %rel.table, action, "realtime: a change could not be delivered");
        }
    }
}

/// One row change read from the stream, with the table it is on.
pub struct Change<'a> {
    /// The table, as the Relation message for the change's OID described it.
    pub rel: &'a Relation,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub action: &'static str,
    /// The new row (INSERT, UPDATE).
    pub new: Option<Vec<Value>>,
    /// The old row (DELETE, and UPDATE when the server sent one).
    pub old: Option<OldTuple>,
    /// The transaction's commit time, as Realtime writes it.
    pub commit_timestamp: String,
}

/// Double-quotes an identifier (`"` doubled), as `quote_ident` does.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qualified(rel: &Relation) -> String {
    format!("{}.{}", quote_ident(&rel.schema), quote_ident(&rel.table))
}

const JSON_OID: u32 = 114;
const JSONB_OID: u32 = 3802;

/// The tuple as the JSON `jsonb_populate_record` reads: text values as strings (fed to the
/// column type's input function), json/jsonb parsed, unchanged TOAST values left out.
fn input(rel: &Relation, values: &[Value], key_only: bool) -> Map<String, Json> {
    let mut map = Map::new();
    for (col, v) in rel.columns.iter().zip(values) {
        if key_only && !col.is_key {
            continue;
        }
        match v {
            Value::Null => {
                map.insert(col.name.clone(), Json::Null);
            }
            Value::Text(t) => {
                let value = if col.type_oid == JSON_OID || col.type_oid == JSONB_OID {
                    serde_json::from_str(t).unwrap_or_else(|_| Json::String(t.clone()))
                } else {
                    Json::String(t.clone())
                };
                map.insert(col.name.clone(), value);
            }
            Value::Unchanged => {}
        }
    }
    map
}

/// The SQL of one filter on the record alias (`n` new, `o` old); `params` collects its
/// bound values, numbered after the query's first three. Column names were checked against
/// the table at join.
fn filter_sql(
    table: &str,
    alias: &str,
    f: &super::filter::Filter,
    params: &mut Vec<String>,
) -> String {
    let col = quote_ident(&f.column);
    let mut bind = |v: String| {
        params.push(v);
        format!("${}", 3 + params.len())
    };
    let raw = match f.op.as_str() {
        "in" => {
            let items: Vec<Json> = f.values.iter().map(|v| json!({ &f.column: v })).collect();
            let p = bind(Json::Array(items).to_string());
            format!(
                "{alias}.{col} = any(array(select (jsonb_populate_record(null::{table}, x)).{col} \
                 from jsonb_array_elements({p}::text::jsonb) x))"
            )
        }
        "is" => {
            let keyword = match f.values.first().map(String::as_str) {
                Some("true") => "true",
                Some("false") => "false",
                Some("unknown") => "unknown",
                _ => "null",
            };
            format!("{alias}.{col} is {keyword}")
        }
        "like" | "ilike" => {
            let p = bind(f.values.first().cloned().unwrap_or_default());
            format!("{alias}.{col}::text {} {p}::text", f.op)
        }
        _ => {
            let op = f.sql_operator().unwrap_or("=");
            let value = f.values.first().cloned().unwrap_or_default();
            let p = bind(json!({ &f.column: value }).to_string());
            format!(
                "{alias}.{col} {op} (jsonb_populate_record(null::{table}, {p}::text::jsonb)).{col}"
            )
        }
    };
    if f.negate {
        format!("coalesce(not ({raw}), false)")
    } else {
        format!("coalesce({raw}, false)")
    }
}

/// What the first query tells about a change.
struct Typed {
    new: Map<String, Json>,
    old: Map<String, Json>,
    new_hits: Vec<bool>,
    old_hits: Vec<bool>,
    rls: bool,
    /// name, type name, is primary key, selectable by anon/authenticated/service_role.
    columns: Vec<(String, String, bool, [bool; 3])>,
}

async fn typed(
    engine: &Engine,
    change: &Change<'_>,
    new_input: &Map<String, Json>,
    old_input: &Map<String, Json>,
    filters: &[&super::filter::Filter],
) -> anyhow::Result<Typed> {
    let table = qualified(change.rel);
    let mut params = Vec::new();
    let new_exprs: Vec<String> = filters
        .iter()
        .map(|f| filter_sql(&table, "n", f, &mut params))
        .collect();
    let new_exprs = new_exprs.join(", ");
    let old_exprs: Vec<String> = filters
        .iter()
        .map(|f| filter_sql(&table, "o", f, &mut params))
        .collect();
    let old_exprs = old_exprs.join(", ");
    let sql = format!(
        "select to_jsonb(n)::text, to_jsonb(o)::text, array[{new_exprs}]::bool[], array[{old_exprs}]::bool[], \
           coalesce((select relrowsecurity from pg_class where oid = $3::int8::oid), false), \
           (select coalesce(jsonb_agg(jsonb_build_array(a.attname, t.typname, coalesce(a.attnum = any(pk.conkey), false), \
                has_column_privilege('anon', a.attrelid, a.attname, 'SELECT'), \
                has_column_privilege('authenticated', a.attrelid, a.attname, 'SELECT'), \
                has_column_privilege('service_role', a.attrelid, a.attname, 'SELECT')) order by a.attnum), '[]')::text \
              from pg_attribute a join pg_type t on t.oid = a.atttypid \
              left join pg_constraint pk on pk.conrelid = a.attrelid and pk.contype = 'p' \
             where a.attrelid = $3::int8::oid and a.attnum > 0 and not a.attisdropped) \
         from jsonb_populate_record(null::{table}, $1::text::jsonb) n, \
              jsonb_populate_record(null::{table}, $2::text::jsonb) o"
    );
    let mut query = sqlx::query_as::<
        _,
        (
            Option<String>,
            Option<String>,
            Vec<bool>,
            Vec<bool>,
            bool,
            String,
        ),
    >(&sql)
    .bind(Json::Object(new_input.clone()).to_string())
    .bind(Json::Object(old_input.clone()).to_string())
    .bind(i64::from(change.rel.id));
    for p in params {
        query = query.bind(p);
    }
    let (new, old, new_hits, old_hits, rls, columns) = query.fetch_one(&engine.db).await?;
    let object = |s: Option<String>| -> Map<String, Json> {
        match s.and_then(|s| serde_json::from_str(&s).ok()) {
            Some(Json::Object(m)) => m,
            _ => Map::new(),
        }
    };
    let columns: Vec<Json> = serde_json::from_str(&columns).unwrap_or_default();
    let columns = columns
        .into_iter()
        .filter_map(|c| {
            let a = c.as_array()?;
            let b = |i: usize| a.get(i).and_then(Json::as_bool).unwrap_or(false);
            Some((
                a.first()?.as_str()?.to_owned(),
                a.get(1)?.as_str()?.to_owned(),
                b(2),
                [b(3), b(4), b(5)],
            ))
        })
        .collect();
    Ok(Typed {
        new: object(new),
        old: object(old),
        new_hits,
        old_hits,
        rls,
        columns,
    })
}

/// Runs the subscribers' checks: for each distinct (role, claims), whether the row with the
/// change's primary key is visible under them.
async fn visible_to(
    engine: &Engine,
    change: &Change<'_>,
    pk_input: &Map<String, Json>,
    pk: &[String],
    callers: &[(String, String)],
) -> HashMap<(String, String), bool> {
    let table = qualified(change.rel);
    let cols: Vec<String> = pk.iter().map(|c| quote_ident(c)).collect();
    let cols = cols.join(", ");
    let sql = format!(
        "select exists(select 1 from {table} where ({cols}) = \
           (select {cols} from jsonb_populate_record(null::{table}, $1::text::jsonb)))"
    );
    let input = Json::Object(pk_input.clone()).to_string();
    let mut seen = HashMap::new();
    let mut tx = match engine.db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "realtime: cannot open the authorization transaction");
            return seen;
        }
    };
    for (role, claims) in callers {
        let result = async {
            sqlx::query(
                "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), \
                        set_config('search_path', 'public, extensions', true)",
            )
            .bind(role)
            .bind(claims)
            .execute(&mut *tx)
            .await?;
            sqlx::query_scalar::<_, bool>(&sql)
                .bind(&input)
                .fetch_one(&mut *tx)
                .await
        }
        .await;
        match result {
            Ok(v) => {
                seen.insert((role.clone(), claims.clone()), v);
            }
            Err(e) => {
                // A policy that fails for this caller hides the row from them; the
                // transaction is spent, so the next caller gets a new one.
                tracing::warn!(error = %e, role, "realtime: the RLS check failed");
                seen.insert((role.clone(), claims.clone()), false);
                let _ = tx.rollback().await;
                tx = match engine.db.begin().await {
                    Ok(tx) => tx,
                    Err(_) => return seen,
                };
            }
        }
    }
    let _ = tx.rollback().await;
    seen
}

fn role_index(role: &str) -> usize {
    API_ROLES.iter().position(|r| *r == role).unwrap_or(0)
}

/// Drops values longer than 64 bytes when the whole row is over the limit (upstream's 413).
fn limit(record: Map<String, Json>, too_large: bool) -> Map<String, Json> {
    if !too_large {
        return record;
    }
    record
        .into_iter()
        .filter(|(_, v)| v.to_string().len() <= 64)
        .collect()
}

/// Sends `change` to the subscriptions in `subs` whose filters its row matches and (for
/// INSERT/UPDATE on a table with RLS) whose callers may select it, one `postgres_changes`
/// message per channel, with the columns each caller's role may select.
pub async fn deliver(
    engine: &Engine,
    change: &Change<'_>,
    subs: &[Arc<Subscription>],
) -> anyhow::Result<()> {
    let rel = change.rel;
    let new_input = change
        .new
        .as_deref()
        .map(|v| input(rel, v, false))
        .unwrap_or_default();
    let old_input = change
        .old
        .as_ref()
        .map(|o| input(rel, &o.values, !o.full))
        .unwrap_or_default();
    // An UPDATE's unchanged TOASTed values come from the old row (replica identity full).
    let mut record_input = new_input.clone();
    if let Some(new) = &change.new {
        for (col, v) in rel.columns.iter().zip(new) {
            if *v == Value::Unchanged {
                if let Some(old) = old_input.get(&col.name) {
                    record_input.insert(col.name.clone(), old.clone());
                }
            }
        }
    }

    let mut distinct: Vec<&super::filter::Filter> = Vec::new();
    let mut sub_filters: Vec<Vec<usize>> = Vec::with_capacity(subs.len());
    for s in subs {
        let mut idx = Vec::new();
        for f in &s.filters {
            let i = match distinct.iter().position(|d| *d == f) {
                Some(i) => i,
                None => {
                    distinct.push(f);
                    distinct.len() - 1
                }
            };
            idx.push(i);
        }
        sub_filters.push(idx);
    }
    let t = typed(engine, change, &record_input, &old_input, &distinct).await?;
    let pk: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.2)
        .map(|c| c.0.clone())
        .collect();
    let is_delete = change.action == "DELETE";

    // Filters: on the new row, and for a DELETE on the old row.
    let callers: Vec<(String, String)> = subs
        .iter()
        .map(|s| match s.caller.read() {
            Ok(c) => (c.claims.role.clone(), c.claims_json.clone()),
            Err(_) => ("anon".to_owned(), "{}".to_owned()),
        })
        .collect();
    let mut candidates: Vec<usize> = Vec::new();
    for (i, idx) in sub_filters.iter().enumerate() {
        let all = |hits: &[bool]| idx.iter().all(|&j| hits.get(j).copied().unwrap_or(false));
        let visible = if is_delete {
            idx.is_empty() || all(&t.old_hits)
        } else {
            all(&t.new_hits)
        };
        if visible {
            candidates.push(i);
        }
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let mut errors: Vec<&str> = Vec::new();
    if !is_delete && pk.is_empty() {
        errors.push("Error 400: Bad Request, no primary key");
    }
    if errors.is_empty() && t.rls && !is_delete {
        let mut distinct_callers: Vec<(String, String)> =
            candidates.iter().map(|&i| callers[i].clone()).collect();
        distinct_callers.sort();
        distinct_callers.dedup();
        let pk_input: Map<String, Json> = record_input
            .iter()
            .filter(|(k, _)| pk.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // Up to CHECK_CONNECTIONS transactions side by side: each check is two round trips.
        let per = distinct_callers.len().div_ceil(CHECK_CONNECTIONS).max(1);
        let checks = distinct_callers
            .chunks(per)
            .map(|group| visible_to(engine, change, &pk_input, &pk, group));
        let mut seen = HashMap::new();
        for part in futures_util::future::join_all(checks).await {
            seen.extend(part);
        }
        candidates.retain(|&i| seen.get(&callers[i]).copied().unwrap_or(false));
    }

    let too_large = Json::Object(record_input.clone()).to_string().len()
        + Json::Object(old_input.clone()).to_string().len()
        > MAX_RECORD_BYTES;
    if too_large {
        errors.push("Error 413: Payload Too Large");
    }
    let present_new: Vec<&String> = record_input.keys().collect();
    let present_old: Vec<&String> = old_input.keys().collect();
    let mut data_by_role: HashMap<usize, Arc<Json>> = HashMap::new();
    let mut data_for = |role: usize| -> Arc<Json> {
        data_by_role
            .entry(role)
            .or_insert_with(|| {
                let selectable =
                    |name: &String| t.columns.iter().any(|c| &c.0 == name && c.3[role]);
                let errors_json = if errors.is_empty() {
                    Json::Null
                } else {
                    json!(errors)
                };
                if errors.contains(&"Error 400: Bad Request, no primary key") {
                    return Arc::new(json!({
                        "schema": rel.schema, "table": rel.table, "type": change.action,
                        "errors": errors_json,
                    }));
                }
                let columns: Vec<Json> = t
                    .columns
                    .iter()
                    .filter(|c| c.3[role])
                    .map(|c| json!({"name": c.0, "type": c.1}))
                    .collect();
                let pick = |from: &Map<String, Json>, names: &[&String], pk_only: bool| {
                    let m: Map<String, Json> = from
                        .iter()
                        .filter(|(k, _)| {
                            names.contains(k) && selectable(k) && (!pk_only || pk.contains(k))
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    Json::Object(limit(m, too_large))
                };
                let mut data = json!({
                    "schema": rel.schema,
                    "table": rel.table,
                    "commit_timestamp": change.commit_timestamp,
                    "type": change.action,
                    "columns": columns,
                    "errors": errors_json,
                });
                if let Some(obj) = data.as_object_mut() {
                    match change.action {
                        "INSERT" => {
                            obj.insert("record".into(), pick(&t.new, &present_new, false));
                        }
                        "UPDATE" => {
                            obj.insert("record".into(), pick(&t.new, &present_new, false));
                            let old = if change.old.is_some() {
                                pick(&t.old, &present_old, false)
                            } else {
                                // No old row in the WAL (default identity, key unchanged): the key.
                                pick(&t.new, &present_new, true)
                            };
                            obj.insert("old_record".into(), old);
                        }
                        _ => {
                            obj.insert("old_record".into(), pick(&t.old, &present_old, t.rls));
                        }
                    }
                }
                Arc::new(data)
            })
            .clone()
    };

    // One message per joined channel, with the ids of its bindings that matched.
    let mut per_channel: BTreeMap<(u64, String), (usize, Vec<u32>)> = BTreeMap::new();
    for &i in &candidates {
        let s = &subs[i];
        let entry = per_channel
            .entry((s.socket, s.topic.clone()))
            .or_insert_with(|| (i, Vec::new()));
        if !entry.1.contains(&s.id) {
            entry.1.push(s.id);
        }
    }
    for ((_, topic), (first, ids)) in per_channel {
        let s = &subs[first];
        let data = data_for(role_index(&callers[first].0));
        let message = protocol::Message::push(
            &topic,
            "postgres_changes",
            json!({"ids": ids, "data": &*data}),
        );
        s.outbox.send(Outgoing::Message(message));
    }
    Ok(())
}
