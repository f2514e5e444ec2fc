//! The gateway in front of the services: API key, CORS, body limit, request ids, the SPA
//! and `config.json`; and the schema cache reload.

use crate::helpers::{json_body, text_body, TestApp, ANON_KEY, SERVICE_KEY};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use std::sync::Arc;

fn get(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request builds")
}

#[tokio::test]
async fn api_requests_need_an_api_key() {
    let app = TestApp::seeded().await;
    for uri in ["/rest/v1/tasks", "/auth/v1/user", "/storage/v1/bucket"] {
        let response = app.send(get(uri)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            json_body(response).await["message"],
            "No API key found in request",
            "{uri}"
        );
    }
    // The apikey header alone is enough (it is the anon key's JWT).
    let response = app
        .send(
            Request::builder()
                .uri("/rest/v1/system_settings")
                .header("apikey", ANON_KEY)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json_body(response).await["code"],
        "42501",
        "reached PostgREST as anon"
    );
}

#[tokio::test]
async fn cors_lets_the_spa_call_from_another_origin() {
    let app = TestApp::seeded().await;
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/rest/v1/tasks")
        .header("origin", "http://localhost:8080")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "apikey,authorization,content-type,prefer,x-client-info,range",
        )
        .body(Body::empty())
        .expect("request");
    let response = app.send(preflight).await;
    assert!(
        response.status().is_success(),
        "preflight answered {}",
        response.status()
    );
    let allowed = response
        .headers()
        .get("access-control-allow-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in [
        "apikey",
        "authorization",
        "prefer",
        "x-client-info",
        "range",
        "x-upsert",
    ] {
        assert!(allowed.contains(h), "{h} not in {allowed}");
    }

    let response = app
        .send(
            Request::builder()
                .uri("/rest/v1/tasks?select=id")
                .header("origin", "http://localhost:8080")
                .header("apikey", SERVICE_KEY)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(exposed.contains("content-range"), "{exposed}");
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::seeded().await;
    let response = app.send(get("/rest/v1/tasks")).await;
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "x-request-id {id:?}");

    let response = app
        .send(
            Request::builder()
                .uri("/config.json")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("abc-123")
    );
}

#[tokio::test]
async fn oversized_bodies_get_413_with_json() {
    let mut app = TestApp::seeded().await;
    let mut config = (*app.state.config).clone();
    config.max_body_bytes = 1024;
    app.state.config = Arc::new(config);
    let big =
        json!({"title": "x".repeat(4096), "type": "data_export", "parameters": {}}).to_string();
    let response = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/rest/v1/tasks")
                .header("apikey", SERVICE_KEY)
                .header("content-type", "application/json")
                .body(Body::from(big.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json_body(response).await["message"],
        "Request size limit exceeded"
    );

    // A streamed body (no Content-Length) is cut off too.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(big))]);
    let response = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/rest/v1/tasks")
                .header("apikey", SERVICE_KEY)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json_body(response).await["message"],
        "Request size limit exceeded"
    );
}

#[tokio::test]
async fn config_json_and_the_spa() {
    let mut app = TestApp::seeded().await;
    let response = app.send(get("/config.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await,
        json!({"supabaseUrl": "http://127.0.0.1:54321", "supabaseAnonKey": ANON_KEY})
    );

    let dist = app.data_dir.0.join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(dist.join("index.html"), "<html>taskdeck</html>").expect("index");
    std::fs::write(dist.join("app.js"), "console.log(1)").expect("asset");
    let mut config = (*app.state.config).clone();
    config.dist_dir = Some(dist);
    app.state.config = Arc::new(config);

    assert_eq!(
        text_body(app.send(get("/")).await).await,
        "<html>taskdeck</html>"
    );
    assert_eq!(
        text_body(app.send(get("/app.js")).await).await,
        "console.log(1)"
    );
    // History-API routes fall back to index.html.
    let response = app
        .send(get("/tasks/a0000000-0000-4000-8000-000000000001"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text_body(response).await, "<html>taskdeck</html>");
}

#[tokio::test]
async fn the_schema_cache_reloads_on_notify() {
    let app = TestApp::seeded().await;
    let listener = tokio::spawn(localbase::rest::listen_for_reload(app.state.clone()));
    let request = || {
        Request::builder()
            .uri("/rest/v1/gadgets")
            .header("apikey", SERVICE_KEY)
            .body(Body::empty())
            .expect("request")
    };
    assert_eq!(app.send(request()).await.status(), StatusCode::NOT_FOUND);
    // Give the listener its connection before notifying (LISTEN is not retroactive).
    for _ in 0..50 {
        let listening: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and query ilike 'listen%pgrst%'",
        )
        .fetch_one(&app.db.pool)
        .await
        .expect("pg_stat_activity");
        if listening > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    sqlx::raw_sql("create table public.gadgets (id int primary key, name text); notify pgrst, 'reload schema';")
        .execute(&app.db.pool)
        .await
        .expect("create table");
    let mut status = StatusCode::NOT_FOUND;
    for _ in 0..50 {
        status = app.send(request()).await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK);
    listener.abort();
}

#[tokio::test]
async fn bootstrap_migrations_and_seed_apply_once_to_a_plain_database() {
    use sqlx::Connection;
    let base = testkit::cluster_url().expect("DATABASE_URL");
    let name = format!("lb_prepare_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.expect("connect");
    sqlx::raw_sql(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let url = {
        let options: sqlx::postgres::PgConnectOptions = base.parse().expect("url");
        use sqlx::ConnectOptions;
        options.database(&name).to_url_lossy().to_string()
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let first = localbase::pg::prepare(&url, &root)
        .await
        .expect("prepare runs");
    assert!(first.bootstrapped);
    assert_eq!(
        first.migrations_applied.len(),
        std::fs::read_dir(root.join("migrations"))
            .expect("migrations")
            .count()
    );
    assert!(first.seeded);
    let again = localbase::pg::prepare(&url, &root)
        .await
        .expect("prepare runs again");
    assert!(!again.bootstrapped && again.migrations_applied.is_empty() && !again.seeded);

    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    let users: i64 = sqlx::query_scalar("select count(*) from public.profiles")
        .fetch_one(&mut conn)
        .await
        .expect("profiles");
    assert_eq!(users, 3);
    conn.close().await.ok();
    sqlx::raw_sql(&format!("drop database {name} with (force)"))
        .execute(&mut admin)
        .await
        .expect("drop database");
}
