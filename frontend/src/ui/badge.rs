//! Status and priority badges.

use crate::i18n::{label, t, Msg};
use domain::{TaskPriority, TaskStatus};
use yew::prelude::*;

/// Props of [`StatusBadge`].
#[derive(Properties, PartialEq)]
pub struct StatusBadgeProps {
    /// The status.
    pub status: TaskStatus,
}

/// A coloured status label.
#[function_component(StatusBadge)]
pub fn status_badge(props: &StatusBadgeProps) -> Html {
    status_badge_view(props.status)
}

/// The markup of [`StatusBadge`] without the component (smaller wasm at each use).
pub fn status_badge_view(status: TaskStatus) -> Html {
    state_badge_view(status.as_str(), label(status))
}

/// A status badge (of a task or of an attempt): `data-status` holds the status's value.
pub fn state_badge_view(status: &'static str, label: &'static str) -> Html {
    html! {
        <span class={classes!("badge", format!("status-{status}"))} data-status={status}>
            { label }
        </span>
    }
}

/// Props of [`PriorityBadge`].
#[derive(Properties, PartialEq)]
pub struct PriorityBadgeProps {
    /// The priority.
    pub priority: TaskPriority,
}

/// A priority label.
#[function_component(PriorityBadge)]
pub fn priority_badge(props: &PriorityBadgeProps) -> Html {
    priority_badge_view(props.priority)
}

/// The markup of [`PriorityBadge`] without the component (smaller wasm at each use).
pub fn priority_badge_view(priority: TaskPriority) -> Html {
    html! { <span class={classes!("badge", format!("priority-{}", priority.as_str()))}>{ label(priority) }</span> }
}

/// Props of [`ProgressBar`].
#[derive(Properties, PartialEq)]
pub struct ProgressBarProps {
    /// 0 to 100.
    pub value: i32,
}

/// A progress bar with its percentage.
#[function_component(ProgressBar)]
pub fn progress_bar(props: &ProgressBarProps) -> Html {
    progress_bar_view(props.value)
}

/// The markup of [`ProgressBar`] without the component (smaller wasm at each use).
pub fn progress_bar_view(value: i32) -> Html {
    let value = value.clamp(0, 100);
    html! {
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
             aria-valuenow={value.to_string()} aria-label={t(Msg::CommonProgress)}>
            <div class="progress-fill" style={format!("width: {value}%")}></div>
            <span class="progress-text">{ format!("{value}%") }</span>
        </div>
    }
}

/// Props of [`ProgressCell`].
#[derive(Properties, PartialEq)]
pub struct ProgressCellProps {
    /// The task.
    pub task: domain::Task,
}

/// A small progress bar while the task runs, nothing otherwise.
#[function_component(ProgressCell)]
pub fn progress_cell(props: &ProgressCellProps) -> Html {
    progress_cell_view(&props.task)
}

/// The markup of [`ProgressCell`] without the component (smaller wasm at each use).
pub fn progress_cell_view(task: &domain::Task) -> Html {
    if task.status == TaskStatus::Running {
        progress_bar_view(task.progress)
    } else {
        html! {}
    }
}
