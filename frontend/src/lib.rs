//! Taskdeck's single-page app: Yew on wasm32, talking straight to Supabase Auth,
//! PostgREST and Storage with the user's JWT.
//!
//! Layers, each importing only those below it (`scripts/check-frontend-layers` fails the
//! tests otherwise):
//!
//! - [`app`]: the app, the switch from each route to its page, the guard, the layouts.
//! - [`features`]: the pages, one module per area (auth, dashboard, tasks, analytics,
//!   settings, admin).
//! - [`ui`]: components, formatting, generic hooks (`use_load`, `use_action`), the route
//!   table and the router.
//! - [`state`]: the global state and its context (`use_app`, `use_session`), who may see
//!   a page.
//! - [`api`]: Supabase Auth, PostgREST, Storage and Realtime over one request layer, the
//!   session store, the configuration (`/config.json`, read at run time) and
//!   [`api::error::AppError`], which says every failure in words.
//!
//! Below them all, [`i18n`] (the reader's language, time zone and currency, and the
//! messages) and `domain` (the types shared with the worker).

#![warn(missing_docs, unreachable_pub)]

pub mod api;
pub mod app;
pub mod features;
pub mod i18n;
pub mod state;
pub mod ui;

#[cfg(test)]
mod test_util;

/// The allocator: Talc instead of Rust's default dlmalloc, for a smaller module (the heap
/// grows by `memory.grow`, as dlmalloc's does). Single-threaded wasm only.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app on `<body>`.
pub fn run() {
    yew::Renderer::<app::App>::new().render();
}
