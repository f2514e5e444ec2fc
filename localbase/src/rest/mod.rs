//! `/rest/v1`: PostgREST.

use crate::AppState;
use axum::Router;
use std::sync::Arc;
use tokio::sync::RwLock;

/// The schema cache, shared and reloadable (`NOTIFY pgrst, 'reload schema'`).
pub type SchemaCacheHandle = Arc<RwLock<SchemaCache>>;

/// Tables, columns, foreign keys and functions of the exposed schema.
#[derive(Debug, Default)]
pub struct SchemaCache {}

pub fn router() -> Router<AppState> {
    Router::new()
}
