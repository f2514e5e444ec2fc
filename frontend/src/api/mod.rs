//! Everything that talks to Supabase: one module per backend resource (`tasks`,
//! `executions`, `reports`, `analytics`, `admin`, `profiles`, `storage`, `auth`), all over
//! the request layer in [`http`] (with [`query`] to write PostgREST addresses and
//! [`decode`] to read the answers); the session store ([`session`]), the Realtime client
//! ([`realtime`]), the run-time [`config`], the wire form of dates ([`time`]) and the one
//! error type ([`error::AppError`]).
//!
//! The bottom layer: it imports `domain` and nothing else of this crate (no `state`, no
//! `ui`), so it can be tested and reused without a page.

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod config;
pub mod decode;
pub mod error;
pub mod executions;
pub mod http;
pub mod profiles;
pub mod query;
pub mod realtime;
pub mod reports;
pub mod session;
pub mod storage;
pub mod tasks;
pub mod time;

/// A page of rows and the total count (`Prefer: count=exact`), or for a page that is not
/// counted whether more rows follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows matching the filters, all pages together.
    pub total: u64,
    /// `total` is a lower bound (the rows shown so far and one more), not a count: the
    /// page was not counted and more rows follow.
    pub lower_bound: bool,
}
