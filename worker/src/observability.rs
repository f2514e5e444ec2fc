//! Prometheus metrics and the `/health` + `/metrics` endpoint (`WORKER_METRICS_ADDR`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::db::Db;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The worker's counters, gauges and run-time histogram (names prefixed `taskdeck_worker_`).
pub struct Metrics {
    registry: Registry,
    /// Attempts started (claimed or rescued tasks).
    pub claimed: Counter,
    /// Tasks completed.
    pub completed: Counter,
    /// Tasks that failed for good.
    pub failed: Counter,
    /// Failed attempts put back in the queue for another try.
    pub retried: Counter,
    /// Tasks taken over from a worker whose lease expired.
    pub rescued: Counter,
    /// Tasks cancelled while this worker ran them.
    pub cancelled: Counter,
    /// Tasks given back to the queue on shutdown.
    pub released: Counter,
    /// Pending tasks that are due (refreshed by the heartbeat).
    pub queue_depth: Gauge,
    /// Tasks running on this worker.
    pub running: Gauge,
    /// Seconds from claim to completion or final failure.
    pub run_time: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("claimed", &self.claimed.get())
            .field("completed", &self.completed.get())
            .field("failed", &self.failed.get())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("taskdeck_worker");
        let claimed = Counter::default();
        let completed = Counter::default();
        let failed = Counter::default();
        let retried = Counter::default();
        let rescued = Counter::default();
        let cancelled = Counter::default();
        let released = Counter::default();
        let queue_depth = Gauge::default();
        let running = Gauge::default();
        let run_time = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        registry.register("tasks_claimed", "Attempts started", claimed.clone());
        registry.register("tasks_completed", "Tasks completed", completed.clone());
        registry.register("tasks_failed", "Tasks failed for good", failed.clone());
        registry.register(
            "tasks_retried",
            "Failed attempts requeued for another try",
            retried.clone(),
        );
        registry.register(
            "tasks_rescued",
            "Tasks taken over after their worker's lease expired",
            rescued.clone(),
        );
        registry.register(
            "tasks_cancelled",
            "Tasks cancelled while running",
            cancelled.clone(),
        );
        registry.register(
            "tasks_released",
            "Tasks given back to the queue on shutdown",
            released.clone(),
        );
        registry.register(
            "queue_depth",
            "Pending tasks that are due",
            queue_depth.clone(),
        );
        registry.register(
            "running_tasks",
            "Tasks running on this worker",
            running.clone(),
        );
        registry.register(
            "task_run_seconds",
            "Run time of finished tasks, claim to completion or final failure",
            run_time.clone(),
        );
        Self {
            registry,
            claimed,
            completed,
            failed,
            retried,
            rescued,
            cancelled,
            released,
            queue_depth,
            running,
            run_time,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// What the endpoint serves from.
#[derive(Clone, Debug)]
pub struct ObservabilityState {
    /// For `/health`.
    pub db: Db,
    /// For `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Shown in `/health`.
    pub worker_id: Arc<str>,
}

/// `/health` and `/metrics`.
pub fn router(state: ObservabilityState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn health(State(state): State<ObservabilityState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_file_scalar!("queries/ping.sql").fetch_one(&state.db),
    )
    .await;
    match ping {
        Ok(Ok(_)) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "worker": &*state.worker_id,
                "database": "ok",
                "running": state.metrics.running.get(),
                "version": env!("CARGO_PKG_VERSION"),
            })),
        ),
        Ok(Err(error)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "error", "worker": &*state.worker_id, "database": error.to_string() }),
            ),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "error", "worker": &*state.worker_id, "database": "no answer within 2 s" }),
            ),
        ),
    }
}

async fn metrics(State(state): State<ObservabilityState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

/// Binds `addr` and serves until `shutdown` is tripped. Returns the bound address
/// (useful with port 0) and the server's task.
pub async fn serve(
    addr: SocketAddr,
    state: ObservabilityState,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use anyhow::Context;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("WORKER_METRICS_ADDR: cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let result = axum::serve(listener, router(state))
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = result {
            tracing::error!(error = %error, "the metrics endpoint stopped");
        }
    });
    tracing::info!(%bound, "serving /health and /metrics");
    Ok((bound, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_in_prometheus_text() {
        let metrics = Metrics::new();
        metrics.completed.inc();
        metrics.queue_depth.set(7);
        metrics.run_time.observe(0.3);
        let text = metrics.encode();
        assert!(
            text.contains("taskdeck_worker_tasks_completed_total 1"),
            "{text}"
        );
        assert!(text.contains("taskdeck_worker_queue_depth 7"), "{text}");
        assert!(
            text.contains("taskdeck_worker_task_run_seconds_count 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
