//! localbase: the Supabase HTTP stack for machines without Docker.
//!
//! `/auth/v1` (GoTrue), `/rest/v1` (PostgREST) and `/storage/v1` (Storage) over a real
//! PostgreSQL, answering with the upstream services' wire formats, plus the built SPA.
//! Authorization is PostgreSQL's: every API request runs in a transaction under the JWT's
//! role with the `request.*` settings PostgREST sets, so RLS decides.

#![warn(missing_docs, unreachable_pub)]

pub mod auth;
pub mod config;
pub mod gateway;
pub mod jwt;
pub mod pg;
pub mod realtime;
pub mod request;
pub mod rest;
pub mod state;
pub mod storage;

pub use config::Config;
pub use state::AppState;

use axum::Router;

/// The whole HTTP surface. Kept apart from serving so tests drive it with `oneshot`.
/// The gateway (`gateway::wrap`) adds `/config.json`, the SPA, API-key check, CORS, body
/// limit, request ids and the access log around the three services.
pub fn app(state: AppState) -> Router {
    let services = Router::new()
        .nest("/auth/v1", auth::router())
        .nest("/rest/v1", rest::router())
        .nest("/storage/v1", storage::router())
        .nest("/realtime/v1", realtime::router(&state));
    gateway::wrap(services, &state).with_state(state)
}
