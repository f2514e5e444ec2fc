//! Shared by the contract tests: a localbase app on a fresh database, driven either in
//! process (`oneshot`, no socket) or over a real socket for the official clients.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response};
use localbase::{AppState, Config};
use std::sync::Arc;
use tower::ServiceExt;

pub const ANON_KEY: &str = localbase::config::DEFAULT_ANON_KEY;
pub const SERVICE_KEY: &str = localbase::config::DEFAULT_SERVICE_ROLE_KEY;
pub const ALICE_ID: &str = "22222222-2222-4222-8222-222222222222";
pub const BOB_ID: &str = "33333333-3333-4333-8333-333333333333";
pub const ADMIN_ID: &str = "11111111-1111-4111-8111-111111111111";

pub struct TestApp {
    pub state: AppState,
    pub db: testkit::TestDb,
    /// Keeps the data dir (storage files, mailbox) alive for the test.
    pub data_dir: tempdir::TempDirGuard,
}

pub mod tempdir {
    /// A directory removed when the guard drops.
    pub struct TempDirGuard(pub std::path::PathBuf);
    impl TempDirGuard {
        pub fn new() -> Self {
            let dir = std::env::temp_dir()
                .join(format!("localbase-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).expect("temp dir can be created");
            TempDirGuard(dir)
        }
    }
    impl Drop for TempDirGuard {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestApp {
    /// A localbase on a fresh copy of the seeded database (accounts, events, tasks).
    pub async fn seeded() -> TestApp {
        Self::with_template(testkit::Template::Seeded).await
    }

    pub async fn with_template(template: testkit::Template) -> TestApp {
        let db = testkit::fresh_database(template)
            .await
            .expect("a fresh test database");
        let data_dir = tempdir::TempDirGuard::new();
        let config = Config::local(data_dir.0.clone(), "http://127.0.0.1:54321");
        let state = localbase::state::AppState::new(db.pool.clone(), Arc::new(config))
            .await
            .expect("app state builds (schema cache loads)");
        TestApp {
            state,
            db,
            data_dir,
        }
    }

    /// Sends one request through the router, in process.
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        localbase::app(self.state.clone())
            .oneshot(request)
            .await
            .expect("the router never fails")
    }

    /// Serves the app on 127.0.0.1:<free port> for clients that need a URL; returns the base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        let app = localbase::app(self.state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        format!("http://{addr}")
    }
}

/// Reads a whole response body as JSON (panics with the body text when it is not JSON).
pub async fn json_body(response: Response<Body>) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body can be read");
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })
}

pub async fn text_body(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body can be read");
    String::from_utf8_lossy(&bytes).into_owned()
}
