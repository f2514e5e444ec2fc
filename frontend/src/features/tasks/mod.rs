//! `/tasks`, `/tasks/new`, `/tasks/:id`.

mod detail;
mod list;
pub mod wizard;

pub use detail::{poll_delay_ms, produced_file, task_detail};
pub use list::TaskList;
pub use wizard::NewTaskWizard;
