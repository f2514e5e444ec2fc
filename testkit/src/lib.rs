//! A fresh PostgreSQL database per test.
//!
//! The test command (`scripts/test`) starts a throwaway PostgreSQL cluster and prepares two
//! template databases in it:
//! - `taskdeck_template`: the Supabase bootstrap plus every migration, no data;
//! - `taskdeck_seeded`: the same plus `supabase/seed.sql`.
//!
//! It exports `DATABASE_URL` (a superuser connection to that cluster). Each test clones one
//! template into a database of its own, so tests never see each other's rows.

use anyhow::{bail, Context};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::str::FromStr;

/// Which template a test database is cloned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Schema only.
    Empty,
    /// Schema plus the seed (accounts, business events, tasks).
    Seeded,
}

impl Template {
    fn database_name(self) -> &'static str {
        match self {
            Template::Empty => "taskdeck_template",
            Template::Seeded => "taskdeck_seeded",
        }
    }
}

/// A database created for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// A pool connected as the cluster superuser (like `postgres` on a local Supabase).
    pub pool: PgPool,
    /// The connection URL of the new database.
    pub url: String,
    /// Its name.
    pub name: String,
}

/// The superuser URL the test command exported.
pub fn cluster_url() -> anyhow::Result<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => bail!(
            "DATABASE_URL is not set: these tests need the throwaway PostgreSQL that the test \
             command starts. Run `scripts/test` (or export DATABASE_URL to a cluster prepared by it)."
        ),
    }
}

/// Creates a new database cloned from `template` and returns a pool on it.
pub async fn fresh_database(template: Template) -> anyhow::Result<TestDb> {
    let base = cluster_url()?;
    let options =
        PgConnectOptions::from_str(&base).context("DATABASE_URL is not a valid postgres URL")?;
    let mut admin = PgConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot connect to the test cluster at {base}"))?;
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    // Identifiers cannot be bound; both names are generated here, never taken from input.
    let sql = format!(
        "create database {name} template {}",
        template.database_name()
    );
    sqlx::raw_sql(&sql)
        .execute(&mut admin)
        .await
        .with_context(|| format!("cannot clone {}", template.database_name()))?;
    admin.close().await.ok();

    let options = options.database(&name);
    let url = options.to_url_lossy().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {name}"))?;
    Ok(TestDb { pool, url, name })
}
