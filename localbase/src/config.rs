//! Settings shared by every service.

/// The Supabase CLI's local JWT secret (public, for local development only).
pub const DEFAULT_JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
/// The CLI's local anon key: `{"iss":"supabase-demo","role":"anon","exp":1983812996}`.
pub const DEFAULT_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
/// The CLI's local service_role key: `{"iss":"supabase-demo","role":"service_role","exp":1983812996}`.
pub const DEFAULT_SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

/// Configuration of a running localbase.
#[derive(Debug, Clone)]
pub struct Config {
    /// HS256 secret that signs and verifies every JWT.
    pub jwt_secret: String,
    /// The public anon key handed to the SPA.
    pub anon_key: String,
    /// The service_role key handed to the worker.
    pub service_role_key: String,
    /// The external URL of this server, e.g. `http://127.0.0.1:54321` (used in links and `iss`).
    pub site_url: String,
    /// Lifetime of access tokens, seconds.
    pub jwt_expiry_secs: i64,
    /// Where Storage keeps object bytes and Auth writes its mailbox (`mail/`).
    pub data_dir: std::path::PathBuf,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// PostgREST's `db-max-rows` (`[api] max_rows` in `supabase/config.toml`): the most rows
    /// a read or a function call answers, and the threshold of `Prefer: count=estimated`.
    pub max_rows: Option<i64>,
    /// The built SPA (`dist/`), served at `/` with history-API fallback; `None` serves no SPA.
    pub dist_dir: Option<std::path::PathBuf>,
    /// Auth (GoTrue) settings: password policy, token reuse, rate limits, mailbox.
    pub auth: crate::auth::AuthSettings,
}

impl Config {
    /// Local defaults, as `supabase start` uses them.
    pub fn local(data_dir: impl Into<std::path::PathBuf>, site_url: impl Into<String>) -> Self {
        Config {
            jwt_secret: DEFAULT_JWT_SECRET.to_owned(),
            anon_key: DEFAULT_ANON_KEY.to_owned(),
            service_role_key: DEFAULT_SERVICE_ROLE_KEY.to_owned(),
            site_url: site_url.into(),
            jwt_expiry_secs: 3600,
            data_dir: data_dir.into(),
            max_body_bytes: 50 * 1024 * 1024,
            max_rows: Some(1000),
            dist_dir: None,
            auth: crate::auth::AuthSettings::default(),
        }
    }
}
