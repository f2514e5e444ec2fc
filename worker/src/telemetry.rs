//! Log output and traces.
//!
//! - `tracing` to stderr, human-readable or JSON (`LOG_FORMAT`), filtered by `RUST_LOG`
//!   (default `info`, with sqlx's per-statement lines only when slow or failing).
//! - OpenTelemetry: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, spans (one per attempt, `execute`, with
//!   `task_id`, `task_type`, `attempt`) are exported over OTLP/HTTP protobuf, batched;
//!   `OTEL_SERVICE_NAME` defaults to `taskdeck-worker`. The other standard `OTEL_*`
//!   variables (headers, timeout) are read by the exporter itself.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::LogFormat;

/// The filter of log lines when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// What is exported as spans (whatever `RUST_LOG` says).
pub const TRACES_FILTER: &str = "warn,worker=info";

/// Flushes and stops the trace exporter when dropped (keep it alive in `main`).
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                eprintln!("worker: could not flush traces: {error}");
            }
        }
    }
}

fn otlp_configured() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()))
}

fn tracer_provider() -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|error| error.to_string())?;
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "taskdeck-worker".to_owned());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Installs the global subscriber (and the OTLP exporter when configured). Calling it
/// twice is harmless (the second call is ignored), which lets tests call it freely.
pub fn init(format: LogFormat) -> TelemetryGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let logs = match format {
        LogFormat::Pretty => fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    let (provider, otel_error) = if otlp_configured() {
        match tracer_provider() {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error)),
        }
    } else {
        (None, None)
    };
    // Spans are filtered apart from log lines: RUST_LOG=warn quiets the logs, not the traces.
    let traces = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("taskdeck-worker"))
            .with_filter(EnvFilter::new(TRACES_FILTER))
    });
    let installed = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(traces)
        .try_init()
        .is_ok();
    if let Some(error) = otel_error {
        tracing::warn!(error = %error, "OpenTelemetry export is off: the OTLP exporter could not be built");
    } else if installed && provider.is_some() {
        tracing::info!("exporting traces over OTLP/HTTP");
    }
    TelemetryGuard {
        provider: if installed { provider } else { None },
    }
}
