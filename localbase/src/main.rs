//! `localbase up`: PostgreSQL (found, installed or given), the Supabase-like bootstrap,
//! migrations and seed, the HTTP stack on 127.0.0.1:54321 with the SPA, and the worker.
//! `localbase migrate`: only the database part.

use anyhow::Context;
use clap::{Parser, Subcommand};
use localbase::pg::{self, Cluster};
use localbase::{AppState, Config};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(
    name = "localbase",
    version,
    about = "The Supabase HTTP stack (Auth, PostgREST, Storage) over a local PostgreSQL"
)]
struct Cli {
    /// The repository (holding migrations/ and supabase/); found from the current directory
    /// or the executable when omitted.
    #[arg(long, global = true, value_name = "DIR")]
    repo_root: Option<PathBuf>,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand, Debug)]
enum Commands {
    /// Start everything: database, API on 127.0.0.1:PORT, SPA, worker.
    Up(UpArgs),
    /// Apply the bootstrap (plain PostgreSQL only), pending migrations and the seed, then exit.
    Migrate(MigrateArgs),
}

#[derive(clap::Args, Debug)]
struct UpArgs {
    /// Where the cluster, storage objects and the mailbox live.
    #[arg(long, default_value = ".localbase", value_name = "DIR")]
    data_dir: PathBuf,
    /// The API port (the Supabase CLI's).
    #[arg(long, default_value_t = 54321)]
    port: u16,
    /// Use this database instead of a cluster of our own (it must allow a superuser login
    /// for the bootstrap on a plain PostgreSQL).
    #[arg(long, env = "LOCALBASE_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// The built SPA (relative paths are taken from the repository root).
    #[arg(long, default_value = "dist", value_name = "DIR")]
    dist: PathBuf,
    /// Do not run the worker.
    #[arg(long)]
    no_worker: bool,
    /// The worker executable (default: `worker` next to this executable, or target/debug/worker).
    #[arg(long, value_name = "PATH")]
    worker_bin: Option<PathBuf>,
    /// Storage's global upload limit and the largest request body, in MiB (Supabase's
    /// `[storage] file_size_limit`, 50 MiB in `supabase/config.toml`; a bucket's own
    /// `file_size_limit` applies below it).
    #[arg(long, env = "LOCALBASE_FILE_SIZE_LIMIT_MB", default_value_t = 50, value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(1..=5120))]
    file_size_limit_mb: u32,
}

#[derive(clap::Args, Debug)]
struct MigrateArgs {
    /// The database to migrate; without it, the cluster under --data-dir.
    #[arg(long, env = "LOCALBASE_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    #[arg(long, default_value = ".localbase", value_name = "DIR")]
    data_dir: PathBuf,
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    init_tracing();
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Up(args) => up(cli.repo_root.as_deref(), args).await,
        Commands::Migrate(args) => migrate(cli.repo_root.as_deref(), args).await,
    };
    if let Err(e) = result {
        eprintln!("localbase: error: {e:#}");
        std::process::exit(1);
    }
}

/// Our own cluster under `<data_dir>/pg`, or the given URL.
fn database(data_dir: &Path, url: Option<String>) -> anyhow::Result<(String, Option<Cluster>)> {
    if let Some(url) = url {
        return Ok((url, None));
    }
    let bin = pg::ensure_binaries()?;
    let cluster = Cluster::start(&data_dir.join("pg"), bin)?;
    Ok((cluster.url(), Some(cluster)))
}

fn report(prepared: &pg::Prepared) {
    if prepared.bootstrapped {
        eprintln!("localbase: bootstrapped a Supabase-like database (roles, auth, storage)");
    }
    for m in &prepared.migrations_applied {
        eprintln!("localbase: applied migration {m}");
    }
    if prepared.seeded {
        eprintln!("localbase: applied supabase/seed.sql");
    }
}

async fn migrate(repo_root: Option<&Path>, args: MigrateArgs) -> anyhow::Result<()> {
    let root = pg::find_repo_root(repo_root)?;
    let (url, cluster) = database(&absolute(&root, &args.data_dir), args.database_url)?;
    let result = pg::prepare(&url, &root).await;
    if let Some(cluster) = &cluster {
        cluster.stop();
    }
    report(&result?);
    eprintln!("localbase: database is up to date ({})", pg::redact(&url));
    Ok(())
}

fn absolute(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else if let Ok(cwd) = std::env::current_dir() {
        // Relative to where the command runs, like any CLI path; `dist` falls back to the repo.
        let here = cwd.join(p);
        if here.exists() || !root.join(p).exists() {
            here
        } else {
            root.join(p)
        }
    } else {
        root.join(p)
    }
}

async fn up(repo_root: Option<&Path>, args: UpArgs) -> anyhow::Result<()> {
    let root = pg::find_repo_root(repo_root)?;
    let data_dir = absolute(&root, &args.data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let (url, cluster) = database(&data_dir, args.database_url.clone())?;
    let result = serve(&root, &data_dir, &url, &args).await;
    if let Some(cluster) = &cluster {
        cluster.stop();
    }
    result
}

async fn serve(root: &Path, data_dir: &Path, url: &str, args: &UpArgs) -> anyhow::Result<()> {
    report(&pg::prepare(url, root).await?);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to {}", pg::redact(url)))?;

    let site_url = format!("http://127.0.0.1:{}", args.port);
    let mut config = Config::local(data_dir.to_path_buf(), site_url.clone());
    config.max_body_bytes = usize::try_from(args.file_size_limit_mb)
        .unwrap_or(usize::MAX)
        .saturating_mul(1024 * 1024);
    let dist = absolute(root, &args.dist);
    if dist.join("index.html").is_file() {
        config.dist_dir = Some(dist);
    } else {
        eprintln!(
            "localbase: no SPA at {} (build it with `trunk build --release`); serving the API only",
            dist.display()
        );
    }
    let config = Arc::new(config);
    let state = AppState::new(pool.clone(), config.clone()).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} (is another localbase or supabase running?)",
                args.port
            )
        })?;

    let shutdown = CancellationToken::new();
    tokio::spawn(localbase::rest::listen_for_reload(state.clone()));
    let worker = if args.no_worker {
        None
    } else {
        match worker_binary(root, args.worker_bin.as_deref()) {
            Some(bin) => Some(tokio::spawn(supervise_worker(
                bin,
                url.to_owned(),
                config.clone(),
                shutdown.clone(),
            ))),
            None => {
                eprintln!("localbase: no worker binary found (build it with `cargo build -p worker`); tasks will stay pending");
                None
            }
        }
    };

    println!("localbase: ready on {site_url}");
    println!("  API:      {site_url}/rest/v1  {site_url}/auth/v1  {site_url}/storage/v1");
    println!("  Database: {}", pg::redact(url));
    println!("  anon key: {}", config.anon_key);
    println!("  service_role key: {}", config.service_role_key);
    println!("  Accounts: admin@taskdeck.dev / Admin-pass-123 (admin)");
    println!("            alice@taskdeck.dev / Alice-pass-123");
    println!("            bob@taskdeck.dev / Bob-pass-123");

    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("localbase: shutting down");
        signal.cancel();
    });
    let app = localbase::app(state);
    let stop = shutdown.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stop.cancelled().await })
    .await
    .context("the HTTP server failed")?;
    shutdown.cancel();
    if let Some(worker) = worker {
        worker.await.ok();
    }
    pool.close().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                tokio::signal::ctrl_c().await.ok();
            }
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.ok();
    }
}

fn worker_binary(root: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("worker"));
    }
    candidates.push(root.join("target/debug/worker"));
    candidates.push(root.join("target/release/worker"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Runs the worker, restarting it (with backoff) when it dies, until shutdown; then asks
/// it to stop with SIGTERM and waits for it.
async fn supervise_worker(
    bin: PathBuf,
    database_url: String,
    config: Arc<Config>,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = std::time::Instant::now();
        let child = tokio::process::Command::new(&bin)
            .env("DATABASE_URL", &database_url)
            .env("SUPABASE_URL", &config.site_url)
            .env("SUPABASE_SERVICE_ROLE_KEY", &config.service_role_key)
            .env("SUPABASE_ANON_KEY", &config.anon_key)
            .kill_on_drop(true)
            // Its own process group: Ctrl-C reaches localbase only, which then sends the
            // worker one SIGTERM (a second signal would make it exit at once).
            .process_group(0)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                eprintln!("localbase: cannot start the worker {}: {e}", bin.display());
                return;
            }
        };
        eprintln!(
            "localbase: worker started (pid {})",
            child.id().unwrap_or_default()
        );
        tokio::select! {
            status = child.wait() => {
                if shutdown.is_cancelled() {
                    return;
                }
                eprintln!("localbase: the worker exited ({}); restarting in {}s",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()), backoff.as_secs());
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = Duration::from_secs(1);
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            _ = shutdown.cancelled() => {
                if let Some(pid) = child.id() {
                    // SIGTERM lets the worker release its tasks; no unsafe code needed for it.
                    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().ok();
                }
                match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
                    Ok(_) => eprintln!("localbase: worker stopped"),
                    Err(_) => {
                        child.start_kill().ok();
                        child.wait().await.ok();
                        eprintln!("localbase: worker killed after 15s");
                    }
                }
                return;
            }
        }
    }
}
