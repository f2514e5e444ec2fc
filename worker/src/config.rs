//! Settings from command-line flags, the environment and a `.env` file (in that order of
//! precedence). Every value is checked here, and a bad one gives a message naming the
//! variable, e.g. `WORKER_CONCURRENCY must be a whole number from 1 to 256 (got "four")`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Command-line flags; each one overrides the environment variable it names.
#[derive(Debug, Default, Clone, Parser)]
#[command(
    name = "worker",
    version,
    about = "Taskdeck worker: claims tasks from PostgreSQL and runs them",
    long_about = "Taskdeck worker: claims tasks from PostgreSQL and runs them.\n\n\
        Every flag can also be given as the environment variable in its value name \
        (or in a .env file in the working directory); a flag wins over the environment."
)]
pub struct Cli {
    /// PostgreSQL connection URL (required).
    #[arg(long, value_name = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Supabase API URL, for the handlers that use Storage (reports, exports, imports).
    #[arg(long, value_name = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// The service-role key, for Storage.
    #[arg(long, value_name = "SUPABASE_SERVICE_ROLE_KEY")]
    pub supabase_service_role_key: Option<String>,
    /// Tasks run at once (default 4).
    #[arg(long, value_name = "WORKER_CONCURRENCY")]
    pub concurrency: Option<String>,
    /// Most tasks held at once, running or claimed and waiting for a slot (default 500). The
    /// worker claims ahead of its free slots only as many tasks as it finishes in about
    /// 100 ms, so slow tasks are never hoarded; 0 = only claim for free slots.
    #[arg(long, value_name = "WORKER_BATCH_SIZE")]
    pub batch_size: Option<String>,
    /// Lease of a claimed task in seconds, renewed every third of it (default 30).
    #[arg(long, value_name = "WORKER_LEASE_SECS")]
    pub lease_secs: Option<String>,
    /// How often to look for work without a notification, in milliseconds (default 1000).
    #[arg(long, value_name = "WORKER_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<String>,
    /// This worker's id in the `workers` table (default `<host>-<pid>`).
    #[arg(long, value_name = "WORKER_NAME")]
    pub name: Option<String>,
    /// LISTEN for new tasks (default true); false polls only.
    #[arg(long, value_name = "WORKER_LISTEN")]
    pub listen: Option<String>,
    /// DATABASE_URL goes through a connection pooler in transaction mode (PgBouncer
    /// `pool_mode = transaction`, Supabase's pooler on port 6543): poll only, no prepared
    /// statements kept, no session settings; each query in a transaction (default false).
    #[arg(long, value_name = "WORKER_TRANSACTION_POOLER")]
    pub transaction_pooler: Option<String>,
    /// Address of the /health and /metrics endpoint, e.g. 127.0.0.1:9464 (default: none).
    #[arg(long, value_name = "WORKER_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Log format: pretty or json (default pretty).
    #[arg(long, value_name = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Seconds running tasks get to finish on SIGTERM/SIGINT before they are released (default 30).
    #[arg(long, value_name = "WORKER_SHUTDOWN_SECS")]
    pub shutdown_secs: Option<String>,
    /// Longest run of one attempt in seconds; a longer one is stopped and counts as a
    /// failed attempt (retried like a timeout). 0 = no limit (default 3600).
    #[arg(long, value_name = "WORKER_TASK_TIMEOUT_SECS")]
    pub task_timeout_secs: Option<String>,
    /// First retry delay in milliseconds, doubled per attempt (default 2000).
    #[arg(long, value_name = "WORKER_RETRY_BASE_MS")]
    pub retry_base_ms: Option<String>,
    /// Longest retry delay in seconds (default 600).
    #[arg(long, value_name = "WORKER_RETRY_CAP_SECS")]
    pub retry_cap_secs: Option<String>,
    /// Let http_request tasks call private and local addresses (default false).
    #[arg(long, value_name = "WORKER_HTTP_ALLOW_PRIVATE")]
    pub http_allow_private: Option<String>,
}

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} {message}")]
pub struct ConfigError {
    /// The environment variable (or the flag's value name) at fault.
    pub variable: &'static str,
    /// What is wrong, e.g. `must be a whole number from 1 to 256 (got "four")`.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Supabase's HTTP API, for Storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupabaseSettings {
    /// e.g. `http://127.0.0.1:54321` (no trailing slash).
    pub url: String,
    /// The service-role key (sent as `apikey` and bearer token).
    pub service_role_key: String,
}

/// Exponential backoff with jitter between attempts of a failing task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failed attempt (before jitter).
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(RETRY_BASE_MS.default),
            cap: Duration::from_secs(RETRY_CAP_SECS.default),
        }
    }
}

impl Backoff {
    /// The upper bound of the delay after `attempts` failed attempts: `base × 2^(attempts-1)`,
    /// at most `cap`.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        self.base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The delay before the next attempt: uniformly random in the upper half of
    /// [`Backoff::ceiling`] ("equal jitter"), so a crowd of failing tasks spreads out
    /// but never retries sooner than half the ceiling.
    pub fn delay(&self, attempts: u32) -> Duration {
        let ceiling = self.ceiling(attempts);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_millis()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            rand::random_range(0..=spread)
        };
        half + Duration::from_millis(jitter)
    }
}

/// Everything the worker needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL connection URL.
    pub database_url: String,
    /// Storage access; `None` makes the uploading handlers fail their tasks with a clear message.
    pub supabase: Option<SupabaseSettings>,
    /// Tasks run at once.
    pub concurrency: usize,
    /// Most tasks held at once (running or claimed ahead); 0: claim for free slots only.
    pub batch_size: usize,
    /// Lease of a claimed task; the heartbeat renews it every third.
    pub lease: Duration,
    /// How often to look for work when no notification arrives.
    pub poll_interval: Duration,
    /// This worker's id.
    pub worker_name: String,
    /// LISTEN for notifications (false: poll only).
    pub listen: bool,
    /// DATABASE_URL goes through a pooler in transaction mode: no LISTEN, no prepared
    /// statements kept, no `options` startup parameter, each query in a transaction.
    pub transaction_pooler: bool,
    /// Where to serve /health and /metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Log format.
    pub log_format: LogFormat,
    /// How long running tasks may take to finish after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// Longest run of one attempt (`None`: no limit).
    pub task_timeout: Option<Duration>,
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Whether http_request tasks may call private and local addresses.
    pub http_allow_private: bool,
}

impl Settings {
    /// Reads `.env` (if present), the flags and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth saying.
        if let Err(error) = dotenvy::dotenv() {
            if !error.not_found() {
                return Err(ConfigError::new(
                    ".env",
                    format!("could not be read: {error}"),
                ));
            }
        }
        Self::from_sources(Cli::parse(), |name| std::env::var(name).ok())
    }

    /// The settings from parsed flags and an environment lookup (tests pass their own).
    pub fn from_sources(
        cli: Cli,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |flag: Option<String>, name: &str| -> Option<String> {
            flag.or_else(|| env(name))
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };

        let database_url = get(cli.database_url, "DATABASE_URL").ok_or_else(|| {
            ConfigError::new(
                "DATABASE_URL",
                "is required: the PostgreSQL connection URL, e.g. postgres://postgres:postgres@127.0.0.1:54322/postgres",
            )
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "must be a postgres:// or postgresql:// URL",
            ));
        }

        let supabase_url = get(cli.supabase_url, "SUPABASE_URL");
        let service_key = get(cli.supabase_service_role_key, "SUPABASE_SERVICE_ROLE_KEY");
        let supabase = match (supabase_url, service_key) {
            (None, None) => None,
            (Some(url), Some(key)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::new(
                        "SUPABASE_URL",
                        format!("must be an http:// or https:// URL (got \"{url}\")"),
                    ));
                }
                Some(SupabaseSettings {
                    url: url.trim_end_matches('/').to_owned(),
                    service_role_key: key,
                })
            }
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "SUPABASE_SERVICE_ROLE_KEY",
                    "is required when SUPABASE_URL is set",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "SUPABASE_URL",
                    "is required when SUPABASE_SERVICE_ROLE_KEY is set",
                ))
            }
        };

        let concurrency = CONCURRENCY.read(get(cli.concurrency, CONCURRENCY.variable))?;
        let batch_size = BATCH_SIZE.read(get(cli.batch_size, BATCH_SIZE.variable))?;
        let lease_secs = LEASE_SECS.read(get(cli.lease_secs, LEASE_SECS.variable))?;
        let poll_ms =
            POLL_INTERVAL_MS.read(get(cli.poll_interval_ms, POLL_INTERVAL_MS.variable))?;
        let shutdown_secs = SHUTDOWN_SECS.read(get(cli.shutdown_secs, SHUTDOWN_SECS.variable))?;
        let task_timeout_secs =
            TASK_TIMEOUT_SECS.read(get(cli.task_timeout_secs, TASK_TIMEOUT_SECS.variable))?;
        let retry_base_ms = RETRY_BASE_MS.read(get(cli.retry_base_ms, RETRY_BASE_MS.variable))?;
        let retry_cap_secs =
            RETRY_CAP_SECS.read(get(cli.retry_cap_secs, RETRY_CAP_SECS.variable))?;

        let worker_name = match get(cli.name, "WORKER_NAME") {
            Some(name) if name.chars().count() > 200 => {
                return Err(ConfigError::new(
                    "WORKER_NAME",
                    "must be at most 200 characters",
                ))
            }
            Some(name) => name,
            None => default_worker_name(),
        };

        let transaction_pooler = boolean(
            get(cli.transaction_pooler, "WORKER_TRANSACTION_POOLER"),
            "WORKER_TRANSACTION_POOLER",
            false,
        )?;
        // Behind a transaction pooler, LISTEN cannot work (the session that listens is
        // handed to other clients between transactions): poll only, and refuse a request
        // for the contrary.
        let listen_value = get(cli.listen, "WORKER_LISTEN");
        let listen_given = listen_value.is_some();
        let listen = boolean(listen_value, "WORKER_LISTEN", true)?;
        if transaction_pooler && listen && listen_given {
            return Err(ConfigError::new(
                "WORKER_LISTEN",
                "cannot be true with WORKER_TRANSACTION_POOLER=true: a pooler in transaction mode \
                 does not deliver notifications (the worker polls every WORKER_POLL_INTERVAL_MS \
                 instead); leave WORKER_LISTEN unset or set it to false",
            ));
        }
        let listen = listen && !transaction_pooler;
        let http_allow_private = boolean(
            get(cli.http_allow_private, "WORKER_HTTP_ALLOW_PRIVATE"),
            "WORKER_HTTP_ALLOW_PRIVATE",
            false,
        )?;

        let metrics_addr = match get(cli.metrics_addr, "WORKER_METRICS_ADDR") {
            None => None,
            Some(value) => Some(value.parse::<SocketAddr>().map_err(|_| {
                ConfigError::new(
                    "WORKER_METRICS_ADDR",
                    format!("must be an address and port like 127.0.0.1:9464 (got \"{value}\")"),
                )
            })?),
        };

        let log_format = match get(cli.log_format, "LOG_FORMAT") {
            None => LogFormat::Pretty,
            Some(value) => match value.to_ascii_lowercase().as_str() {
                "pretty" | "text" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::new(
                        "LOG_FORMAT",
                        format!("must be pretty or json (got \"{value}\")"),
                    ))
                }
            },
        };

        Ok(Self {
            database_url,
            supabase,
            concurrency: usize::try_from(concurrency).unwrap_or(CONCURRENCY.default_usize()),
            batch_size: usize::try_from(batch_size).unwrap_or(0),
            lease: Duration::from_secs(lease_secs),
            poll_interval: Duration::from_millis(poll_ms),
            worker_name,
            listen,
            transaction_pooler,
            metrics_addr,
            log_format,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
            task_timeout: (task_timeout_secs > 0).then(|| Duration::from_secs(task_timeout_secs)),
            backoff: Backoff {
                base: Duration::from_millis(retry_base_ms),
                cap: Duration::from_secs(retry_cap_secs),
            },
            http_allow_private,
        })
    }
}

/// A whole-number setting: its variable, its default and the values it accepts. Each
/// default is written here once: `Settings::from_sources` reads through it, and a test
/// checks that each flag's help names the same default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberSetting {
    /// The environment variable (and the flag's value name).
    pub variable: &'static str,
    /// The value when neither the flag nor the variable is given.
    pub default: u64,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
}

impl NumberSetting {
    /// A setting of `variable`: `default` when not given, else a number in `min..=max`.
    pub const fn new(variable: &'static str, default: u64, min: u64, max: u64) -> Self {
        Self {
            variable,
            default,
            min,
            max,
        }
    }

    /// The given value (the default when `None`), or an error naming the variable.
    pub fn read(&self, value: Option<String>) -> Result<u64, ConfigError> {
        let Some(text) = value else {
            return Ok(self.default);
        };
        text.parse::<u64>()
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    self.variable,
                    format!(
                        "must be a whole number from {} to {} (got \"{text}\")",
                        self.min, self.max
                    ),
                )
            })
    }

    /// The default as a `usize` (for counts).
    pub fn default_usize(&self) -> usize {
        usize::try_from(self.default).unwrap_or(usize::MAX)
    }
}

/// `WORKER_CONCURRENCY`: Tasks run at once.
pub const CONCURRENCY: NumberSetting = NumberSetting::new("WORKER_CONCURRENCY", 4, 1, 256);
/// `WORKER_BATCH_SIZE`: Most tasks held at once, running or claimed ahead of the free slots (0: free slots only).
pub const BATCH_SIZE: NumberSetting = NumberSetting::new("WORKER_BATCH_SIZE", 500, 0, 10_000);
/// `WORKER_LEASE_SECS`: Lease of a claimed task, seconds.
pub const LEASE_SECS: NumberSetting = NumberSetting::new("WORKER_LEASE_SECS", 30, 3, 3600);
/// `WORKER_POLL_INTERVAL_MS`: Polling interval without a notification, milliseconds.
pub const POLL_INTERVAL_MS: NumberSetting =
    NumberSetting::new("WORKER_POLL_INTERVAL_MS", 1000, 10, 3_600_000);
/// `WORKER_SHUTDOWN_SECS`: Seconds running tasks get to finish after SIGTERM/SIGINT.
pub const SHUTDOWN_SECS: NumberSetting = NumberSetting::new("WORKER_SHUTDOWN_SECS", 30, 0, 86_400);
/// `WORKER_TASK_TIMEOUT_SECS`: Longest run of one attempt, seconds (0: no limit).
pub const TASK_TIMEOUT_SECS: NumberSetting =
    NumberSetting::new("WORKER_TASK_TIMEOUT_SECS", 3600, 0, 604_800);
/// `WORKER_RETRY_BASE_MS`: First retry delay, milliseconds (doubled per attempt).
pub const RETRY_BASE_MS: NumberSetting =
    NumberSetting::new("WORKER_RETRY_BASE_MS", 2000, 0, 3_600_000);
/// `WORKER_RETRY_CAP_SECS`: Longest retry delay, seconds.
pub const RETRY_CAP_SECS: NumberSetting =
    NumberSetting::new("WORKER_RETRY_CAP_SECS", 600, 0, 86_400);

/// `<hostname>-<pid>`.
pub fn default_worker_name() -> String {
    format!("{}-{}", host_name(), std::process::id())
}

/// The machine's host name, or `localhost` when it cannot be read.
pub fn host_name() -> String {
    hostname::get()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn boolean(
    value: Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(text) = value else {
        return Ok(default);
    };
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            variable,
            format!("must be true or false (got \"{text}\")"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)], args: &[&str]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let cli = Cli::try_parse_from(std::iter::once("worker").chain(args.iter().copied()))
            .expect("flags parse");
        Settings::from_sources(cli, |name| vars.get(name).cloned())
    }

    const DB: (&str, &str) = (
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    );

    #[test]
    fn each_flags_help_names_the_default_the_code_uses() {
        use clap::CommandFactory;
        let command = Cli::command();
        for setting in [
            CONCURRENCY,
            BATCH_SIZE,
            LEASE_SECS,
            POLL_INTERVAL_MS,
            SHUTDOWN_SECS,
            TASK_TIMEOUT_SECS,
            RETRY_BASE_MS,
            RETRY_CAP_SECS,
        ] {
            let arg = command
                .get_arguments()
                .find(|a| {
                    a.get_value_names()
                        .is_some_and(|names| names.iter().any(|n| n == setting.variable))
                })
                .unwrap_or_else(|| panic!("a flag for {}", setting.variable));
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(
                help.contains(&format!("(default {})", setting.default)),
                "the help of {} says {help:?}, the default is {}",
                setting.variable,
                setting.default
            );
        }
    }

    #[test]
    fn the_batch_size_defaults_to_500_and_0_turns_claiming_ahead_off() {
        assert_eq!(load(&[DB], &[]).expect("valid").batch_size, 500);
        let settings = load(&[DB, ("WORKER_BATCH_SIZE", "0")], &[]).expect("valid");
        assert_eq!(settings.batch_size, 0);
        let error = load(&[DB, ("WORKER_BATCH_SIZE", "lots")], &[]).expect_err("bad");
        assert_eq!(error.variable, "WORKER_BATCH_SIZE");
        assert!(load(&[DB, ("WORKER_BATCH_SIZE", "10001")], &[]).is_err());
    }

    #[test]
    fn defaults() {
        let settings = load(&[DB], &[]).expect("valid");
        assert_eq!(settings.concurrency, 4);
        assert_eq!(settings.lease, Duration::from_secs(30));
        assert_eq!(settings.poll_interval, Duration::from_millis(1000));
        assert!(settings.listen);
        assert!(!settings.transaction_pooler);
        assert_eq!(settings.metrics_addr, None);
        assert_eq!(settings.log_format, LogFormat::Pretty);
        assert_eq!(settings.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(settings.task_timeout, Some(Duration::from_secs(3600)));
        assert_eq!(settings.supabase, None);
        assert!(!settings.http_allow_private);
        assert!(settings
            .worker_name
            .ends_with(&format!("-{}", std::process::id())));
    }

    #[test]
    fn the_attempt_time_limit_is_set_or_turned_off() {
        let settings = load(&[DB, ("WORKER_TASK_TIMEOUT_SECS", "90")], &[]).expect("valid");
        assert_eq!(settings.task_timeout, Some(Duration::from_secs(90)));
        let settings = load(&[DB, ("WORKER_TASK_TIMEOUT_SECS", "0")], &[]).expect("valid");
        assert_eq!(settings.task_timeout, None);
    }

    #[test]
    fn database_url_is_required() {
        let error = load(&[], &[]).expect_err("missing");
        assert_eq!(error.variable, "DATABASE_URL");
        assert!(error.to_string().starts_with("DATABASE_URL is required"));
        let error = load(&[("DATABASE_URL", "mysql://x")], &[]).expect_err("bad scheme");
        assert_eq!(error.variable, "DATABASE_URL");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("WORKER_CONCURRENCY", "four"),
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_LEASE_SECS", "1"),
            ("WORKER_POLL_INTERVAL_MS", "-5"),
            ("WORKER_LISTEN", "maybe"),
            ("WORKER_TRANSACTION_POOLER", "pgbouncer"),
            ("WORKER_METRICS_ADDR", "localhost"),
            ("LOG_FORMAT", "xml"),
            ("WORKER_SHUTDOWN_SECS", "soon"),
            ("WORKER_TASK_TIMEOUT_SECS", "1h"),
            ("WORKER_TASK_TIMEOUT_SECS", "604801"),
            ("WORKER_RETRY_BASE_MS", "1.5"),
            ("WORKER_RETRY_CAP_SECS", "x"),
            ("WORKER_HTTP_ALLOW_PRIVATE", "sometimes"),
            ("SUPABASE_URL", "ftp://x"),
        ];
        for (variable, value) in cases {
            let mut vars = vec![DB, (variable, value)];
            if variable == "SUPABASE_URL" {
                vars.push(("SUPABASE_SERVICE_ROLE_KEY", "key"));
            }
            let error = load(&vars, &[]).expect_err(variable);
            assert_eq!(error.variable, variable, "{error}");
            assert!(error.to_string().starts_with(variable), "{error}");
        }
        let error = load(&[DB, ("WORKER_CONCURRENCY", "four")], &[]).expect_err("bad");
        assert_eq!(
            error.to_string(),
            "WORKER_CONCURRENCY must be a whole number from 1 to 256 (got \"four\")"
        );
    }

    #[test]
    fn a_transaction_pooler_means_polling_only() {
        for value in ["true", "1", "yes", "on"] {
            let settings = load(&[DB, ("WORKER_TRANSACTION_POOLER", value)], &[]).expect("valid");
            assert!(settings.transaction_pooler);
            assert!(!settings.listen, "no LISTEN behind a transaction pooler");
        }
        let settings = load(
            &[
                DB,
                ("WORKER_TRANSACTION_POOLER", "true"),
                ("WORKER_LISTEN", "false"),
            ],
            &[],
        )
        .expect("valid");
        assert!(settings.transaction_pooler && !settings.listen);
        let settings = load(&[DB], &["--transaction-pooler", "true"]).expect("valid");
        assert!(settings.transaction_pooler && !settings.listen);
        let settings = load(&[DB, ("WORKER_TRANSACTION_POOLER", "false")], &[]).expect("valid");
        assert!(!settings.transaction_pooler && settings.listen);

        // Asking for LISTEN explicitly with it is a contradiction, refused.
        let error = load(
            &[
                DB,
                ("WORKER_TRANSACTION_POOLER", "true"),
                ("WORKER_LISTEN", "true"),
            ],
            &[],
        )
        .expect_err("contradiction");
        assert_eq!(error.variable, "WORKER_LISTEN");
        assert!(
            error
                .to_string()
                .starts_with("WORKER_LISTEN cannot be true with WORKER_TRANSACTION_POOLER=true"),
            "{error}"
        );
        let error = load(
            &[DB, ("WORKER_TRANSACTION_POOLER", "true")],
            &["--listen", "on"],
        )
        .expect_err("contradiction");
        assert_eq!(error.variable, "WORKER_LISTEN");
        let error = load(&[DB, ("WORKER_TRANSACTION_POOLER", "maybe")], &[]).expect_err("bad");
        assert_eq!(
            error.to_string(),
            "WORKER_TRANSACTION_POOLER must be true or false (got \"maybe\")"
        );
    }

    #[test]
    fn supabase_needs_both_url_and_key() {
        let error =
            load(&[DB, ("SUPABASE_URL", "http://127.0.0.1:54321")], &[]).expect_err("no key");
        assert_eq!(error.variable, "SUPABASE_SERVICE_ROLE_KEY");
        let settings = load(
            &[
                DB,
                ("SUPABASE_URL", "http://127.0.0.1:54321/"),
                ("SUPABASE_SERVICE_ROLE_KEY", "secret"),
            ],
            &[],
        )
        .expect("valid");
        let supabase = settings.supabase.expect("set");
        assert_eq!(supabase.url, "http://127.0.0.1:54321");
        assert_eq!(supabase.service_role_key, "secret");
    }

    #[test]
    fn flags_win_over_the_environment() {
        let settings = load(
            &[DB, ("WORKER_CONCURRENCY", "2"), ("WORKER_LISTEN", "true")],
            &[
                "--concurrency",
                "8",
                "--listen",
                "false",
                "--name",
                "w1",
                "--metrics-addr",
                "127.0.0.1:9464",
                "--log-format",
                "json",
            ],
        )
        .expect("valid");
        assert_eq!(settings.concurrency, 8);
        assert!(!settings.listen);
        assert_eq!(settings.worker_name, "w1");
        assert_eq!(
            settings.metrics_addr,
            Some("127.0.0.1:9464".parse().expect("addr"))
        );
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let backoff = Backoff {
            base: Duration::from_millis(RETRY_BASE_MS.default),
            cap: Duration::from_secs(RETRY_CAP_SECS.default),
        };
        assert_eq!(backoff.ceiling(1), Duration::from_secs(2));
        assert_eq!(backoff.ceiling(2), Duration::from_secs(4));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(32));
        assert_eq!(backoff.ceiling(10), Duration::from_secs(600));
        assert_eq!(backoff.ceiling(1000), Duration::from_secs(600));
        for attempts in 1..12 {
            let delay = backoff.delay(attempts);
            let ceiling = backoff.ceiling(attempts);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{delay:?} vs {ceiling:?}"
            );
        }
        let zero = Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }
}
