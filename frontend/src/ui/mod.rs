//! What every page is built from: reusable components (each with its `Props`), the
//! formatting of numbers and dates for people ([`format`]), generic hooks ([`hooks`]),
//! and navigation: the address table ([`route`]) and the [`router`] that follows it.
//!
//! `ui` imports `state` and `api` only, never `app` or `features`: a component that links
//! to a page names it as a [`Route`](route::Route), which lives here for that reason.

pub mod badge;
pub mod chart;
pub mod download;
pub mod feedback;
pub mod field;
pub mod format;
pub mod hooks;
pub mod language;
pub mod metric_card;
pub mod pager;
pub mod route;
pub mod router;
pub mod run_text;

pub use badge::{PriorityBadge, ProgressBar, ProgressCell, StatusBadge};
pub use chart::{Chart, ChartKind};
pub use download::DownloadLink;
pub use feedback::{remote_view, Empty, ErrorBox, Loading};
pub use field::{CheckboxField, SelectField, TextField};
pub use metric_card::MetricCard;
pub use pager::Pager;

use chrono::{DateTime, Utc};
use yew::prelude::*;

use crate::ui::route::Route;

/// [`crate::ui::router::link`] with a text: built here once instead of at each of its ~35
/// uses (smaller wasm).
pub fn route_link(to: Route, classes: &'static str, text: impl Into<AttrValue>) -> Html {
    route_link_text(to, classes, text.into())
}

fn route_link_text(to: Route, classes: &'static str, text: AttrValue) -> Html {
    crate::ui::router::link(&to, classes!(classes), html! { { text } })
}

/// `<th scope="col">` cells with plain titles, built in one place (the same cells, less
/// wasm than one `html!` element per title).
pub fn column_titles(titles: &[&'static str]) -> Html {
    titles
        .iter()
        .map(|title| html! { <th scope="col">{ *title }</th> })
        .collect()
}

/// `<button type="button" class={class} disabled={disabled} onclick={onclick}>{ label }</button>`,
/// built in one place (a call per button instead of the whole element at each one).
pub fn button(
    class: &'static str,
    label: impl Into<Html>,
    disabled: bool,
    onclick: Callback<MouseEvent>,
) -> Html {
    button_markup(class, label.into(), disabled, onclick)
}

fn button_markup(
    class: &'static str,
    label: Html,
    disabled: bool,
    onclick: Callback<MouseEvent>,
) -> Html {
    html! { <button type="button" {class} {disabled} {onclick}>{ label }</button> }
}

/// `<button type="submit" class={class} disabled={disabled}>{ label }</button>`.
pub fn submit(class: &'static str, label: impl Into<Html>, disabled: bool) -> Html {
    submit_markup(class, label.into(), disabled)
}

fn submit_markup(class: &'static str, label: Html, disabled: bool) -> Html {
    html! { <button type="submit" {class} {disabled}>{ label }</button> }
}

/// `<time datetime="2024-04-01T06:00:00Z">{ text }</time>`: a time as people read it,
/// machine-readable in `datetime` (RFC 3339, UTC).
pub fn time_view(at: &DateTime<Utc>, text: String) -> Html {
    html! { <time datetime={crate::api::time::rfc3339(at)}>{ text }</time> }
}

/// [`time_view`] of `2024-04-01 06:00 UTC`.
pub fn datetime_view(at: &DateTime<Utc>) -> Html {
    time_view(at, crate::ui::format::datetime(at))
}

/// `<dt>{ term }</dt><dd>{ value }</dd>`, built in one place.
pub fn term(term: &'static str, value: Html) -> Html {
    html! { <><dt>{ term }</dt><dd>{ value }</dd></> }
}
