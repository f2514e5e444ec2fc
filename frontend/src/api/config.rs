//! Where Supabase is: read at run time from `/config.json`
//! (`{"supabaseUrl": "...", "supabaseAnonKey": "..."}`), never compiled in. localbase
//! serves it; a hosted deployment puts a static file next to `index.html`.

use serde::Deserialize;

use crate::api::decode::{self, FromJson, Missing, Object};
use crate::api::error::AppError;

impl FromJson for Config {
    fn from_json(row: &Object) -> Result<Self, Missing> {
        Ok(Config {
            supabase_url: decode::text(row, "supabaseUrl")?,
            supabase_anon_key: decode::text(row, "supabaseAnonKey")?,
        })
    }
}

/// The public settings of the deployment. The anon key is public by design; no secret
/// ever reaches the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// e.g. `http://127.0.0.1:54321` or `https://xyz.supabase.co`; empty or relative
    /// means the page's own origin.
    pub supabase_url: String,
    /// The anon key (a JWT with role `anon`).
    pub supabase_anon_key: String,
}

impl Config {
    /// The base URL without a trailing slash, made absolute against `origin`.
    pub fn base_url(&self, origin: &str) -> String {
        let url = self.supabase_url.trim().trim_end_matches('/');
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!(
                "{}{}{}",
                origin.trim_end_matches('/'),
                if url.is_empty() || url.starts_with('/') {
                    ""
                } else {
                    "/"
                },
                url
            )
        }
    }
}

/// Fetches and checks `/config.json`.
pub async fn load() -> Result<Config, AppError> {
    let response = gloo::net::http::Request::get("/config.json")
        .send()
        .await
        .map_err(|_| AppError::Network)?;
    if !response.ok() {
        return Err(AppError::Config(format!(
            "/config.json answered HTTP {}",
            response.status()
        )));
    }
    let text = response.text().await.map_err(|_| AppError::Network)?;
    let config = decode::parse(&text)
        .ok()
        .and_then(|value| decode::one::<Config>(&value).ok())
        .ok_or_else(|| AppError::Config("/config.json is not valid JSON".into()))?;
    if config.supabase_anon_key.trim().is_empty() {
        return Err(AppError::Config(
            "supabaseAnonKey is empty in /config.json".into(),
        ));
    }
    Ok(config)
}

/// `window.location.origin`.
pub fn origin() -> String {
    gloo::utils::window()
        .location()
        .origin()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn config(url: &str) -> Config {
        Config {
            supabase_url: url.into(),
            supabase_anon_key: "anon".into(),
        }
    }

    #[wasm_bindgen_test]
    fn base_url_is_absolute_without_trailing_slash() {
        assert_eq!(
            config("http://127.0.0.1:54321/").base_url("http://x"),
            "http://127.0.0.1:54321"
        );
        assert_eq!(
            config("").base_url("http://localhost:8080"),
            "http://localhost:8080"
        );
        assert_eq!(
            config("/api").base_url("http://localhost:8080/"),
            "http://localhost:8080/api"
        );
    }
}
