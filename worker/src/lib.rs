//! Taskdeck's worker: claims tasks from PostgreSQL, runs them through handlers registered by
//! task type, and records each attempt (`task_executions`), its steps (`execution_logs`) and
//! the task's progress, result or error.
//!
//! Coordination is PostgreSQL alone: `FOR UPDATE SKIP LOCKED` claims, leases renewed by a
//! heartbeat, `LISTEN taskdeck_task_queue` to wake up. Any number of workers may run.
//!
//! - [`config`]: settings from flags, the environment and `.env`.
//! - [`db`]: the database handle every query runs on (direct, or behind a transaction pooler).
//! - [`queue`]: the SQL of claiming, leases, heartbeats and the `workers` row.
//! - [`executor`]: one attempt end to end ([`executor::try_execute_one`]).
//! - [`runner`]: the daemon loop ([`runner::run_until_stopped`]).
//! - [`handlers`]: the task types.
//! - [`storage`]: the small Supabase Storage client the handlers use.
//! - [`text`]: what the worker tells people, as a code and values (translated by the SPA).

#![warn(missing_docs, unreachable_pub)]

pub mod config;
pub mod db;
pub mod error;
pub mod executor;
pub mod handlers;
pub mod http_guard;
pub mod observability;
pub mod queue;
pub mod recurrence;
pub mod report;
pub mod runner;
pub mod storage;
pub mod telemetry;
pub mod text;

pub use config::Settings;
pub use error::TaskError;
pub use executor::{try_execute_one, Deps, Outcome};
pub use runner::run_until_stopped;
