//! The state every handler receives.

use crate::Config;
use sqlx::PgPool;
use std::sync::Arc;

/// Shared by all routes (`Router::with_state`).
#[derive(Clone)]
pub struct AppState {
    /// A pool connected as a superuser or the database owner. API requests never run as it:
    /// they `SET LOCAL ROLE` to the JWT's role first. Auth and Storage internals use it the
    /// way `supabase_auth_admin` and `supabase_storage_admin` do.
    pub db: PgPool,
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// PostgREST's schema cache (tables, columns, foreign keys, functions).
    pub schema: crate::rest::SchemaCacheHandle,
}

impl AppState {
    /// Builds the state and loads the schema cache.
    pub async fn new(db: PgPool, config: Arc<Config>) -> anyhow::Result<AppState> {
        let schema = crate::rest::SchemaCacheHandle::default();
        schema.reload(&db).await?;
        Ok(AppState { db, config, schema })
    }
}
