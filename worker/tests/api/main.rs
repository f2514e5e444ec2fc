//! The worker's integration tests: one binary, each test on a fresh database
//! (`testkit::fresh_database`). Needs DATABASE_URL of a cluster prepared by
//! `scripts/test-cluster` (or `scripts/test`). `TEST_LOG=1` shows the worker's logs.

mod batches;
mod bulk;
mod chaos;
mod cli;
mod daemon;
mod files;
mod handlers;
mod helpers;
mod otel;
mod pooler;
mod queue;
mod reports;
mod ssrf;
mod texts;
