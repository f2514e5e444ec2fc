//! The database: a PostgreSQL cluster of our own under the data dir (found or installed),
//! made to look like a Supabase database, with the project's migrations and seed applied.

use anyhow::{bail, Context};
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The PostgreSQL major version installed when none is found (Debian's package).
pub const PG_PACKAGE: &str = "postgresql-15";
/// The Supabase CLI's database port, used when free.
pub const DEFAULT_DB_PORT: u16 = 54322;

/// Where the server binaries are.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    pub bin_dir: PathBuf,
    /// The major version, from `pg_ctl --version`.
    pub version: u32,
}

impl PgBinaries {
    fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn major_version(bin_dir: &Path) -> Option<u32> {
    let out = Command::new(bin_dir.join("pg_ctl"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "pg_ctl (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)"
    let version = text.split_whitespace().nth(2)?;
    version.split('.').next()?.parse().ok()
}

/// Finds `initdb`/`pg_ctl`/`postgres`: Debian's `/usr/lib/postgresql/*/bin` (highest
/// version first), then `PATH`.
pub fn find_binaries() -> Option<PgBinaries> {
    let mut candidates: Vec<PgBinaries> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let bin_dir = entry.path().join("bin");
            if bin_dir.join("initdb").is_file() && bin_dir.join("pg_ctl").is_file() {
                if let Some(version) = major_version(&bin_dir) {
                    candidates.push(PgBinaries { bin_dir, version });
                }
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                if let Some(version) = major_version(&dir) {
                    candidates.push(PgBinaries {
                        bin_dir: dir,
                        version,
                    });
                }
            }
        }
    }
    candidates.sort_by_key(|b| std::cmp::Reverse(b.version));
    candidates.into_iter().next()
}

/// Finds the binaries, installing Debian's package when running as root with apt-get.
pub fn ensure_binaries() -> anyhow::Result<PgBinaries> {
    if let Some(found) = find_binaries() {
        return Ok(found);
    }
    let apt = Path::new("/usr/bin/apt-get").is_file();
    if !(is_root() && apt) {
        bail!(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them, e.g. \
             `sudo apt-get install {PG_PACKAGE}` on Debian/Ubuntu or `brew install postgresql@15` on macOS, \
             or pass --database-url to use an existing database."
        );
    }
    eprintln!("localbase: installing {PG_PACKAGE} with apt-get (once)…");
    let run = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    run(&["update", "-qq"])?;
    run(&[
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        PG_PACKAGE,
    ])?;
    find_binaries().context(
        "PostgreSQL was installed but its binaries were not found under /usr/lib/postgresql",
    )
}

/// A cluster in a directory of ours, started by us (or found running).
#[derive(Debug)]
pub struct Cluster {
    /// The data directory (possibly the [`fallback_dir`] of the one asked for).
    pub dir: PathBuf,
    /// The TCP port it listens on, on `127.0.0.1`.
    pub port: u16,
    bin: PgBinaries,
    /// Whether to stop it on exit.
    started: bool,
}

/// PostgreSQL refuses to run as root: as root, run its tools as the `postgres` system user.
fn pg_command(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run_checked(mut command: Command, what: &str) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Where a cluster asked for at `dir` lives when `postgres` cannot reach `dir`: under
/// [`FALLBACK_ROOT`], named after the path asked for, so the next run finds it again.
pub fn fallback_dir(dir: &Path) -> PathBuf {
    let name: String = dir
        .to_string_lossy()
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Path::new(FALLBACK_ROOT).join(name)
}

/// Where clusters go that `postgres` could not reach where they were asked for.
pub const FALLBACK_ROOT: &str = "/var/lib/taskdeck/clusters";

/// Whether the `postgres` user can reach (search) `dir`: every parent must let it through,
/// which a checkout under a private home such as `/root` (mode 0700) does not.
fn postgres_can_reach(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .status()
        .is_ok_and(|status| status.success())
}

impl Cluster {
    /// Initialises `dir` if needed and starts a server on `127.0.0.1` (port 54322 when
    /// free), or adopts the server already running there. As root the server runs as the
    /// `postgres` user; when that user cannot reach `dir`, the cluster lives at
    /// [`fallback_dir`] instead (it says so).
    pub fn start(dir: &Path, bin: PgBinaries) -> anyhow::Result<Cluster> {
        let root = is_root();
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        if root && !postgres_can_reach(dir.parent().unwrap_or(&dir)) {
            let fallback = fallback_dir(&dir);
            eprintln!(
                "localbase: the postgres user cannot reach {} (a parent directory is private), so the cluster lives in {}",
                dir.display(),
                fallback.display()
            );
            std::fs::remove_dir(&dir).ok();
            std::fs::create_dir_all(&fallback)
                .with_context(|| format!("cannot create {}", fallback.display()))?;
            dir = fallback;
        }
        if root {
            run_checked(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            )?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok();
        }
        if !dir.join("PG_VERSION").is_file() {
            eprintln!(
                "localbase: initialising a PostgreSQL {} cluster in {}",
                bin.version,
                dir.display()
            );
            let mut c = pg_command(&bin.tool("initdb"), root);
            c.arg("-D").arg(&dir).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]);
            run_checked(c, "initdb")?;
        }

        // Already running (e.g. a previous run that was killed)? Adopt it: the directory is
        // ours, so it is stopped on exit like one we started.
        if let Some(port) = running_port(&dir, &bin, root) {
            return Ok(Cluster {
                dir,
                port,
                bin,
                started: true,
            });
        }

        let port = if port_is_free(DEFAULT_DB_PORT) {
            DEFAULT_DB_PORT
        } else {
            free_port()?
        };
        // Unix socket paths are limited to ~107 bytes.
        let socket_dir = if dir.as_os_str().len() < 80 {
            dir.clone()
        } else {
            PathBuf::from("/tmp")
        };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_connections=200",
            socket_dir.display()
        );
        let mut c = pg_command(&bin.tool("pg_ctl"), root);
        c.arg("-D")
            .arg(&dir)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        // Its own process group: a Ctrl-C in the terminal must not reach the server
        // directly, so that localbase stops the worker first and PostgreSQL last.
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            c.process_group(0);
        }
        if let Err(e) = run_checked(c, "pg_ctl start") {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!("{e}\nserver.log:\n{}", tail.join("\n"));
        }
        Ok(Cluster {
            dir,
            port,
            bin,
            started: true,
        })
    }

    /// A superuser URL on the `postgres` database (as on Supabase).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server if we started it (fast shutdown: sessions are ended, data is safe).
    pub fn stop(&self) {
        if !self.started {
            return;
        }
        let mut c = pg_command(&self.bin.tool("pg_ctl"), is_root());
        c.arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "stop"]);
        match run_checked(c, "pg_ctl stop") {
            Ok(_) => eprintln!("localbase: PostgreSQL stopped"),
            Err(e) => eprintln!("localbase: {e}"),
        }
    }
}

/// The port of a server already running on `dir`, from `postmaster.pid`.
fn running_port(dir: &Path, bin: &PgBinaries, root: bool) -> Option<u16> {
    let pid_file = std::fs::read_to_string(dir.join("postmaster.pid")).ok()?;
    let mut c = pg_command(&bin.tool("pg_ctl"), root);
    c.arg("-D").arg(dir).arg("status");
    if !c.output().ok()?.status.success() {
        return None;
    }
    pid_file.lines().nth(3)?.trim().parse().ok()
}

/// Finds the repository root (the directory holding `migrations/` and `supabase/`): the
/// explicit one, else upwards from the current directory, else from the executable.
pub fn find_repo_root(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let is_root = |p: &Path| p.join("migrations").is_dir() && p.join("supabase").is_dir();
    if let Some(p) = explicit {
        if is_root(p) {
            return Ok(p.to_path_buf());
        }
        bail!(
            "{} has no migrations/ and supabase/ directories",
            p.display()
        );
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    for start in starts {
        for dir in start.ancestors() {
            if is_root(dir) {
                return Ok(dir.to_path_buf());
            }
        }
    }
    bail!(
        "cannot find the repository (a directory with migrations/ and supabase/): pass --repo-root"
    )
}

/// Drops psql meta-commands (`\set ON_ERROR_STOP on` …): the files are meant for psql too.
fn strip_psql_meta(sql: &str) -> String {
    sql.lines()
        .filter(|l| !l.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn exists(conn: &mut PgConnection, sql: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar::<_, bool>(sql).fetch_one(conn).await?)
}

/// What [`prepare`] did.
#[derive(Debug, Default)]
pub struct Prepared {
    /// `supabase/bootstrap.sql` was applied: the database was not a Supabase-like one yet.
    pub bootstrapped: bool,
    /// The migrations applied this time, by file stem (`<version>_<name>`), in order.
    pub migrations_applied: Vec<String>,
    /// `supabase/seed.sql` was applied this time.
    pub seeded: bool,
}

/// Makes the database a Supabase-like one (bootstrap, only where `auth.users` is missing),
/// applies each migration not yet recorded in `supabase_migrations.schema_migrations` (each
/// in its own transaction) and the seed once.
pub async fn prepare(database_url: &str, repo_root: &Path) -> anyhow::Result<Prepared> {
    let mut conn = PgConnection::connect(database_url)
        .await
        .with_context(|| format!("cannot connect to {}", redact(database_url)))?;
    let mut done = Prepared::default();

    if !exists(&mut conn, "select to_regclass('auth.users') is not null").await? {
        let path = repo_root.join("supabase/bootstrap.sql");
        let sql = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        sqlx::raw_sql(&strip_psql_meta(&sql))
            .execute(&mut conn)
            .await
            .with_context(|| format!("applying {}", path.display()))?;
        done.bootstrapped = true;
    }
    sqlx::raw_sql(
        "create schema if not exists supabase_migrations; \
         create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text); \
         create table if not exists supabase_migrations.seed_files (path text primary key, hash text not null, applied_at timestamptz not null default now());",
    )
    .execute(&mut conn)
    .await
    .context("creating supabase_migrations")?;

    let had_migrations = exists(
        &mut conn,
        "select exists (select 1 from supabase_migrations.schema_migrations)",
    )
    .await?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root.join("migrations"))
        .context("cannot read migrations/")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for path in files {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let (version, name) = stem.split_once('_').unwrap_or((stem, ""));
        let applied: bool = sqlx::query_scalar(
            "select exists (select 1 from supabase_migrations.schema_migrations where version = $1)",
        )
        .bind(version)
        .fetch_one(&mut conn)
        .await?;
        if applied {
            continue;
        }
        let sql = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(&strip_psql_meta(&sql))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("applying migration {}", path.display()))?;
        sqlx::query(
            "insert into supabase_migrations.schema_migrations (version, name) values ($1, $2)",
        )
        .bind(version)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done.migrations_applied.push(stem.to_owned());
    }

    let seed_path = repo_root.join("supabase/seed.sql");
    let seeded = exists(
        &mut conn,
        "select exists (select 1 from supabase_migrations.seed_files)",
    )
    .await?;
    if !seeded && seed_path.is_file() {
        if had_migrations && !done.bootstrapped {
            // Migrated by someone else (the Supabase CLI, the test command): it seeds too.
            tracing::info!("database was migrated elsewhere; not applying supabase/seed.sql");
        } else {
            let sql = std::fs::read_to_string(&seed_path)?;
            let mut tx = conn.begin().await?;
            sqlx::raw_sql(&strip_psql_meta(&sql))
                .execute(&mut *tx)
                .await
                .context("applying supabase/seed.sql")?;
            sqlx::query("insert into supabase_migrations.seed_files (path, hash) values ('supabase/seed.sql', md5($1))")
                .bind(&sql)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            done.seeded = true;
        }
    }
    // Tell a running PostgREST (or localbase) that the schema changed.
    sqlx::query("notify pgrst, 'reload schema'")
        .execute(&mut conn)
        .await
        .ok();
    conn.close().await.ok();
    Ok(done)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_cluster_dir_maps_to_a_stable_place_under_var_lib() {
        assert_eq!(
            fallback_dir(Path::new("/root/taskdeck/.localbase/pg")),
            Path::new("/var/lib/taskdeck/clusters/root-taskdeck-.localbase-pg")
        );
        assert_eq!(
            fallback_dir(Path::new("/home/a b/x/pg")),
            Path::new("/var/lib/taskdeck/clusters/home-a-b-x-pg")
        );
    }

    #[test]
    fn psql_meta_commands_are_dropped_and_passwords_hidden() {
        assert_eq!(
            strip_psql_meta("\\set ON_ERROR_STOP on\nselect 1;"),
            "select 1;"
        );
        assert_eq!(
            redact("postgres://postgres:secret@host:5432/db"),
            "postgres://postgres:***@host:5432/db"
        );
        assert_eq!(
            redact("postgres://postgres@host/db"),
            "postgres://postgres@host/db"
        );
    }
}
