//! SSRF probes for `http_request` (issue #9, item 7): with private addresses not allowed (the
//! default), every URL that names the worker's own network — loopback in all its spellings,
//! link-local metadata, private ranges, the database's port, names resolving to loopback, and
//! redirects to any of those — fails the task permanently with a readable message, and no
//! request reaches the loopback listener standing in for an internal service.
//!
//! Only loopback is ever connected to: non-loopback private targets are URLs the guard must
//! refuse before any connection (they are never listened on here).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;
use worker::Deps;

use crate::helpers::*;

/// An "internal service" on 127.0.0.1 that counts every request it gets.
async fn internal_service() -> (Arc<AtomicUsize>, u16) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "internal secrets"
        }
    });
    let url = serve(app).await;
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    (hits, port)
}

/// A server that redirects `/to/{n}` to the n-th of `targets` (302 for GET, 307 for POST),
/// counting its own hits; `/ok` answers 200.
async fn redirector(targets: Vec<String>) -> (Arc<AtomicUsize>, String) {
    #[derive(Clone)]
    struct Redirects {
        targets: Arc<Vec<String>>,
        hits: Arc<AtomicUsize>,
    }
    let state = Redirects {
        targets: Arc::new(targets),
        hits: Arc::new(AtomicUsize::new(0)),
    };
    let hits = state.hits.clone();
    let app = Router::new()
        .route(
            "/to/{n}",
            get(
                |State(s): State<Redirects>, Path(n): Path<usize>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    let target = s.targets.get(n).cloned().unwrap_or_default();
                    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
                },
            )
            .post(
                |State(s): State<Redirects>, Path(n): Path<usize>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    let target = s.targets.get(n).cloned().unwrap_or_default();
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                },
            ),
        )
        .route("/ok", get(|| async { "fine" }))
        .with_state(state);
    (hits, serve(app).await)
}

fn get_task(url: &str) -> Value {
    json!({ "method": "GET", "url": url, "timeoutSecs": 5 })
}

/// A task the database's own URL check would refuse at insert (IPv6 literals and user info
/// are outside its pattern), written with triggers off to prove the worker refuses it too.
async fn insert_unchecked(app: &TestApp, parameters: Value) -> Uuid {
    let mut tx = app.pool.begin().await.expect("tx");
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("replica");
    let id = sqlx::query_scalar(
        "insert into public.tasks (user_id, title, type, parameters, max_attempts) \
         values ($1, 'SSRF probe', 'http_request', $2, 1) returning id",
    )
    .bind(app.user_id)
    .bind(parameters)
    .fetch_one(&mut *tx)
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    id
}

fn database_port(url: &str) -> u16 {
    let after_host = url.rsplit('@').next().unwrap_or(url);
    let authority = after_host
        .trim_start_matches("postgres://")
        .trim_start_matches("postgresql://");
    authority
        .split('/')
        .next()
        .and_then(|hp| hp.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432)
}

#[tokio::test]
async fn private_and_local_targets_fail_the_task_before_any_request() {
    let app = TestApp::new().await;
    let deps = app.deps().with_private_addresses(false);
    let (hits, port) = internal_service().await;
    let db_port = database_port(&app.db.url);

    let literal = |host: &str| format!("http://{host}:{port}/latest/meta-data");
    let mut checked: Vec<(String, String)> = vec![
        ("127.0.0.1".into(), literal("127.0.0.1")),
        ("127.0.0.2".into(), literal("127.0.0.2")),
        ("127.255.255.254".into(), literal("127.255.255.254")),
        ("127.0.0.1".into(), format!("http://127.0.0.1:{db_port}/")),
        ("0.0.0.0".into(), literal("0.0.0.0")),
        ("0.0.0.0".into(), literal("0")),
        ("127.0.0.1".into(), literal("2130706433")),
        ("127.0.0.1".into(), literal("0x7f000001")),
        ("127.0.0.1".into(), literal("0177.0.0.1")),
        ("127.0.0.1".into(), literal("127.1")),
        ("127.0.0.1".into(), literal("0x7f.0.0.1")),
        ("localhost".into(), literal("localhost")),
        ("localhost".into(), literal("LOCALHOST")),
        ("api.localhost".into(), literal("api.localhost")),
        (
            "169.254.169.254".into(),
            "http://169.254.169.254/latest/meta-data/".into(),
        ),
        ("169.254.0.1".into(), "http://169.254.0.1/".into()),
        ("10.0.0.1".into(), "http://10.0.0.1/".into()),
        ("10.255.255.255".into(), "http://10.255.255.255/".into()),
        ("172.16.0.1".into(), "http://172.16.0.1/".into()),
        ("172.31.255.254".into(), "http://172.31.255.254/".into()),
        ("192.168.1.1".into(), "https://192.168.1.1/admin".into()),
        ("100.64.0.1".into(), "http://100.64.0.1/".into()),
        ("224.0.0.1".into(), "http://224.0.0.1/".into()),
        ("255.255.255.255".into(), "http://255.255.255.255/".into()),
    ];
    let mut ids = Vec::new();
    for (host, url) in &checked {
        let id = app
            .task()
            .kind("http_request", get_task(url))
            .max_attempts(3)
            .insert()
            .await;
        ids.push((id, host.clone(), url.clone()));
    }
    // IPv6 literals and user info: refused by the database at insert…
    for url in [
        format!("http://[::1]:{port}/"),
        format!("http://user:pw@127.0.0.1:{port}/"),
    ] {
        let refused = sqlx::query(
            "insert into public.tasks (user_id, title, type, parameters) values ($1, 'x', 'http_request', $2)",
        )
        .bind(app.user_id)
        .bind(get_task(&url))
        .execute(&app.pool)
        .await;
        assert!(refused.is_err(), "the database took {url}");
    }
    // …and by the worker when such a row exists anyway.
    checked.clear();
    for (host, url) in [
        ("::1", format!("http://[::1]:{port}/")),
        ("::1", format!("http://[0:0:0:0:0:0:0:1]:{port}/")),
        ("::", format!("http://[::]:{port}/")),
        (
            "::ffff:127.0.0.1",
            format!("http://[::ffff:127.0.0.1]:{port}/"),
        ),
        (
            "::ffff:127.0.0.1",
            format!("http://[::ffff:7f00:1]:{port}/"),
        ),
        (
            "::ffff:169.254.169.254",
            "http://[::ffff:169.254.169.254]/".to_owned(),
        ),
        ("fe80::1", "http://[fe80::1]/".to_owned()),
        ("fd00::1", "http://[fd00::1]/".to_owned()),
        ("127.0.0.1", format!("http://user:pw@127.0.0.1:{port}/")),
        ("127.0.0.1", format!("http://example.com@127.0.0.1:{port}/")),
    ] {
        let id = insert_unchecked(&app, get_task(&url)).await;
        ids.push((id, host.to_owned(), url));
    }

    let ran = drain(&deps).await;
    assert_eq!(
        ran.len(),
        ids.len(),
        "each probe ran once: none was retried"
    );
    let mut table = Vec::new();
    for (id, host, url) in &ids {
        let row = task_row(&app.pool, *id).await;
        let message = row.error_message.clone().unwrap_or_default();
        table.push(format!(
            "| {url} | {} {} | {message} |",
            row.status, row.attempts
        ));
        assert_eq!(row.status, "failed", "{url}: {message}");
        assert_eq!(row.attempts, 1, "{url}: refused permanently, not retried");
        assert_eq!(
            message,
            format!("The request was not sent: {host} is a private or local address, which tasks may not call"),
            "{url}"
        );
    }
    eprintln!("{}", table.join("\n"));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the internal service"
    );
}

/// Names that resolve to loopback but are not spelled `localhost`: the resolver refuses them
/// (this also covers DNS rebinding, where a name resolves publicly first).
#[tokio::test]
async fn names_resolving_to_loopback_are_refused_at_connect_time() {
    let app = TestApp::new().await;
    let deps = app.deps().with_private_addresses(false);
    let (hits, port) = internal_service().await;
    let mut probes = Vec::new();
    // `localhost.` (the fully qualified spelling) and the machine's own name.
    for host in [
        "localhost.".to_owned(),
        worker::config::host_name().to_ascii_lowercase(),
    ] {
        let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map(Iterator::collect)
            .unwrap_or_default();
        if resolved.is_empty()
            || resolved
                .iter()
                .any(|a| worker::http_guard::is_public(a.ip()))
        {
            eprintln!("{host} does not resolve to loopback only here ({resolved:?}): not probed");
            continue;
        }
        let id = app
            .task()
            .kind("http_request", get_task(&format!("http://{host}:{port}/")))
            .insert()
            .await;
        probes.push((id, host));
    }
    assert!(
        !probes.is_empty(),
        "localhost. resolves on every Linux with /etc/hosts"
    );
    drain(&deps).await;
    for (id, host) in &probes {
        let row = task_row(&app.pool, *id).await;
        assert_eq!(row.status, "failed", "{host}");
        assert_eq!(row.attempts, 1, "{host}: not retried");
        let message = row.error_message.unwrap_or_default();
        assert!(
            message.starts_with("The request was not sent: ")
                && message.contains("private or local address"),
            "{host}: {message}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// A public server redirecting to the internal network: the redirect target is checked
/// again. The test stands a loopback server in for the public one: the guarded client of
/// production (`http_guard::http_client(false)`: public-only resolver, redirect policy) with
/// only the handler's check of the *first* URL lifted, so the first hop reaches the stand-in.
#[tokio::test]
async fn redirects_to_private_addresses_are_not_followed() {
    let app = TestApp::new().await;
    let (hits, port) = internal_service().await;
    let targets = vec![
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://192.168.0.1/".to_owned(),
        format!("http://0.0.0.0:{port}/"),
    ];
    let (redirector_hits, public) = redirector(targets.clone()).await;
    let mut deps: Deps = app.deps().with_private_addresses(false);
    deps.allow_private_addresses = true; // only the first URL's check: the stand-in is "public"
    assert!(
        worker::http_guard::refused_url(&reqwest::Url::parse(&targets[0]).expect("url")).is_some(),
        "the guard refuses the targets themselves"
    );

    // The control: the stand-in answers.
    let ok = app
        .task()
        .kind("http_request", get_task(&format!("{public}/ok")))
        .insert()
        .await;
    let mut ids = Vec::new();
    for (n, target) in targets.iter().enumerate() {
        let id = app
            .task()
            .kind("http_request", get_task(&format!("{public}/to/{n}")))
            .insert()
            .await;
        ids.push((id, target.clone()));
    }
    let post = app
        .task()
        .kind(
            "http_request",
            json!({ "method": "POST", "url": format!("{public}/to/0"), "body": {"a": 1}, "timeoutSecs": 5 }),
        )
        .insert()
        .await;
    ids.push((post, format!("{} (307, POST)", targets[0])));
    drain(&deps).await;

    let row = task_row(&app.pool, ok).await;
    assert_eq!(row.status, "completed", "{:?}", row.error_message);
    for (id, target) in &ids {
        let row = task_row(&app.pool, *id).await;
        let message = row.error_message.unwrap_or_default();
        eprintln!(
            "| redirect to {target} | {} {} | {message} |",
            row.status, row.attempts
        );
        assert_eq!(row.status, "failed", "{target}: {message}");
        assert_eq!(row.attempts, 1, "{target}: not retried");
        assert!(
            message.starts_with("The redirect was not followed: ")
                && message.contains("private or local address"),
            "{target}: {message}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a redirect reached the internal service"
    );
    assert_eq!(
        redirector_hits.load(Ordering::SeqCst),
        targets.len() + 1,
        "every redirecting request reached the stand-in once"
    );
}
