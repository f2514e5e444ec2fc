//! OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, the worker binary exports its
//! spans over OTLP/HTTP (protobuf) to that endpoint.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::json;

use crate::helpers::*;

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

// Several threads: the collector must answer while the test waits for the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_http_when_an_endpoint_is_set() {
    let app = TestApp::new().await;
    let received: Received = Arc::default();
    let collector = Router::new()
        .route(
            "/v1/traces",
            post(
                |State(received): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    received
                        .lock()
                        .expect("lock")
                        .push((content_type, body.to_vec()));
                    ""
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, collector).await;
    });

    let id = app
        .task()
        .owner(app.admin_id)
        .kind("cleanup", json!({ "retentionDays": 30 }))
        .insert()
        .await;
    let mut worker = Command::new(env!("CARGO_BIN_EXE_worker"))
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", &app.db.url)
        .env("WORKER_NAME", "traced")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for_status(&app.pool, id, "completed", Duration::from_secs(20)).await;
    sigterm(&worker);
    let exit = tokio::task::spawn_blocking(move || worker.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "{exit}");

    let batch = wait_until(Duration::from_secs(10), "an OTLP export", || async {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|(_, body)| contains(body, b"execute"))
            .cloned()
    })
    .await;
    assert_eq!(batch.0, "application/x-protobuf");
    assert!(contains(&batch.1, b"taskdeck-worker"), "service name");
    assert!(
        contains(&batch.1, id.to_string().as_bytes()),
        "the task id attribute"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
