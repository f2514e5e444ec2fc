//! Taskdeck's single-page app: Yew on wasm32, talking straight to Supabase Auth,
//! PostgREST and Storage with the user's JWT.
//!
//! - [`app`]: routes, layouts and guards; [`router`] follows the address; [`pages`] one module per route (admin pages in
//!   their own module); [`components`] reusable pieces (charts included).
//! - [`hooks`]: `use_session()`, `use_load()`.
//! - [`services`]: one module per backend resource over one request layer
//!   ([`services::http`]); [`error::AppError`] says every failure in words.
//! - [`config`]: `/config.json`, read at run time.

pub mod app;
pub mod components;
pub mod config;
pub mod error;
pub mod format;
pub mod guard;
pub mod hooks;
pub mod pages;
pub mod realtime;
pub mod router;
pub mod services;
pub mod session;
pub mod state;

#[cfg(test)]
mod test_util;

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app on `<body>`.
pub fn run() {
    yew::Renderer::<app::App>::new().render();
}
