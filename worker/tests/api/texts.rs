//! What the worker tells people is stored twice: in English and as a code with values
//! (`message_text`, `error_text`, `last_error_text`), which the SPA says in the reader's
//! language. These tests run the handlers' common paths (success, retry, giving up, a
//! refused file, a cancellation, a recurrence) and check every row they leave: each
//! English text has its code beside it, and the code says exactly that English.

use chrono::Timelike;
use serde_json::{json, Value};
use uuid::Uuid;
use worker::text::english_of;

use crate::handlers::storage_app;
use crate::helpers::*;

fn http_task(url: &str) -> Value {
    json!({ "method": "GET", "url": url, "timeoutSecs": 5 })
}

/// Every (English, stored) pair of the database's log lines, attempts' errors and tasks'
/// errors, with where it comes from.
async fn texts(pool: &sqlx::PgPool) -> Vec<(String, String, Option<Value>)> {
    sqlx::query_as(
        "select 'log ' || id, message, message_text from public.execution_logs
         union all
         select 'execution ' || id, error_message, error_text from public.task_executions
          where error_message is not null
         union all
         select 'task ' || id, error_message, error_text from public.tasks
          where error_message is not null
         union all
         select 'task last error ' || id, last_error, last_error_text from public.tasks
          where last_error is not null",
    )
    .fetch_all(pool)
    .await
    .expect("texts")
}

#[tokio::test]
async fn every_line_for_people_has_its_code_and_the_code_says_the_same() {
    let (app, storage, deps) = storage_app().await;
    let target = start_http_target().await;
    let path = format!("{}/bad.csv", app.user_id);
    storage.put(
        &format!("imports/{path}"),
        b"event_type,amount,occurred_at\nrefund,-5,yesterday\norder,1\n",
    );
    let tasks: Vec<Uuid> = vec![
        app.task()
            .kind("http_request", http_task(&format!("{target}/ok")))
            .insert()
            .await,
        app.task()
            .kind("http_request", http_task(&format!("{target}/status/503")))
            .max_attempts(2)
            .insert()
            .await,
        app.task()
            .kind("http_request", http_task(&format!("{target}/status/404")))
            .insert()
            .await,
        app.task()
            .kind("data_import", json!({ "path": path }))
            .insert()
            .await,
        app.task()
            .kind(
                "data_export",
                json!({ "dataset": "tasks", "format": "csv" }),
            )
            .insert()
            .await,
        app.task()
            .kind("http_request", http_task(&format!("{target}/ok")))
            .recurrence("0 6 * * *")
            .insert()
            .await,
    ];
    let cancelled = app
        .task()
        .kind("http_request", http_task(&format!("{target}/ok")))
        .scheduled_in(3600.0)
        .insert()
        .await;
    cancel_as_owner(&app.pool, cancelled, app.user_id).await;
    let ran = drain(&deps).await;
    for id in &tasks {
        assert!(ran.contains(id), "{id} ran");
    }

    let rows = texts(&app.pool).await;
    // Every path above wrote something: the lines of success, retry, giving up, the
    // refused rows, the export, the next run and the cancellation.
    let codes: Vec<&str> = rows
        .iter()
        .filter_map(|(_, _, stored)| stored.as_ref()?.get("code")?.as_str())
        .collect();
    for code in [
        "http_sending",
        "http_response",
        "completed",
        "attempt_started",
        "attempt_failed",
        "failed",
        "gave_up",
        "http_answered",
        "import_invalid",
        "import_invalid_log",
        "export_start",
        "export_done",
        "uploaded",
        "next_run",
        "cancelled_by_you",
    ] {
        assert!(codes.contains(&code), "a {code} line: {codes:?}");
    }
    for (row, english, stored) in &rows {
        let stored = stored
            .as_ref()
            .unwrap_or_else(|| panic!("{row} ({english:?}) has no code"));
        assert_eq!(
            english_of(stored).as_deref(),
            Some(english.as_str()),
            "{row}: {stored}"
        );
    }
}

#[tokio::test]
async fn a_recurrence_is_read_on_the_owners_clock() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let target = start_http_target().await;
    sqlx::query(
        "update public.profiles set preferences = preferences || '{\"timezone\": \"Asia/Jakarta\"}'
          where id = $1",
    )
    .bind(app.user_id)
    .execute(&app.pool)
    .await
    .expect("zone");
    let id = app
        .task()
        .kind("http_request", http_task(&format!("{target}/ok")))
        .recurrence("0 6 * * *")
        .insert()
        .await;
    drain(&deps).await;
    let (scheduled, local_hour): (chrono::DateTime<chrono::Utc>, f64) = sqlx::query_as(
        "select scheduled_at, extract(hour from scheduled_at at time zone 'Asia/Jakarta')::float8
           from public.tasks where parent_task_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("next run");
    // 06:00 in Jakarta (WIB, UTC+7) is 23:00 UTC, within the next day.
    assert_eq!(local_hour, 6.0);
    assert_eq!((scheduled.hour(), scheduled.minute()), (23, 0));
    assert!(scheduled > chrono::Utc::now());
    assert!(scheduled < chrono::Utc::now() + chrono::Duration::days(1));
    let context: Value = sqlx::query_scalar(
        "select context from public.execution_logs
          where task_id = $1 and message_text ->> 'code' = 'next_run'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("the next run's line");
    assert_eq!(context["timeZone"], "Asia/Jakarta");
}
