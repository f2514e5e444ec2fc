//! `/tasks`, `/tasks/new`, `/tasks/:id`.

mod detail;
mod list;
pub mod wizard;

pub use detail::{poll_delay_ms, produced_file, TaskDetail};
pub use list::TaskList;
pub use wizard::NewTaskWizard;
