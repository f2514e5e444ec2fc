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
pub use feedback::{Empty, ErrorBox, Loading, RemoteView};
pub use field::{CheckboxField, SelectField, TextField};
pub use metric_card::MetricCard;
pub use pager::Pager;
