//! The five handlers, end to end against the database, a Storage double and a local
//! HTTP target.

use serde_json::{json, Value};
use uuid::Uuid;
use worker::Deps;

use crate::helpers::*;

pub(crate) async fn storage_app() -> (TestApp, StorageDouble, Deps) {
    let app = TestApp::new().await;
    let (storage, url) = StorageDouble::start().await;
    let deps = app.deps().with_storage(StorageDouble::client(&url));
    (app, storage, deps)
}

/// Events of the user: 1 and 2 March 2024 (3 March has none).
pub(crate) async fn insert_events(app: &TestApp) {
    sqlx::query(
        "insert into public.business_events (user_id, event_type, amount, occurred_at) values
           ($1, 'order', 100.00, '2024-03-01 09:00Z'), ($1, 'order', 50.50, '2024-03-01 15:00Z'),
           ($1, 'visit', 0, '2024-03-01 08:00Z'), ($1, 'visit', 0, '2024-03-01 08:01Z'),
           ($1, 'visit', 0, '2024-03-01 08:02Z'), ($1, 'visit', 0, '2024-03-01 08:03Z'),
           ($1, 'conversion', 0, '2024-03-01 08:05Z'), ($1, 'signup', 0, '2024-03-01 10:00Z'),
           ($1, 'order', 20, '2024-03-02 12:00Z'),
           ($1, 'visit', 0, '2024-03-02 12:00Z'), ($1, 'visit', 0, '2024-03-02 13:00Z'),
           ($2, 'order', 999, '2024-03-01 12:00Z')",
    )
    .bind(app.user_id)
    .bind(app.admin_id)
    .execute(&app.pool)
    .await
    .expect("events");
}

#[tokio::test]
async fn data_export_writes_the_owners_tasks_as_csv() {
    let (app, storage, deps) = storage_app().await;
    app.task()
        .title("=HYPERLINK(\"http://evil\")")
        .insert()
        .await;
    app.task()
        .owner(app.admin_id)
        .title("Not mine")
        .insert()
        .await;
    // Run the two cleanup tasks out of the way first with a no-op, then the export.
    let id = app
        .task()
        .title("Export my tasks")
        .kind(
            "data_export",
            json!({ "dataset": "tasks", "format": "csv" }),
        )
        .priority("urgent")
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(id)
    );
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let key = format!("reports/{}/exports/{id}.csv", app.user_id);
    let object = storage.get(&key).expect("uploaded");
    assert_eq!(object.content_type, "text/csv");
    let mut reader = csv::Reader::from_reader(object.bytes.as_slice());
    assert_eq!(
        reader.headers().expect("header"),
        vec![
            "id",
            "title",
            "type",
            "status",
            "priority",
            "progress",
            "attempts",
            "created_at",
            "started_at",
            "completed_at",
            "error_message"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "only the owner's tasks");
    let titles: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert!(
        titles.contains(&"'=HYPERLINK(\"http://evil\")"),
        "formulas are defused: {titles:?}"
    );
    assert!(titles.contains(&"Export my tasks"));
    assert_eq!(row.result.expect("result")["rows"], 2);
}

#[tokio::test]
async fn data_export_writes_events_in_a_date_range_as_json() {
    let (app, storage, deps) = storage_app().await;
    insert_events(&app).await;
    let id = app
        .task()
        .kind(
            "data_export",
            json!({ "dataset": "events", "format": "json", "dateRange": { "start": "2024-03-02", "end": "2024-03-02" } }),
        )
        .insert()
        .await;
    drain(&deps).await;
    assert_eq!(task_row(&app.pool, id).await.status, "completed");
    let object = storage
        .get(&format!("reports/{}/exports/{id}.json", app.user_id))
        .expect("uploaded");
    assert_eq!(object.content_type, "application/json");
    let events: Vec<Value> = serde_json::from_slice(&object.bytes).expect("json");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["eventType"], "order");
    assert_eq!(events[0]["amount"].as_f64(), Some(20.0));
    assert!(events.iter().all(|e| e["occurredAt"]
        .as_str()
        .is_some_and(|t| t.starts_with("2024-03-02"))));
}

#[tokio::test]
async fn data_import_inserts_every_row_of_a_valid_file() {
    let (app, storage, deps) = storage_app().await;
    let path = format!("{}/events.csv", app.user_id);
    storage.put(
        &format!("imports/{path}"),
        b"event_type,amount,occurred_at\norder,12.50,2024-03-01\nvisit,0,2024-03-01T10:00:00Z\nsignup,0,2024-03-02\n",
    );
    let id = app
        .task()
        .kind("data_import", json!({ "path": path }))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    assert_eq!(row.result.expect("result")["imported"], 3);
    let events: Vec<(String, String, Value)> = sqlx::query_as(
        "select event_type, amount::text, metadata from public.business_events where user_id = $1 order by occurred_at, id",
    )
    .bind(app.user_id)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].0, "order");
    assert_eq!(events[0].1, "12.50");
    assert_eq!(events[0].2["importTaskId"], id.to_string());
}

#[tokio::test]
async fn data_import_lists_the_bad_rows_and_inserts_nothing() {
    let (app, storage, deps) = storage_app().await;
    let path = format!("{}/bad.csv", app.user_id);
    let mut file = String::from("event_type,amount,occurred_at\norder,1,2024-03-01\n");
    for _ in 0..25 {
        file.push_str("refund,-5,2024-03-01\n");
    }
    storage.put(&format!("imports/{path}"), file.as_bytes());
    let id = app
        .task()
        .kind("data_import", json!({ "path": path }))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1, "not retried");
    let message = row.error_message.expect("message");
    assert!(message.starts_with("The file has 25 invalid rows; nothing was imported: line 3: event_type must be one of order, signup, visit, conversion (got \"refund\")"), "{message}");
    assert!(message.contains("line 22: "), "{message}");
    assert!(
        !message.contains("line 23: "),
        "only 20 are listed: {message}"
    );
    assert!(message.ends_with("… and 5 more"), "{message}");
    let count: i64 = sqlx::query_scalar("select count(*) from public.business_events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn data_import_cancelled_partway_imports_nothing() {
    let (app, storage, deps) = storage_app().await;
    // 3000 rows: three batches of 1000 in one transaction. A gate on business_events makes
    // the first row of the second batch (amount 4242) wait for an advisory lock this test
    // holds: when the worker's backend waits there, the first batch is in.
    let path = format!("{}/big.csv", app.user_id);
    let mut file = String::from("event_type,amount,occurred_at\n");
    for n in 0..3000 {
        let amount = if n == 1000 { 4242 } else { 1 };
        file.push_str(&format!("order,{amount},2024-03-01\n"));
    }
    storage.put(&format!("imports/{path}"), file.as_bytes());
    sqlx::raw_sql(
        "create function public.test_import_gate() returns trigger language plpgsql as $$
         begin
           if new.amount = 4242 then perform pg_advisory_xact_lock(4242); end if;
           return new;
         end $$;
         create trigger test_import_gate before insert on public.business_events
           for each row execute function public.test_import_gate();",
    )
    .execute(&app.pool)
    .await
    .expect("gate");
    let mut gate = app.pool.acquire().await.expect("connection");
    sqlx::query("select pg_advisory_lock(4242)")
        .execute(&mut *gate)
        .await
        .expect("lock");

    let id = app
        .task()
        .kind("data_import", json!({ "path": path }))
        .insert()
        .await;
    let runner = tokio::spawn({
        let deps = deps.clone();
        async move { worker::try_execute_one(&deps).await }
    });
    wait_until(
        std::time::Duration::from_secs(20),
        "the import to wait at the second batch",
        || async {
            let waiting: bool = sqlx::query_scalar(
                "select exists (select 1 from pg_stat_activity
                                 where datname = current_database()
                                   and wait_event_type = 'Lock' and wait_event = 'advisory'
                                   and query ilike '%insert into public.business_events%')",
            )
            .fetch_one(&app.pool)
            .await
            .expect("activity");
            waiting.then_some(())
        },
    )
    .await;
    assert_eq!(task_row(&app.pool, id).await.status, "running");

    // The owner cancels; the heartbeat trips the handler's token; the gate opens.
    cancel_as_owner(&app.pool, id, app.user_id).await;
    worker::runner::check_running_tasks(&deps)
        .await
        .expect("heartbeat");
    sqlx::query("select pg_advisory_unlock(4242)")
        .execute(&mut *gate)
        .await
        .expect("unlock");
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), runner)
        .await
        .expect("the import stops")
        .expect("join")
        .expect("run");
    assert_eq!(outcome, worker::Outcome::Ran(id));

    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "cancelled");
    assert_eq!(row.locked_by, None);
    let executions = executions(&app.pool, id).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].status, "cancelled");
    let count: i64 =
        sqlx::query_scalar("select count(*) from public.business_events where user_id = $1")
            .bind(app.user_id)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(count, 0, "nothing of the first batch stays");
    let logs = logs(&app.pool, id).await;
    assert!(
        logs.iter()
            .any(|(_, _, message)| message == "3000 rows are valid; importing"),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|(_, _, message)| message.starts_with("Cancelled while running")),
        "{logs:?}"
    );
}

#[tokio::test]
async fn data_import_of_a_missing_file_or_another_users_file_fails_clearly() {
    let (app, storage, deps) = storage_app().await;
    let missing = app
        .task()
        .kind(
            "data_import",
            json!({ "path": format!("{}/missing.csv", app.user_id) }),
        )
        .insert()
        .await;
    let other = format!("{}/theirs.csv", app.admin_id);
    storage.put(
        &format!("imports/{other}"),
        b"event_type,amount,occurred_at\norder,1,2024-03-01\n",
    );
    let foreign = app
        .task()
        .kind("data_import", json!({ "path": other }))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, missing).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message,
        Some(format!(
            "The file imports/{}/missing.csv was not found in Storage",
            app.user_id
        ))
    );
    let row = task_row(&app.pool, foreign).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message,
        Some(format!(
            "path must be in your own folder ({}/…)",
            app.user_id
        ))
    );
}

#[tokio::test]
async fn cleanup_deletes_old_logs_and_old_finished_tasks() {
    let app = TestApp::new().await;
    let deps = app.deps();
    // History: an old finished task with an old log line, a recent one, an old pending one.
    let old_done = app.task().owner(app.admin_id).title("old").insert().await;
    let old_pending = app
        .task()
        .owner(app.admin_id)
        .title("old pending")
        .scheduled_in(86400.0 * 365.0)
        .insert()
        .await;
    let recent_done = app
        .task()
        .owner(app.admin_id)
        .title("recent")
        .insert()
        .await;
    sqlx::query(
        "update public.tasks set status = 'completed', completed_at = now() - interval '100 days' where id = $1;",
    )
    .bind(old_done)
    .execute(&app.pool)
    .await
    .expect("old");
    sqlx::query("update public.tasks set status = 'completed', completed_at = now() - interval '1 day' where id = $1")
        .bind(recent_done)
        .execute(&app.pool)
        .await
        .expect("recent");
    let execution: Uuid = sqlx::query_scalar(
        "insert into public.task_executions (task_id, attempt, status) values ($1, 1, 'completed') returning id",
    )
    .bind(recent_done)
    .fetch_one(&app.pool)
    .await
    .expect("execution");
    sqlx::query(
        "insert into public.execution_logs (execution_id, task_id, message, created_at) values
           ($1, $2, 'ancient', now() - interval '10 days'), ($1, $2, 'fresh', now() - interval '1 day')",
    )
    .bind(execution)
    .bind(recent_done)
    .execute(&app.pool)
    .await
    .expect("logs");

    sqlx::query(
        "insert into public.workers (id, hostname, version, status, last_heartbeat_at) values
           ('old-worker', 'h', '0', 'stopped', now() - interval '30 days'),
           ('recent-worker', 'h', '0', 'stopped', now() - interval '1 day')",
    )
    .execute(&app.pool)
    .await
    .expect("workers");
    let id = app
        .task()
        .owner(app.admin_id)
        .kind("cleanup", json!({ "retentionDays": 7 }))
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(id)
    );
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let result = row.result.expect("result");
    assert_eq!(result["deletedLogs"], 1);
    assert_eq!(result["deletedTasks"], 1);
    assert_eq!(result["logRetentionDays"], 7);
    assert_eq!(result["taskRetentionDays"], 90);
    assert_eq!(result["deletedWorkers"], 1);
    let workers: Vec<String> = sqlx::query_scalar("select id from public.workers order by id")
        .fetch_all(&app.pool)
        .await
        .expect("workers");
    assert_eq!(workers, vec!["recent-worker"]);
    let left: Vec<String> =
        sqlx::query_scalar("select title from public.tasks where user_id = $1 order by title")
            .bind(app.admin_id)
            .fetch_all(&app.pool)
            .await
            .expect("tasks");
    assert_eq!(left, vec!["A test task", "old pending", "recent"]);
    let messages: Vec<String> =
        sqlx::query_scalar("select message from public.execution_logs where task_id = $1")
            .bind(recent_done)
            .fetch_all(&app.pool)
            .await
            .expect("logs");
    assert_eq!(messages, vec!["fresh"]);
    let _ = old_pending;
}

#[tokio::test]
async fn cleanup_uses_the_log_retention_setting_and_refuses_non_admins() {
    let app = TestApp::new().await;
    let deps = app.deps();
    sqlx::query("update public.system_settings set value = '3' where key = 'log_retention_days'")
        .execute(&app.pool)
        .await
        .expect("setting");
    let admin_task = app.task().owner(app.admin_id).insert().await;
    let user_task = app.task().insert().await;
    drain(&deps).await;
    let row = task_row(&app.pool, admin_task).await;
    assert_eq!(row.status, "completed");
    assert_eq!(row.result.expect("result")["logRetentionDays"], 3);
    let row = task_row(&app.pool, user_task).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("Only administrators can run cleanup tasks")
    );
}

fn http_task(method: &str, url: &str) -> Value {
    json!({ "method": method, "url": url, "timeoutSecs": 5 })
}

#[tokio::test]
async fn http_request_records_status_headers_and_a_body_preview() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let target = start_http_target().await;
    let id = app
        .task()
        .kind("http_request", http_task("GET", &format!("{target}/ok")))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let result = row.result.expect("result");
    assert_eq!(result["status"], 200);
    assert_eq!(result["statusText"], "OK");
    assert_eq!(result["headers"]["server"], "test-target");
    assert_eq!(result["headers"]["content-type"], "application/json");
    assert!(
        result["headers"].get("x-request-id").is_none(),
        "only a subset is kept"
    );
    assert_eq!(result["bodyPreview"], r#"{"hello":"world"}"#);
    assert_eq!(result["truncated"], false);
    assert!(result["durationMs"].as_u64().is_some());
}

#[tokio::test]
async fn http_request_sends_headers_and_a_json_body() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let target = start_http_target().await;
    let id = app
        .task()
        .kind(
            "http_request",
            json!({ "method": "POST", "url": format!("{target}/echo"), "headers": { "X-Api-Key": "k1" }, "body": { "a": 1 } }),
        )
        .insert()
        .await;
    drain(&deps).await;
    let result = task_row(&app.pool, id).await.result.expect("result");
    assert_eq!(result["bodyPreview"], r#"application/json|k1|{"a":1}"#);
}

#[tokio::test]
async fn http_request_retries_5xx_and_fails_4xx_at_once() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let target = start_http_target().await;
    let unavailable = app
        .task()
        .kind(
            "http_request",
            http_task("GET", &format!("{target}/status/503")),
        )
        .max_attempts(2)
        .insert()
        .await;
    let missing = app
        .task()
        .kind(
            "http_request",
            http_task("GET", &format!("{target}/status/404")),
        )
        .insert()
        .await;
    drain(&deps).await; // zero backoff: both attempts of the 503 run
    let row = task_row(&app.pool, unavailable).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 2);
    assert_eq!(
        row.error_message.as_deref(),
        Some("Gave up after 2 attempts: The server answered 503 Service Unavailable")
    );
    let row = task_row(&app.pool, missing).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.error_message.as_deref(),
        Some("The server answered 404 Not Found")
    );
}

#[tokio::test]
async fn http_request_cuts_the_body_at_the_configured_size() {
    let app = TestApp::new().await;
    let deps = app.deps();
    sqlx::query("update public.system_settings set value = '1000' where key = 'http_request_max_response_bytes'")
        .execute(&app.pool)
        .await
        .expect("setting");
    let target = start_http_target().await;
    let id = app
        .task()
        .kind("http_request", http_task("GET", &format!("{target}/big")))
        .insert()
        .await;
    drain(&deps).await;
    let result = task_row(&app.pool, id).await.result.expect("result");
    assert_eq!(result["bodyBytes"], 1000);
    assert_eq!(result["truncated"], true);
    assert_eq!(result["bodyPreview"].as_str().map(str::len), Some(1000));
}

#[tokio::test]
async fn http_request_timeouts_and_refused_connections_are_retryable() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let target = start_http_target().await;
    let slow = app
        .task()
        .kind(
            "http_request",
            json!({ "method": "GET", "url": format!("{target}/slow"), "timeoutSecs": 1 }),
        )
        .max_attempts(1)
        .insert()
        .await;
    let refused = app
        .task()
        .kind("http_request", http_task("GET", &refused_url().await))
        .max_attempts(1)
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, slow).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("The server did not answer within 1 seconds")
    );
    let row = task_row(&app.pool, refused).await;
    assert_eq!(row.status, "failed");
    let message = row.error_message.expect("message");
    assert!(
        message.starts_with("Could not connect to 127.0.0.1: "),
        "{message}"
    );
    // Both were retryable: with attempts left they go back to the queue.
    let again = app
        .task()
        .kind("http_request", http_task("GET", &refused_url().await))
        .max_attempts(2)
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(again)
    );
    assert_eq!(task_row(&app.pool, again).await.status, "pending");
}

#[tokio::test]
async fn http_request_refuses_private_addresses_by_default() {
    let app = TestApp::new().await;
    let deps = app.deps().with_private_addresses(false);
    let target = start_http_target().await;
    let port = target.rsplit(':').next().expect("port").to_owned();
    let literal = app
        .task()
        .kind("http_request", http_task("GET", &format!("{target}/ok")))
        .insert()
        .await;
    // The machine's own name usually resolves to a loopback address (/etc/hosts): that
    // exercises the resolver's check, which also stops DNS rebinding.
    let host = worker::config::host_name().to_ascii_lowercase();
    let resolves_local = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .map(|addrs| {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| !worker::http_guard::is_public(a.ip()))
        })
        .unwrap_or(false);
    let named = app
        .task()
        .kind(
            "http_request",
            http_task("GET", &format!("http://{host}:{port}/ok")),
        )
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, literal).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.error_message.as_deref(),
        Some("The request was not sent: 127.0.0.1 is a private or local address, which tasks may not call")
    );
    if resolves_local {
        let row = task_row(&app.pool, named).await;
        assert_eq!(row.status, "failed");
        assert_eq!(row.attempts, 1, "not retried");
        assert_eq!(
            row.error_message,
            Some(format!(
                "The request was not sent: {host} resolves to a private or local address, which tasks may not call"
            ))
        );
    } else {
        eprintln!("{host} does not resolve to a local address here: resolver check not exercised");
    }
}
