//! The administrators' pages, in their own module: nothing outside it depends on them,
//! and they use only the shared components and `services::admin`. (Yew has no lazy
//! loading of code: they are in the same wasm, kept lean.) The database refuses every
//! admin call to non-admins anyway; the guard only spares them a page of errors.

mod overview;
mod system;
mod users;

pub use overview::AdminOverview;
pub use system::AdminSystem;
pub use users::AdminUsers;
