//! `worker`: the Taskdeck worker daemon. Configuration: see `worker --help`.

fn main() -> anyhow::Result<()> {
    let settings = match worker::Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("worker: {error}");
            std::process::exit(2);
        }
    };
    // Outside the runtime: the OTLP exporter's blocking HTTP client must not be created
    // or dropped inside it. Dropped last, it flushes the spans still buffered.
    let _telemetry = worker::telemetry::init(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let shutdown = worker::runner::shutdown_on_signals();
        worker::run_until_stopped(settings, shutdown).await
    })
}
