//! Status and priority badges.

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
    html! { <span class={classes!("badge", format!("status-{}", props.status.as_str()))}>{ props.status.label() }</span> }
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
    html! { <span class={classes!("badge", format!("priority-{}", props.priority.as_str()))}>{ props.priority.label() }</span> }
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
    let value = props.value.clamp(0, 100);
    html! {
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
             aria-valuenow={value.to_string()} aria-label="Progress">
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
    if props.task.status == TaskStatus::Running {
        html! { <ProgressBar value={props.task.progress} /> }
    } else {
        html! {}
    }
}
