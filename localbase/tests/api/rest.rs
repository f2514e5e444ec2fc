//! `/rest/v1`: PostgREST's contract, over raw HTTP (oneshot) and through the official
//! `postgrest` client.

use crate::helpers::{
    json_body, text_body, TestApp, ADMIN_ID, ALICE_ID, ANON_KEY, BOB_ID, SERVICE_KEY,
};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use serde_json::{json, Value};

const ALICE_TASK: &str = "a0000000-0000-4000-8000-000000000001";
const ALICE_PENDING_TASK: &str = "a0000000-0000-4000-8000-000000000003";
const BOB_PENDING_TASK: &str = "b0000000-0000-4000-8000-000000000002";

/// An access token like Supabase Auth issues for a seeded user.
fn token(id: &str, email: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    localbase::jwt::sign(
        &json!({"sub": id, "role": "authenticated", "aud": "authenticated", "exp": exp, "email": email}),
        localbase::config::DEFAULT_JWT_SECRET,
    )
    .expect("signing works")
}

fn alice() -> String {
    token(ALICE_ID, "alice@taskdeck.dev")
}

fn bob() -> String {
    token(BOB_ID, "bob@taskdeck.dev")
}

fn admin() -> String {
    token(ADMIN_ID, "admin@taskdeck.dev")
}

/// A request as supabase-js sends it: `apikey` (anon) plus `Authorization: Bearer <jwt>`.
fn req(method: &str, uri: &str, jwt: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(format!("/rest/v1{uri}"))
        .header("apikey", ANON_KEY)
        .header("authorization", format!("Bearer {jwt}"))
}

fn get(uri: &str, jwt: &str) -> Request<Body> {
    req("GET", uri, jwt)
        .body(Body::empty())
        .expect("request builds")
}

fn with_json(builder: axum::http::request::Builder, body: &Value) -> Request<Body> {
    builder
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request builds")
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn rows(app: &TestApp, uri: &str, jwt: &str) -> Vec<Value> {
    let response = app.send(get(uri, jwt)).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {uri}");
    match json_body(response).await {
        Value::Array(rows) => rows,
        other => panic!("expected an array, got {other}"),
    }
}

async fn task_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from public.tasks")
        .fetch_one(&app.db.pool)
        .await
        .expect("count tasks")
}

// ---- reads --------------------------------------------------------------------------------

#[tokio::test]
async fn select_filter_order_limit_and_offset() {
    let app = TestApp::seeded().await;
    let all = rows(
        &app,
        "/tasks?select=id,title,status&order=created_at.desc",
        &alice(),
    )
    .await;
    assert_eq!(all.len(), 4, "alice sees her four tasks: {all:?}");
    assert_eq!(
        all[0].as_object().map(|o| o.len()),
        Some(3),
        "only the selected columns"
    );

    let pending = rows(&app, "/tasks?select=id&status=eq.pending", &alice()).await;
    assert_eq!(pending, vec![json!({"id": ALICE_PENDING_TASK})]);

    let some = rows(
        &app,
        "/tasks?select=id&status=in.(completed,failed)&order=id.asc",
        &alice(),
    )
    .await;
    assert_eq!(some.len(), 2);
    assert_eq!(some[0]["id"], ALICE_TASK);

    let like = rows(
        &app,
        "/tasks?select=title&title=ilike.*REPORT*&order=title",
        &alice(),
    )
    .await;
    assert_eq!(
        like,
        vec![
            json!({"title": "Q3 revenue report"}),
            json!({"title": "Weekly KPI report"})
        ]
    );

    let not_null = rows(&app, "/tasks?select=id&error_message=not.is.null", &alice()).await;
    assert_eq!(not_null.len(), 2);

    let aliased = rows(
        &app,
        &format!("/tasks?select=name:title,p:priority&id=eq.{ALICE_TASK}"),
        &alice(),
    )
    .await;
    assert_eq!(
        aliased,
        vec![json!({"name": "Q3 revenue report", "p": "high"})]
    );

    let page = rows(
        &app,
        "/tasks?select=id&order=id.asc&limit=2&offset=1",
        &alice(),
    )
    .await;
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["id"], "a0000000-0000-4000-8000-000000000002");

    let logic = rows(
        &app,
        "/tasks?select=id&or=(status.eq.cancelled,and(priority.eq.high,progress.gte.100))&order=id",
        &alice(),
    )
    .await;
    assert_eq!(
        logic,
        vec![
            json!({"id": ALICE_TASK}),
            json!({"id": "a0000000-0000-4000-8000-000000000004"})
        ]
    );

    let nulls = rows(
        &app,
        "/tasks?select=id,scheduled_at&order=scheduled_at.asc.nullsfirst,id",
        &alice(),
    )
    .await;
    assert!(nulls[0]["scheduled_at"].is_null());
    assert!(!nulls[3]["scheduled_at"].is_null());
}

#[tokio::test]
async fn ranges_counts_and_content_range() {
    let app = TestApp::seeded().await;
    let response = app.send(get("/tasks?select=id&order=id", &alice())).await;
    assert_eq!(header(&response, "content-range"), "0-3/*");

    let response = app
        .send(
            req("GET", "/tasks?select=id&order=id", &alice())
                .header("range-unit", "items")
                .header("range", "1-2")
                .header("prefer", "count=exact")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, "content-range"), "1-2/4");
    assert_eq!(json_body(response).await.as_array().map(Vec::len), Some(2));

    let response = app
        .send(
            req("GET", "/tasks?select=id", &alice())
                .header("prefer", "count=exact")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-range"), "0-3/4");

    let response = app
        .send(
            req("HEAD", "/tasks?limit=1", &alice())
                .header("prefer", "count=exact")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, "content-range"), "0-0/4");
    assert!(text_body(response).await.is_empty());

    let response = app
        .send(get("/tasks?select=id&status=eq.nothing", &alice()))
        .await;
    assert_eq!(header(&response, "content-range"), "*/*");
    assert_eq!(json_body(response).await, json!([]));
}

/// `Prefer: count=planned` answers the planner's estimate, `count=estimated` counts exactly
/// up to max-rows (1,000, as `supabase/config.toml` sets it) and estimates beyond, and no
/// read answers more than max-rows rows, as PostgREST does.
#[tokio::test]
async fn planned_and_estimated_counts_and_max_rows() {
    let app = TestApp::seeded().await;
    sqlx::query(
        "insert into public.tasks (user_id, title, type, parameters)
         select $1::uuid, 'Counted ' || g, 'http_request',
                '{\"method\":\"GET\",\"url\":\"https://example.com/\"}'
           from generate_series(1, 2500) g",
    )
    .bind(ALICE_ID)
    .execute(&app.db.pool)
    .await
    .expect("inserting 2500 tasks");
    sqlx::query("analyze public.tasks")
        .execute(&app.db.pool)
        .await
        .expect("analyze");
    let exact: i64 =
        sqlx::query_scalar("select count(*) from public.tasks where user_id = $1::uuid")
            .bind(ALICE_ID)
            .fetch_one(&app.db.pool)
            .await
            .expect("counting");
    let total = |response: &Response<Body>| -> i64 {
        header(response, "content-range")
            .rsplit('/')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(-1)
    };
    let counted = |prefer: &'static str, path: &str| {
        app.send(
            req("GET", path, &alice())
                .header("prefer", prefer)
                .body(Body::empty())
                .expect("request"),
        )
    };

    // Alice's own tasks, filtered by owner as the SPA asks (the policies alone would leave
    // the planner guessing how many rows `user_id = auth.uid() or is_admin()` keeps).
    let mine = format!("/tasks?select=id&user_id=eq.{ALICE_ID}&limit=20");
    let response = counted("count=exact", &mine).await;
    assert_eq!(total(&response), exact);
    assert_eq!(header(&response, "preference-applied"), "count=exact");

    // count=planned: the planner's estimate, whatever it is (under RLS it guesses how many
    // rows the policies keep, so it is only near the truth).
    let response = counted("count=planned", &mine).await;
    assert_eq!(header(&response, "preference-applied"), "count=planned");
    let planned = total(&response);
    assert!(planned > 0, "a planned count, got {planned}");
    // count=estimated past max-rows: the larger of the 1,001 rows counted and the estimate.
    let response = counted("count=estimated", &mine).await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, "preference-applied"), "count=estimated");
    assert_eq!(total(&response), planned.max(1001));
    // Under max-rows: exact.
    let failed: i64 = sqlx::query_scalar(
        "select count(*) from public.tasks where user_id = $1::uuid and status = 'failed'",
    )
    .bind(ALICE_ID)
    .fetch_one(&app.db.pool)
    .await
    .expect("counting failed");
    let response = counted("count=estimated", "/tasks?select=id&status=eq.failed").await;
    assert_eq!(total(&response), failed);

    // max-rows caps a read with no limit, or a larger one.
    for path in ["/tasks?select=id", "/tasks?select=id&limit=5000"] {
        let response = counted("count=exact", path).await;
        assert_eq!(
            header(&response, "content-range"),
            format!("0-999/{exact}"),
            "{path}"
        );
        assert_eq!(
            json_body(response).await.as_array().map(Vec::len),
            Some(1000),
            "{path}"
        );
    }
}

#[tokio::test]
async fn embedding_follows_foreign_keys_both_ways() {
    let app = TestApp::seeded().await;
    let tasks = rows(
        &app,
        "/tasks?select=id,title,task_executions(attempt,status)&id=eq.a0000000-0000-4000-8000-000000000002&task_executions.order=attempt.desc",
        &alice(),
    )
    .await;
    let executions = tasks[0]["task_executions"]
        .as_array()
        .expect("an array of executions");
    assert_eq!(executions.len(), 3);
    assert_eq!(executions[0], json!({"attempt": 3, "status": "failed"}));

    let logs = rows(
        &app,
        "/execution_logs?select=*,task_executions(status)&order=id&limit=1",
        &alice(),
    )
    .await;
    assert_eq!(
        logs[0]["task_executions"],
        json!({"status": "completed"}),
        "many-to-one embeds an object"
    );
    assert!(logs[0].get("message").is_some());

    let star = rows(
        &app,
        &format!("/tasks?select=*,task_executions(*)&id=eq.{ALICE_TASK}"),
        &alice(),
    )
    .await;
    assert_eq!(star[0]["task_executions"][0]["worker_id"], "seed-worker");

    // !inner keeps only parents with a matching embedded row.
    let inner = rows(
        &app,
        "/tasks?select=id,task_executions!inner(status)&task_executions.status=eq.completed",
        &alice(),
    )
    .await;
    assert_eq!(inner.len(), 1);
    assert_eq!(inner[0]["id"], ALICE_TASK);

    // Null filtering on an embedded resource: tasks that never ran, and those that did.
    let never_ran = rows(
        &app,
        "/tasks?select=id,task_executions(id)&task_executions=is.null&order=id",
        &alice(),
    )
    .await;
    assert_eq!(
        never_ran
            .iter()
            .map(|t| t["id"].clone())
            .collect::<Vec<_>>(),
        vec![
            json!(ALICE_PENDING_TASK),
            json!("a0000000-0000-4000-8000-000000000004")
        ]
    );
    let ran = rows(
        &app,
        "/tasks?select=id,task_executions()&task_executions=not.is.null",
        &alice(),
    )
    .await;
    assert_eq!(ran.len(), 2);
}

#[tokio::test]
async fn a_single_object_or_406() {
    let app = TestApp::seeded().await;
    let object = |uri: &str| {
        req("GET", uri, &alice())
            .header("accept", "application/vnd.pgrst.object+json")
            .body(Body::empty())
            .expect("request")
    };
    let response = app
        .send(object(&format!("/tasks?select=title&id=eq.{ALICE_TASK}")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await,
        json!({"title": "Q3 revenue report"})
    );

    let response = app.send(object("/tasks?select=title")).await;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    let body = json_body(response).await;
    assert_eq!(body["code"], "PGRST116");
    assert_eq!(body["details"], "The result contains 4 rows");

    let response = app
        .send(object(&format!("/tasks?id=eq.{BOB_PENDING_TASK}")))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
}

// ---- writes -------------------------------------------------------------------------------

fn new_task(title: &str) -> Value {
    json!({"title": title, "type": "data_export", "parameters": {"dataset": "tasks", "format": "csv"}})
}

#[tokio::test]
async fn insert_single_and_bulk() {
    let app = TestApp::seeded().await;
    let response = app
        .send(with_json(
            req("POST", "/tasks?select=id,title,status,user_id", &alice())
                .header("prefer", "return=representation"),
            &new_task("  Export my tasks "),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert_eq!(
        body[0]["title"], "Export my tasks",
        "the trigger trimmed it"
    );
    assert_eq!(body[0]["status"], "pending");
    assert_eq!(
        body[0]["user_id"], ALICE_ID,
        "user_id defaults to auth.uid()"
    );

    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()).header("prefer", "return=representation"),
            &json!([new_task("one"), new_task("two")]),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(response).await.as_array().map(Vec::len), Some(2));

    // return=minimal (the default): 201 and no body.
    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()),
            &new_task("three"),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(text_body(response).await.is_empty());

    let mine = rows(&app, "/tasks?select=id", &alice()).await;
    assert_eq!(mine.len(), 8);

    // A single object back.
    let response = app
        .send(with_json(
            req("POST", "/tasks?select=title", &alice())
                .header("prefer", "return=representation")
                .header("accept", "application/vnd.pgrst.object+json"),
            &new_task("four"),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(response).await, json!({"title": "four"}));
}

#[tokio::test]
async fn patch_and_delete_with_filters() {
    let app = TestApp::seeded().await;
    let response = app
        .send(with_json(
            req(
                "PATCH",
                &format!("/tasks?id=eq.{ALICE_PENDING_TASK}&select=id,title"),
                &alice(),
            )
            .header("prefer", "return=representation"),
            &json!({"title": "Weekly KPIs"}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await,
        json!([{"id": ALICE_PENDING_TASK, "title": "Weekly KPIs"}])
    );

    // RLS: bob's task is not alice's to edit: nothing matches.
    let response = app
        .send(with_json(
            req(
                "PATCH",
                &format!("/tasks?id=eq.{BOB_PENDING_TASK}"),
                &alice(),
            ),
            &json!({"title": "mine"}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let title: String = sqlx::query_scalar("select title from public.tasks where id = $1::uuid")
        .bind(BOB_PENDING_TASK)
        .fetch_one(&app.db.pool)
        .await
        .expect("bob's task");
    assert_eq!(title, "Import March events");

    // Column grants: status is the worker's.
    let response = app
        .send(with_json(
            req(
                "PATCH",
                &format!("/tasks?id=eq.{ALICE_PENDING_TASK}"),
                &alice(),
            ),
            &json!({"status": "completed"}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(response).await["code"], "42501");

    let response = app
        .send(
            req(
                "DELETE",
                "/tasks?id=eq.a0000000-0000-4000-8000-000000000004",
                &alice(),
            )
            .header("prefer", "return=representation")
            .body(Body::empty())
            .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await.as_array().map(Vec::len), Some(1));
    let response = app
        .send(
            req(
                "DELETE",
                "/tasks?id=eq.a0000000-0000-4000-8000-000000000002",
                &alice(),
            )
            .body(Body::empty())
            .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(rows(&app, "/tasks?select=id", &alice()).await.len(), 2);

    // Supabase's safeupdate: no filter, no delete.
    let response = app
        .send(
            req("DELETE", "/tasks", &alice())
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(task_count(&app).await, 5);
}

// ---- RPC ----------------------------------------------------------------------------------

#[tokio::test]
async fn rpc_post_and_get() {
    let app = TestApp::seeded().await;
    let response = app
        .send(with_json(
            req("POST", "/rpc/is_admin", &admin()),
            &json!({}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await, json!(true));
    let response = app.send(get("/rpc/is_admin", &alice())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await, json!(false));

    let today = chrono::Utc::now().date_naive();
    let start = (today - chrono::Duration::days(6)).to_string();
    let response = app
        .send(with_json(
            req("POST", "/rpc/analytics_metrics", &alice()),
            &json!({"start_date": start, "end_date": today.to_string(), "metrics": ["revenue", "orders"]}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(
        body["metrics"]["revenue"]["dataPoints"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    assert!(body["metrics"].get("users").is_none());

    // GET works for the STABLE function, with array arguments in PostgreSQL's syntax.
    let response = app
        .send(get(
            &format!(
                "/rpc/analytics_metrics?start_date={start}&end_date={today}&metrics=%7Bvisits%7D"
            ),
            &alice(),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(json_body(response).await["metrics"]["visits"]["total"]
        .as_f64()
        .is_some_and(|t| t > 0.0));

    // cancel_task returns the row as an object.
    let response = app
        .send(with_json(
            req("POST", "/rpc/cancel_task", &alice()),
            &json!({"task_id": ALICE_PENDING_TASK}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["id"], ALICE_PENDING_TASK);

    // A set-returning function: an array, with filters and order on its columns.
    let response = app
        .send(with_json(
            req(
                "POST",
                "/rpc/admin_list_users?select=email&order=email",
                &admin(),
            ),
            &json!({}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await,
        json!([{"email": "admin@taskdeck.dev"}, {"email": "alice@taskdeck.dev"}, {"email": "bob@taskdeck.dev"}])
    );
    let response = app
        .send(with_json(
            req(
                "POST",
                "/rpc/admin_list_users?select=email&email=like.*taskdeck*&limit=1",
                &admin(),
            )
            .header("prefer", "count=exact"),
            &json!({}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, "content-range"), "0-0/3");
}

#[tokio::test]
async fn rpc_get_on_a_volatile_function_is_405() {
    let app = TestApp::seeded().await;
    let response = app
        .send(get(
            &format!("/rpc/cancel_task?task_id={ALICE_PENDING_TASK}"),
            &alice(),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_body(response).await["code"], "25006");
    let status: String = sqlx::query_scalar("select status from public.tasks where id = $1::uuid")
        .bind(ALICE_PENDING_TASK)
        .fetch_one(&app.db.pool)
        .await
        .expect("task");
    assert_eq!(status, "pending");
}

// ---- RLS through HTTP -----------------------------------------------------------------------

#[tokio::test]
async fn rls_decides_what_each_caller_sees() {
    let app = TestApp::seeded().await;
    assert_eq!(
        rows(&app, &format!("/tasks?id=eq.{BOB_PENDING_TASK}"), &alice()).await,
        Vec::<Value>::new()
    );
    assert_eq!(rows(&app, "/tasks?select=id", &bob()).await.len(), 2);
    assert_eq!(rows(&app, "/tasks?select=id", &admin()).await.len(), 7);
    assert_eq!(rows(&app, "/tasks?select=id", SERVICE_KEY).await.len(), 7);

    // anon has no grants on tasks: 401 (no JWT of a signed-in user).
    let response = app.send(get("/tasks", ANON_KEY)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = json_body(response).await;
    assert_eq!(body["code"], "42501");
    assert_eq!(body["message"], "permission denied for table tasks");
}

// ---- errors -------------------------------------------------------------------------------

#[tokio::test]
async fn postgres_errors_keep_postgrest_bodies() {
    let app = TestApp::seeded().await;
    // 23514 from the parameter validation trigger.
    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()),
            &json!({"title": "bad", "type": "data_export", "parameters": {"dataset": "nope", "format": "csv"}}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_body(response).await;
    assert_eq!(body["code"], "23514");
    assert_eq!(
        body["message"],
        "Invalid parameters for data export task: dataset must be one of tasks, events"
    );
    assert_eq!(body["hint"], "Correct the task parameters and try again.");
    assert!(body.get("details").is_some());

    // 23505: a duplicate key (the service role bypasses RLS, so PostgreSQL shows the key).
    let response = app
        .send(with_json(
            req("POST", "/system_settings", SERVICE_KEY),
            &json!({"key": "log_retention_days", "value": 7}),
        ))
        .await;
    let status = response.status();
    let body = json_body(response).await;
    assert_eq!(body["code"], "23505", "{body}");
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["details"]
            .as_str()
            .is_some_and(|d| d.contains("log_retention_days")),
        "{body}"
    );

    // 42501 with a user's JWT: 403 (cleanup tasks are for admins).
    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()),
            &json!({"title": "clean", "type": "cleanup", "parameters": {}}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_body(response).await["message"],
        "Only administrators can create cleanup tasks"
    );

    // PT404 from cancel_task on someone else's task.
    let response = app
        .send(with_json(
            req("POST", "/rpc/cancel_task", &alice()),
            &json!({"task_id": BOB_PENDING_TASK}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json_body(response).await;
    assert_eq!(body["code"], "PT404");
    assert_eq!(body["message"], "Task not found");
    assert_eq!(
        body["hint"],
        "It may have been deleted, or it is not yours."
    );

    // P0001 → 400.
    let response = app
        .send(with_json(
            req("POST", "/rpc/cancel_task", &alice()),
            &json!({"task_id": ALICE_TASK}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["code"], "P0001");

    // 22P02: a value that is not a uuid.
    let response = app.send(get("/tasks?id=eq.not-a-uuid", &alice())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["code"], "22P02");
}

#[tokio::test]
async fn unknown_names_are_schema_cache_errors() {
    let app = TestApp::seeded().await;
    let response = app.send(get("/nope", &alice())).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        json_body(response).await,
        json!({"code": "PGRST205", "details": null, "hint": null, "message": "Could not find the table 'public.nope' in the schema cache"})
    );

    let response = app.send(get("/tasks?select=x", &alice())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body(response).await,
        json!({"code": "42703", "details": null, "hint": null, "message": "column tasks.x does not exist"})
    );

    let response = app
        .send(with_json(
            req("POST", "/rpc/nope", &alice()),
            &json!({"a": 1}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json_body(response).await;
    assert_eq!(body["code"], "PGRST202");
    assert_eq!(
        body["message"],
        "Could not find the function public.nope(a) in the schema cache"
    );

    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()),
            &json!({"nope": 1}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["code"], "PGRST204");
}

// ---- security -----------------------------------------------------------------------------

#[tokio::test]
async fn bad_tokens_are_refused_with_postgrest_codes() {
    let app = TestApp::seeded().await;
    // {"alg":"none"} claiming service_role.
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.";
    let forged = localbase::jwt::sign(
        &json!({"role": "service_role", "exp": chrono::Utc::now().timestamp() + 60}),
        "not-the-secret-not-the-secret-not-the-secret",
    )
    .expect("sign");
    let expired = localbase::jwt::sign(
        &json!({"sub": ALICE_ID, "role": "authenticated", "exp": chrono::Utc::now().timestamp() - 60}),
        localbase::config::DEFAULT_JWT_SECRET,
    )
    .expect("sign");
    for (jwt, code) in [
        (none, "PGRST301"),
        (forged.as_str(), "PGRST301"),
        ("abc", "PGRST301"),
        (expired.as_str(), "PGRST303"),
    ] {
        let response = app.send(get("/tasks", jwt)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{jwt}");
        let body = json_body(response).await;
        assert_eq!(body["code"], code, "{jwt}: {body}");
    }
    let response = app.send(get("/tasks", &expired)).await;
    assert_eq!(json_body(response).await["message"], "JWT expired");

    // A signed token naming a role outside the API roles.
    let postgres = localbase::jwt::sign(
        &json!({"role": "postgres"}),
        localbase::config::DEFAULT_JWT_SECRET,
    )
    .expect("sign");
    let response = app.send(get("/tasks", &postgres)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sql_in_any_position_is_refused_or_taken_as_a_value() {
    let app = TestApp::seeded().await;
    let before = task_count(&app).await;
    let attempts = [
        "/tasks?select=id;drop table tasks",
        "/tasks?select=id,\"x\"\"; drop table tasks; --\"",
        "/tasks?order=id;delete from tasks",
        "/tasks?order=id.desc;drop",
        "/tasks?id;drop table tasks=eq.1",
        "/tasks?%22id%22%3Bdrop%20table%20tasks=eq.1",
        "/tasks?title=eq.%27;%20drop%20table%20tasks;%20--",
        "/tasks?title=in.(%27a%27);drop table tasks;--)",
        "/tasks?title=like.%25%27%20or%201=1%20--",
        "/tasks?or=(title.eq.x);drop table tasks",
        "/tasks?or=(id.eq.1,title.eq.\"a\\\"); drop table tasks; --\")",
        "/tasks?limit=1;drop table tasks",
        "/tasks?select=*,task_executions;drop(*)",
        "/tasks%3Bdrop%20table%20tasks",
        "/rpc/is_admin%3Bdrop%20table%20tasks",
    ];
    for uri in attempts {
        let uri: String = uri
            .chars()
            .map(|c| match c {
                ' ' => "%20".to_owned(),
                '"' => "%22".to_owned(),
                '\\' => "%5C".to_owned(),
                '\'' => "%27".to_owned(),
                c => c.to_string(),
            })
            .collect();
        let response = app.send(get(&uri, SERVICE_KEY)).await;
        let status = response.status();
        let body = text_body(response).await;
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{uri} answered {status}: {body}"
        );
        if status == StatusCode::OK {
            assert_eq!(body, "[]", "{uri} matched rows: {body}");
        }
    }
    // Values in writes are values.
    let evil = "'); drop table tasks; --";
    let response = app
        .send(with_json(
            req("POST", "/tasks?select=title", &alice()).header("prefer", "return=representation"),
            &json!({"title": evil, "type": "data_export", "parameters": {"dataset": "tasks", "format": "csv"}}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(response).await, json!([{"title": evil}]));
    // A body key that is SQL is a missing column.
    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()),
            &json!({"title\" text); drop table tasks; --": "x"}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(task_count(&app).await, before + 1);
    let tables: i64 =
        sqlx::query_scalar("select count(*) from pg_tables where schemaname = 'public'")
            .fetch_one(&app.db.pool)
            .await
            .expect("tables");
    assert!(tables >= 9);
}

// ---- the official client ------------------------------------------------------------------

#[tokio::test]
async fn the_postgrest_client_works_against_localbase() {
    let app = TestApp::seeded().await;
    let base = app.serve().await;
    let client =
        postgrest::Postgrest::new(format!("{base}/rest/v1")).insert_header("apikey", ANON_KEY);
    let jwt = alice();

    let response = client
        .from("tasks")
        .auth(&jwt)
        .select("id,title,status")
        .eq("status", "pending")
        .order("created_at.desc")
        .execute()
        .await
        .expect("select runs");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&response.text().await.expect("text")).expect("json");
    assert_eq!(
        body,
        json!([{"id": ALICE_PENDING_TASK, "title": "Weekly KPI report", "status": "pending"}])
    );

    let response = client
        .from("tasks")
        .auth(&jwt)
        .insert(new_task("from the client").to_string())
        .select("title,status")
        .execute()
        .await
        .expect("insert runs");
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = serde_json::from_str(&response.text().await.expect("text")).expect("json");
    assert_eq!(
        body,
        json!([{"title": "from the client", "status": "pending"}])
    );

    let response = client
        .from("tasks")
        .auth(&jwt)
        .select("id")
        .in_("status", ["pending", "failed"])
        .exact_count()
        .execute()
        .await
        .expect("count runs");
    // The client asks for `Range: 0-0` with the count.
    assert_eq!(response.status().as_u16(), 206);
    assert_eq!(
        response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok()),
        Some("0-0/3")
    );

    let response = client
        .rpc("is_admin", "{}")
        .auth(&jwt)
        .execute()
        .await
        .expect("rpc runs");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("text"), "false");

    let response = client
        .rpc(
            "cancel_task",
            json!({"task_id": BOB_PENDING_TASK}).to_string(),
        )
        .auth(&jwt)
        .execute()
        .await
        .expect("rpc runs");
    assert_eq!(response.status().as_u16(), 404);

    let response = client
        .from("tasks")
        .select("*")
        .execute()
        .await
        .expect("anon select runs");
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn json_paths_upserts_and_columns() {
    let app = TestApp::seeded().await;
    // JSON paths in select, filters and order.
    let exports = rows(
        &app,
        "/tasks?select=id,dataset:parameters-%3E%3Edataset&parameters-%3E%3Eformat=eq.csv&type=eq.data_export",
        &alice(),
    )
    .await;
    assert_eq!(
        exports,
        vec![json!({"id": "a0000000-0000-4000-8000-000000000004", "dataset": "events"})]
    );
    let themes = rows(
        &app,
        "/profiles?select=preferences-%3Etheme&order=preferences-%3E%3Etheme",
        &admin(),
    )
    .await;
    assert_eq!(
        themes,
        vec![
            json!({"theme": "dark"}),
            json!({"theme": "light"}),
            json!({"theme": null})
        ]
    );

    // Upsert on the primary key (admins write system_settings).
    let response = app
        .send(with_json(
            req("POST", "/system_settings?select=key,value", &admin())
                .header("prefer", "resolution=merge-duplicates,return=representation"),
            &json!([{"key": "log_retention_days", "value": 7}, {"key": "new_setting", "value": true}]),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert_eq!(
        body,
        json!([{"key": "log_retention_days", "value": 7}, {"key": "new_setting", "value": true}])
    );
    let response = app
        .send(with_json(
            req("POST", "/system_settings", &admin()).header(
                "prefer",
                "resolution=ignore-duplicates,return=representation",
            ),
            &json!({"key": "log_retention_days", "value": 99}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(json_body(response).await, json!([]));

    // columns= limits what is taken from the body.
    let response = app
        .send(with_json(
            req("POST", "/tasks?columns=title,type,parameters&select=title,priority", &alice())
                .header("prefer", "return=representation"),
            &json!({"title": "cols", "type": "data_export", "parameters": {"dataset": "tasks", "format": "csv"}, "priority": "urgent"}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        json_body(response).await,
        json!([{"title": "cols", "priority": "medium"}])
    );

    // Another schema than public: PGRST106.
    let response = app
        .send(
            req("GET", "/tasks", &alice())
                .header("accept-profile", "auth")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(json_body(response).await["code"], "PGRST106");

    // headers-only: a Location for the created row.
    let response = app
        .send(with_json(
            req("POST", "/tasks", &alice()).header("prefer", "return=headers-only"),
            &new_task("located"),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        header(&response, "location").starts_with("/tasks?id=eq."),
        "{:?}",
        response.headers()
    );
}

#[tokio::test]
async fn role_settings_apply_to_requests_like_postgrest() {
    let app = TestApp::seeded().await;
    // The bootstrap gives `authenticated` an 8s statement_timeout; a function of ours
    // reports what the request runs with.
    sqlx::raw_sql(
        "create function public.current_timeout() returns text language sql stable \
           as $$ select current_setting('statement_timeout') $$; \
         grant execute on function public.current_timeout() to authenticated;",
    )
    .execute(&app.db.pool)
    .await
    .expect("create function");
    app.state.schema.reload(&app.db.pool).await.expect("reload");
    let response = app.send(get("/rpc/current_timeout", &alice())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await, json!("8s"));
}

#[tokio::test]
async fn missing_keys_are_null_unless_missing_default() {
    let app = TestApp::seeded().await;
    let mut urgent = new_task("urgent one");
    urgent["priority"] = json!("urgent");
    let body = json!([new_task("plain one"), urgent]);
    // Like PostgREST: a key missing from one object of a bulk insert is NULL…
    let response = app
        .send(with_json(req("POST", "/tasks", &alice()), &body))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["code"], "23502");
    // …unless `Prefer: missing=default` asks for the column default.
    let response = app
        .send(with_json(
            req("POST", "/tasks?select=title,priority,user_id", &alice())
                .header("prefer", "missing=default, return=representation"),
            &body,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        json_body(response).await,
        json!([
            {"title": "plain one", "priority": "medium", "user_id": ALICE_ID},
            {"title": "urgent one", "priority": "urgent", "user_id": ALICE_ID}
        ])
    );
}

#[tokio::test]
async fn the_audit_trail_records_the_callers_address_like_behind_supabases_gateway() {
    let app = TestApp::seeded().await;
    let base = app.serve().await;
    let client =
        postgrest::Postgrest::new(format!("{base}/rest/v1")).insert_header("apikey", ANON_KEY);
    let response = client
        .from("tasks")
        .auth(alice())
        .eq("id", ALICE_PENDING_TASK)
        .update(json!({"title": "Weekly KPI report (renamed)"}).to_string())
        .execute()
        .await
        .expect("update runs");
    assert!(response.status().is_success(), "{}", response.status());
    // A proxy in front adds its own X-Forwarded-For: the gateway appends the peer to it.
    let response = postgrest::Postgrest::new(format!("{base}/rest/v1"))
        .insert_header("apikey", ANON_KEY)
        .insert_header("x-forwarded-for", "203.0.113.7")
        .from("tasks")
        .auth(alice())
        .eq("id", ALICE_PENDING_TASK)
        .update(json!({"title": "Weekly KPI report"}).to_string())
        .execute()
        .await
        .expect("update runs");
    assert!(response.status().is_success(), "{}", response.status());

    let addresses: Vec<Option<String>> = sqlx::query_scalar(
        "select ip_address from audit_logs where table_name = 'tasks' and record_id = $1 \
         and action = 'task.updated' order by created_at, id",
    )
    .bind(ALICE_PENDING_TASK)
    .fetch_all(&app.db.pool)
    .await
    .expect("audit rows");
    assert_eq!(
        addresses,
        vec![Some("127.0.0.1".to_owned()), Some("203.0.113.7".to_owned())]
    );
}
