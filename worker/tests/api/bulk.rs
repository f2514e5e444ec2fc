//! Bulk data through the worker: a 200,000-row CSV import and the export of the same
//! events, with the content compared row by row and the progress seen moving.
//!
//! The Storage double here takes uploads of any size, read as a stream, and serves
//! downloads in 64 KiB chunks, like Storage does for large objects.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::helpers::*;

const ROWS: usize = 200_000;

#[derive(Clone, Default)]
struct BigStorage {
    objects: Arc<Mutex<HashMap<String, Bytes>>>,
    /// When set, an upload waits after its first chunk until `release`.
    gated: bool,
    started: Arc<Notify>,
    release: Arc<Notify>,
    aborted: Arc<AtomicBool>,
}

impl BigStorage {
    async fn start() -> (Self, String) {
        Self::start_with(false).await
    }

    async fn start_with(gated: bool) -> (Self, String) {
        let storage = Self {
            gated,
            ..Self::default()
        };
        let app = Router::new()
            .route(
                "/storage/v1/object/authenticated/{bucket}/{*path}",
                get(big_download),
            )
            .route("/storage/v1/object/{bucket}/{*path}", post(big_upload))
            .layer(DefaultBodyLimit::disable())
            .with_state(storage.clone());
        let url = serve(app).await;
        (storage, url)
    }

    fn get(&self, key: &str) -> Option<Bytes> {
        self.objects.lock().expect("lock").get(key).cloned()
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("apikey").and_then(|v| v.to_str().ok()) == Some(SERVICE_KEY)
}

async fn big_upload(
    State(storage): State<BigStorage>,
    Path((bucket, path)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    // An aborted body (the worker's export stopped) stores nothing.
    let mut chunks = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut first = true;
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(_) => {
                storage.aborted.store(true, Ordering::SeqCst);
                return StatusCode::BAD_REQUEST.into_response();
            }
        }
        if first && storage.gated {
            first = false;
            storage.started.notify_one();
            storage.release.notified().await;
        }
    }
    let bytes = Bytes::from(bytes);
    let key = format!("{bucket}/{path}");
    storage
        .objects
        .lock()
        .expect("lock")
        .insert(key.clone(), bytes);
    axum::Json(json!({ "Id": Uuid::new_v4(), "Key": key })).into_response()
}

async fn big_download(
    State(storage): State<BigStorage>,
    Path((bucket, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(bytes) = storage.get(&format!("{bucket}/{path}")) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({ "statusCode": "404", "error": "not_found", "message": "Object not found" }),
            ),
        )
            .into_response();
    };
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..bytes.len())
        .step_by(64 * 1024)
        .map(|at| Ok(bytes.slice(at..(at + 64 * 1024).min(bytes.len()))))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks)).into_response()
}

/// Row `n` of the file: every type, amounts with 0–2 decimals, one second apart.
fn row(n: usize) -> (&'static str, String, DateTime<Utc>) {
    let kind = ["order", "visit", "signup", "conversion"][n % 4];
    let amount = match n % 3 {
        0 => format!("{}", n % 1000),
        1 => format!("{}.5", n % 977),
        _ => format!("{}.{:02}", n % 1013, n % 100),
    };
    let at = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("date")
        + Duration::seconds(n as i64);
    (kind, amount, at)
}

/// `12.5` → 1250.
fn cents(amount: &str) -> i64 {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let frac = format!("{frac:0<2}");
    int.parse::<i64>().expect("int") * 100 + frac.parse::<i64>().expect("frac")
}

fn csv_file() -> Vec<u8> {
    let mut file = String::from("event_type,amount,occurred_at\n");
    for n in 0..ROWS {
        let (kind, amount, at) = row(n);
        // Dates written both ways the importer accepts.
        let at = if n % 2 == 0 {
            at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        } else {
            at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
        };
        file.push_str(&format!("{kind},{amount},{at}\n"));
    }
    file.into_bytes()
}

/// Records every value `tasks.progress` takes, in order.
async fn watch_progress(app: &TestApp) {
    sqlx::raw_sql(
        "create table public.test_progress (task_id uuid, progress int, seq bigserial);
         create function public.test_progress_seen() returns trigger language plpgsql as $$
         begin
           if new.progress is distinct from old.progress then
             insert into public.test_progress (task_id, progress) values (new.id, new.progress);
           end if;
           return new;
         end $$;
         create trigger test_progress_seen after update on public.tasks
           for each row execute function public.test_progress_seen();",
    )
    .execute(&app.pool)
    .await
    .expect("progress watch");
}

async fn progress_seen(app: &TestApp, id: Uuid) -> Vec<i32> {
    sqlx::query_scalar("select progress from public.test_progress where task_id = $1 order by seq")
        .bind(id)
        .fetch_all(&app.pool)
        .await
        .expect("progress")
}

#[tokio::test]
async fn a_200k_row_import_and_its_export_round_trip_with_progress() {
    let app = TestApp::new().await;
    let (storage, url) = BigStorage::start().await;
    let deps = app.deps().with_storage(StorageDouble::client(&url));
    watch_progress(&app).await;

    let path = format!("{}/big.csv", app.user_id);
    storage
        .objects
        .lock()
        .expect("lock")
        .insert(format!("imports/{path}"), Bytes::from(csv_file()));
    let import = app
        .task()
        .kind("data_import", json!({ "path": path }))
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(import)
    );
    let task = task_row(&app.pool, import).await;
    assert_eq!(task.status, "completed", "{:?}", task.error_message);
    assert_eq!(task.result.expect("result")["imported"], ROWS);

    // What is in the database is what the file said.
    let (count, revenue, kinds): (i64, String, i64) = sqlx::query_as(
        "select count(*), sum(amount)::text, count(distinct event_type)
           from public.business_events where user_id = $1",
    )
    .bind(app.user_id)
    .fetch_one(&app.pool)
    .await
    .expect("totals");
    assert_eq!(count, ROWS as i64);
    assert_eq!(kinds, 4);
    let expected_cents: i64 = (0..ROWS).map(|n| cents(&row(n).1)).sum();
    assert_eq!(
        revenue,
        format!("{}.{:02}", expected_cents / 100, expected_cents % 100)
    );

    // Progress moved forward several times, and the log said how far it was.
    let seen = progress_seen(&app, import).await;
    assert!(
        seen.len() >= 10,
        "progress written {} times: {seen:?}",
        seen.len()
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "only forward: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&100));
    let messages: Vec<String> = logs(&app.pool, import)
        .await
        .into_iter()
        .map(|(_, _, m)| m)
        .collect();
    assert!(
        messages.contains(&format!("{ROWS} rows are valid; importing")),
        "{messages:?}"
    );
    let steps = messages
        .iter()
        .filter(|m| m.starts_with("Inserted ") && m.ends_with(" %)"))
        .count();
    assert_eq!(steps, 9, "a line every 10 %: {messages:?}");
    assert!(messages.contains(&format!("Imported {ROWS} events")));

    // Export the same events as CSV: the same rows in the same order.
    let export = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "events", "format": "csv" }),
        )
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(export)
    );
    let task = task_row(&app.pool, export).await;
    assert_eq!(task.status, "completed", "{:?}", task.error_message);
    let result = task.result.expect("result");
    assert_eq!(result["rows"], ROWS);
    let file = storage
        .get(&format!("reports/{}/exports/{export}.csv", app.user_id))
        .expect("uploaded");
    assert_eq!(result["sizeBytes"], file.len());
    let mut reader = csv::Reader::from_reader(file.as_ref());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["id", "event_type", "amount", "occurred_at", "metadata"]
    );
    let mut n = 0;
    for record in reader.records() {
        let record = record.expect("a CSV row");
        let (kind, amount, at) = row(n);
        assert_eq!(&record[1], kind, "row {n}");
        assert_eq!(cents(&record[2]), cents(&amount), "row {n}: {}", &record[2]);
        let exported: DateTime<Utc> = record[3].parse().expect("timestamp");
        assert_eq!(exported, at, "row {n}");
        let metadata: Value = serde_json::from_str(&record[4]).expect("metadata");
        assert_eq!(metadata["importTaskId"], import.to_string());
        n += 1;
    }
    assert_eq!(n, ROWS, "every row exported once");
    let seen = progress_seen(&app, export).await;
    assert!(seen.len() >= 10, "export progress: {seen:?}");
    assert_eq!(seen.last(), Some(&100));
    let steps = logs(&app.pool, export)
        .await
        .into_iter()
        .filter(|(_, _, m)| m.starts_with("Wrote ") && m.ends_with(" %)"))
        .count();
    assert_eq!(steps, 9);

    // And as JSON: one valid array of every event.
    let json_export = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "events", "format": "json" }),
        )
        .insert()
        .await;
    worker::try_execute_one(&deps).await.expect("run");
    assert_eq!(task_row(&app.pool, json_export).await.status, "completed");
    let file = storage
        .get(&format!(
            "reports/{}/exports/{json_export}.json",
            app.user_id
        ))
        .expect("uploaded");
    let events: Vec<Value> = serde_json::from_slice(&file).expect("a JSON array");
    assert_eq!(events.len(), ROWS);
    assert_eq!(events[ROWS - 1]["eventType"], row(ROWS - 1).0);
    // The same bytes a whole-array writer gives.
    assert_eq!(
        serde_json::to_vec_pretty(&events).expect("json"),
        file.to_vec()
    );
}

#[tokio::test]
async fn an_export_cancelled_mid_upload_leaves_no_file() {
    let app = TestApp::new().await;
    let (storage, url) = BigStorage::start_with(true).await;
    let deps = app.deps().with_storage(StorageDouble::client(&url));
    sqlx::query(
        "insert into public.business_events (user_id, event_type, amount, occurred_at)
         select $1, 'order', 1, '2024-01-01'::timestamptz + n * interval '1 minute'
           from generate_series(1, 20000) n",
    )
    .bind(app.user_id)
    .execute(&app.pool)
    .await
    .expect("events");
    let export = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "events", "format": "json" }),
        )
        .insert()
        .await;
    let runner = tokio::spawn({
        let deps = deps.clone();
        async move { worker::try_execute_one(&deps).await }
    });
    // Storage has the first chunk and holds the rest back; the owner cancels meanwhile.
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        storage.started.notified(),
    )
    .await
    .expect("the upload starts");
    cancel_as_owner(&app.pool, export, app.user_id).await;
    worker::runner::check_running_tasks(&deps)
        .await
        .expect("heartbeat");
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(30), runner)
        .await
        .expect("the export stops")
        .expect("join")
        .expect("run");
    assert_eq!(outcome, worker::Outcome::Ran(export));
    storage.release.notify_one();
    wait_until(
        std::time::Duration::from_secs(10),
        "Storage to see the upload aborted",
        || async { storage.aborted.load(Ordering::SeqCst).then_some(()) },
    )
    .await;
    assert_eq!(task_row(&app.pool, export).await.status, "cancelled");
    assert!(
        storage
            .get(&format!("reports/{}/exports/{export}.json", app.user_id))
            .is_none(),
        "no truncated file"
    );
}
