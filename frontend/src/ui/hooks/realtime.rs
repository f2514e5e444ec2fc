//! `use_realtime`: a component's channel on the tab's Realtime socket, and the pieces
//! pages build on it (a coalesced reload, the "paused" note).

use crate::i18n::th;
use crate::i18n::Msg;
use std::time::Duration;

use yew::platform::spawn_local;
use yew::platform::time::sleep;
use yew::prelude::*;

use crate::api::realtime::{self, Binding, Change, Feed};
use crate::state::use_app;
use crate::ui::hooks::use_effect_on;

/// Subscribes to `bindings` (again whenever they change; none: no channel) and calls
/// `on_change` with every change the user may see. Returns where the channel stands: a
/// page polls as before while it is not [`Feed::Live`].
#[hook]
pub fn use_realtime(bindings: Vec<Binding>, on_change: Callback<Change>) -> Feed {
    let ctx = use_app();
    let feed = use_state(|| Feed::Connecting);
    // The newest callback (it captures the newest state), called by the one subscription.
    let latest = use_mut_ref(|| on_change.clone());
    *latest.borrow_mut() = on_change;
    let token = ctx.state.session.as_ref().map(|s| s.access_token.clone());
    {
        let (api, feed, token) = (ctx.api.clone(), feed.clone(), token.clone());
        use_effect_on(bindings, move |bindings| {
            let id = (!bindings.is_empty()).then(|| {
                let base = api.rest("");
                let url = realtime::socket_url(base.trim_end_matches("/rest/v1/"), &api.anon_key());
                realtime::subscribe(
                    &url,
                    token,
                    bindings.clone(),
                    Callback::from(move |change| latest.borrow().emit(change)),
                    Callback::from(move |next| feed.set(next)),
                )
            });
            move || {
                if let Some(id) = id {
                    realtime::unsubscribe(id);
                }
            }
        });
    }
    use_effect_on(token, |token| realtime::set_token(token.clone()));
    *feed
}

/// `reload`, called at most once per `ms` however many changes come in (a burst of log
/// lines or queue changes makes one request).
#[hook]
pub fn use_coalesced(reload: Callback<()>, ms: u64) -> Callback<()> {
    let pending = use_mut_ref(bool::default);
    let latest = use_mut_ref(|| reload.clone());
    *latest.borrow_mut() = reload;
    Callback::from(move |()| {
        if pending.replace(true) {
            return;
        }
        let (pending, latest) = (pending.clone(), latest.clone());
        spawn_local(async move {
            sleep(Duration::from_millis(ms)).await;
            *pending.borrow_mut() = false;
            let reload = latest.borrow().clone();
            reload.emit(());
        });
    })
}

/// Calls `reload` each time the channel becomes live: what changed before it was (while
/// the page loaded, or while the socket was down) is read once.
#[hook]
pub fn use_catch_up(feed: Feed, reload: Callback<()>) {
    use_effect_on(feed == Feed::Live, move |live| {
        if *live {
            reload.emit(());
        }
    });
}

/// The note a page shows while its live updates are down and it polls.
pub fn paused_note_view(feed: Feed) -> Html {
    if feed == Feed::Paused {
        html! {
            <p class="muted live-paused" role="status" data-realtime="paused">
                { th(Msg::LivePaused) }
            </p>
        }
    } else {
        Html::default()
    }
}

/// A page whose data is read again on any change of `bindings` (coalesced over `ms`), once
/// whenever the channel becomes live, and every `fallback_ms` while it is paused.
#[hook]
pub fn use_live_reload(
    bindings: Vec<Binding>,
    reload: Callback<()>,
    ms: u64,
    fallback_ms: u32,
) -> Feed {
    let coalesced = use_coalesced(reload.clone(), ms);
    let feed = use_realtime(bindings, Callback::from(move |_| coalesced.emit(())));
    use_catch_up(feed, reload.clone());
    use_effect_on(feed == Feed::Paused, move |paused| {
        let poll = paused
            .then(|| gloo::timers::callback::Interval::new(fallback_ms, move || reload.emit(())));
        move || drop(poll)
    });
    feed
}
