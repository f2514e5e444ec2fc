//! The five handlers, end to end against the database, a Storage double and a local
//! HTTP target.

use std::io::Cursor;

use serde_json::{json, Value};
use uuid::Uuid;
use worker::Deps;

use crate::helpers::*;

async fn storage_app() -> (TestApp, StorageDouble, Deps) {
    let app = TestApp::new().await;
    let (storage, url) = StorageDouble::start().await;
    let deps = app.deps().with_storage(StorageDouble::client(&url));
    (app, storage, deps)
}

/// Events of the user: 1 and 2 March 2024 (3 March has none).
async fn insert_events(app: &TestApp) {
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

fn report_params(format: &str, metrics: &[&str]) -> Value {
    json!({
        "dateRange": { "start": "2024-03-01", "end": "2024-03-03" },
        "metrics": metrics,
        "format": format,
    })
}

/// Runs one analytics report task; returns (task id, the uploaded object, the report row).
async fn run_report(
    format: &str,
    metrics: &[&str],
) -> (
    TestApp,
    Uuid,
    StoredObject,
    (String, String, i64, Vec<String>, Value),
) {
    let (app, storage, deps) = storage_app().await;
    insert_events(&app).await;
    let id = app
        .task()
        .title("March report")
        .kind("analytics_report", report_params(format, metrics))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let path = format!("{}/{id}/report.{format}", app.user_id);
    let object = storage
        .get(&format!("reports/{path}"))
        .unwrap_or_else(|| panic!("uploaded; have {:?}", storage.keys()));
    assert!(object.upsert);
    let result = row.result.expect("result");
    assert_eq!(result["path"], path.as_str());
    assert_eq!(result["bucket"], "reports");
    assert_eq!(result["sizeBytes"], object.bytes.len());
    let report: (String, String, i64, Vec<String>, Value) = sqlx::query_as(
        "select title, storage_path, size_bytes, metrics, data from public.analytics_reports
          where task_id = $1 and user_id = $2 and format = $3
            and date_range_start = '2024-03-01' and date_range_end = '2024-03-03'",
    )
    .bind(id)
    .bind(app.user_id)
    .bind(format)
    .fetch_one(&app.pool)
    .await
    .expect("analytics_reports row");
    assert_eq!(report.0, "March report");
    assert_eq!(report.1, path);
    assert_eq!(report.2, object.bytes.len() as i64);
    assert_eq!(
        report.3,
        metrics.iter().map(|m| m.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        report.4["metrics"]["revenue"]["total"].as_f64(),
        Some(170.5)
    );
    assert!(result["reportId"].as_str().is_some());
    (app, id, object, report)
}

#[tokio::test]
async fn analytics_report_as_json_is_the_metrics_result() {
    let (_app, _id, object, report) = run_report("json", &["revenue", "orders"]).await;
    assert_eq!(object.content_type, "application/json");
    let file: Value = serde_json::from_slice(&object.bytes).expect("json file");
    assert_eq!(file, report.4);
    assert_eq!(file["metrics"]["orders"]["total"].as_f64(), Some(3.0));
    let points = file["metrics"]["revenue"]["dataPoints"]
        .as_array()
        .expect("points");
    assert_eq!(points.len(), 3);
}

#[tokio::test]
async fn analytics_report_as_csv_has_daily_rows_and_totals() {
    let (_app, _id, object, _) = run_report("csv", &["revenue", "orders", "conversion"]).await;
    assert_eq!(object.content_type, "text/csv");
    let text = String::from_utf8(object.bytes).expect("utf8");
    let sections: Vec<&str> = text.split("\n\n").collect();
    let [rows, totals, zone] = sections[..] else {
        panic!("three sections: {text}");
    };
    // The test user has no zone preference: UTC days.
    assert!(zone.starts_with("time_zone,generated_at\nUTC,"), "{zone}");
    let mut reader = csv::Reader::from_reader(rows.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["date", "metric", "value"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0], vec!["2024-03-01", "revenue", "150.5"]);
    assert_eq!(rows[1], vec!["2024-03-01", "orders", "2"]);
    assert_eq!(rows[2], vec!["2024-03-01", "conversion", "25"]);
    assert_eq!(rows[3], vec!["2024-03-02", "revenue", "20"]);
    assert_eq!(rows[8], vec!["2024-03-03", "conversion", "0"]);
    let mut reader = csv::Reader::from_reader(totals.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec!["metric", "total", "change_percent", "trend"]
    );
    let totals: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(totals[0], vec!["revenue", "170.5", "100", "up"]);
    assert_eq!(totals[1], vec!["orders", "3", "100", "up"]);
    assert_eq!(
        totals[2][0..2],
        ["conversion".to_owned(), "16.67".to_owned()]
    );
}

#[tokio::test]
async fn analytics_report_as_xlsx_has_a_summary_and_a_sheet_per_metric() {
    use calamine::{Data, Reader, Xlsx};
    let (_app, _id, object, _) = run_report("xlsx", &["revenue", "users"]).await;
    assert_eq!(
        object.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(object.bytes)).expect("xlsx");
    assert_eq!(
        workbook.sheet_names(),
        vec!["Summary", "Revenue", "New users"]
    );
    let summary = workbook.worksheet_range("Summary").expect("summary");
    assert_eq!(
        summary.get_value((0, 0)),
        Some(&Data::String("March report".into()))
    );
    assert_eq!(
        summary.get_value((4, 1)),
        Some(&Data::String("Total".into()))
    );
    assert_eq!(
        summary.get_value((5, 0)),
        Some(&Data::String("Revenue".into()))
    );
    assert_eq!(summary.get_value((5, 1)), Some(&Data::Float(170.5)));
    assert_eq!(
        summary.get_value((6, 0)),
        Some(&Data::String("New users".into()))
    );
    assert_eq!(summary.get_value((6, 1)), Some(&Data::Float(1.0)));
    let revenue = workbook.worksheet_range("Revenue").expect("revenue");
    assert_eq!(
        revenue.get_value((0, 1)),
        Some(&Data::String("Revenue".into()))
    );
    assert_eq!(revenue.get_value((1, 1)), Some(&Data::Float(150.5)));
    assert_eq!(revenue.get_value((3, 1)), Some(&Data::Float(0.0)));
    match revenue.get_value((1, 0)) {
        Some(Data::DateTime(date)) => {
            // Excel's serial day number of 2024-03-01.
            assert_eq!(date.as_f64(), 45352.0);
        }
        other => panic!("a date, got {other:?}"),
    }
}

#[tokio::test]
async fn analytics_report_as_pdf_is_a_readable_document() {
    let (_app, _id, object, _) = run_report("pdf", &["revenue", "orders", "visits"]).await;
    assert_eq!(object.content_type, "application/pdf");
    let document = lopdf::Document::load_mem(&object.bytes).expect("a valid PDF");
    let pages = document.get_pages();
    assert_eq!(pages.len(), 1);
    let text = document.extract_text(&[1]).expect("text");
    for expected in [
        "March report",
        "Date range: 2024-03-01 to 2024-03-03 (3 days)",
        "Totals",
        "Revenue",
        "170.50",
        "+100.0 %",
        "Daily values",
        "2024-03-02",
        "Days in UTC time, generated ",
        "page 1 of 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text:?}");
    }
}

#[tokio::test]
async fn a_report_counts_the_owners_local_days_and_names_the_zone() {
    let (app, storage, deps) = storage_app().await;
    sqlx::query(
        "update public.profiles set preferences = preferences || '{\"timezone\": \"Asia/Jakarta\"}'
          where id = $1",
    )
    .bind(app.user_id)
    .execute(&app.pool)
    .await
    .expect("zone preference");
    // 18:30 UTC on 1 March is 01:30 on 2 March in Jakarta (UTC+7); 16:59 UTC is still 1 March.
    sqlx::query(
        "insert into public.business_events (user_id, event_type, amount, occurred_at) values
           ($1, 'order', 10, '2024-03-01 18:30Z'), ($1, 'order', 5, '2024-03-01 16:59Z'),
           ($1, 'order', 7, '2024-03-03 17:00Z')",
    )
    .bind(app.user_id)
    .execute(&app.pool)
    .await
    .expect("events");
    let id = app
        .task()
        .title("Jakarta report")
        .kind("analytics_report", report_params("csv", &["revenue"]))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    let object = storage
        .get(&format!("reports/{}/{id}/report.csv", app.user_id))
        .expect("uploaded");
    let text = String::from_utf8(object.bytes).expect("utf8");
    let sections: Vec<&str> = text.split("\n\n").collect();
    let [rows, totals, zone] = sections[..] else {
        panic!("three sections: {text}");
    };
    // 17:00 UTC on 3 March is 4 March in Jakarta: outside the range.
    assert_eq!(
        rows.lines().collect::<Vec<_>>(),
        [
            "date,metric,value",
            "2024-03-01,revenue,5",
            "2024-03-02,revenue,10",
            "2024-03-03,revenue,0"
        ]
    );
    assert!(totals.contains("revenue,15,"), "{totals}");
    assert!(
        zone.starts_with("time_zone,generated_at\nAsia/Jakarta,"),
        "{zone}"
    );
}

#[tokio::test]
async fn a_report_without_storage_configured_fails_with_a_clear_message() {
    let app = TestApp::new().await;
    let deps = app.deps();
    let id = app
        .task()
        .kind("analytics_report", report_params("csv", &["revenue"]))
        .insert()
        .await;
    drain(&deps).await;
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "failed");
    assert_eq!(
        row.error_message.as_deref(),
        Some("This worker cannot reach Storage: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY in its configuration, then retry the task")
    );
}

#[tokio::test]
async fn a_storage_outage_is_retried() {
    let (app, storage, deps) = storage_app().await;
    storage
        .unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let id = app
        .task()
        .kind("analytics_report", report_params("json", &["revenue"]))
        .insert()
        .await;
    assert_eq!(
        worker::try_execute_one(&deps).await.expect("run"),
        worker::Outcome::Ran(id)
    );
    let row = task_row(&app.pool, id).await;
    assert_eq!(row.status, "pending");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("Storage is unavailable")),
        "{:?}",
        row.last_error
    );
    storage
        .unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    drain(&deps).await;
    assert_eq!(task_row(&app.pool, id).await.status, "completed");
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
    assert!(message.starts_with("The file has 25 invalid rows; nothing was imported. line 3: event_type must be one of order, signup, visit, conversion (got \"refund\")"), "{message}");
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
