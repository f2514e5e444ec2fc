//! `profiles`: the signed-in user's own row (name, avatar, preferences).

use domain::Profile;
use serde_json::Value;
use uuid::Uuid;

use crate::api::error::AppError;
use crate::api::http::{Api, ApiRequest};
use crate::api::query::Query;

/// One profile.
pub async fn get(api: &Api, id: Uuid) -> Result<Profile, AppError> {
    let query = Query::table("profiles").select("*").eq("id", id);
    api.row(
        ApiRequest::get(api.rest(&query.to_path()))
            .header("Accept", "application/vnd.pgrst.object+json"),
    )
    .await
}

/// Updates the columns in `patch` (name, avatar_url, preferences).
pub async fn update(api: &Api, id: Uuid, patch: &Value) -> Result<Profile, AppError> {
    let query = Query::table("profiles").eq("id", id);
    api.row(
        ApiRequest::patch(api.rest(&query.to_path()))
            .header("Prefer", "return=representation")
            .header("Accept", "application/vnd.pgrst.object+json")
            .json(patch),
    )
    .await
}
