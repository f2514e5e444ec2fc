//! One module per backend resource, all over the request layer in [`http`].

pub mod admin;
pub mod analytics;
pub mod auth;
pub mod decode;
pub mod executions;
pub mod http;
pub mod profiles;
pub mod query;
pub mod reports;
pub mod storage;
pub mod tasks;

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
