//! Generic hooks: effects, loading remote data, running a submitted action, and live
//! updates. The hooks that read the app's state (`use_app`, `use_session`) are in
//! [`crate::state`].

mod action;
mod effect;
mod load;
mod realtime;

pub use action::{use_action, ActionHandle, Errors};
pub use effect::use_effect_on;
pub use load::{use_load, Loader, Remote};
pub use realtime::{paused_note_view, use_catch_up, use_coalesced, use_live_reload, use_realtime};
