//! Reusable pieces, each with its `Props`.

pub mod badge;
pub mod chart;
pub mod feedback;
pub mod field;
pub mod layout;
pub mod metric_card;
pub mod pager;

pub use badge::{PriorityBadge, ProgressBar, ProgressCell, StatusBadge};
pub use chart::{Chart, ChartKind};
pub use feedback::{remote_view, Empty, ErrorBox, Loading};
pub use field::{CheckboxField, SelectField, TextField};
pub use metric_card::MetricCard;
pub use pager::Pager;

use yew::prelude::*;
use yew_router::prelude::Link;

use crate::app::Route;

/// `<Link<Route> to={to} classes={classes}>{ text }</Link<Route>>`: the same `<a>`, but
/// the link's props are built here once instead of at each of its ~35 uses (smaller wasm).
pub fn route_link(to: Route, classes: &'static str, text: impl Into<AttrValue>) -> Html {
    route_link_text(to, classes, text.into())
}

fn route_link_text(to: Route, classes: &'static str, text: AttrValue) -> Html {
    html! { <Link<Route> {to} {classes}>{ text }</Link<Route>> }
}

/// `<th scope="col">` cells with plain titles, built in one place (the same cells, less
/// wasm than one `html!` element per title).
pub fn column_titles(titles: &[&'static str]) -> Html {
    titles
        .iter()
        .map(|title| html! { <th scope="col">{ *title }</th> })
        .collect()
}

/// `<dt>{ term }</dt><dd>{ value }</dd>`, built in one place.
pub fn term(term: &'static str, value: Html) -> Html {
    html! { <><dt>{ term }</dt><dd>{ value }</dd></> }
}
