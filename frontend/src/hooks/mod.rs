//! Hooks with behaviour: the app context, the session, and loading remote data.

mod effect;
mod load;
mod realtime;
mod session;

pub use effect::use_effect_on;
pub use load::{use_load, Loader, Remote};
pub use realtime::{paused_note_view, use_catch_up, use_coalesced, use_live_reload, use_realtime};
pub use session::{use_session, SessionHandle};

use yew::prelude::*;

use crate::state::AppContext;

/// The app context (state + client). Every page is rendered inside its provider.
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("pages are rendered inside the AppContext provider")
}
