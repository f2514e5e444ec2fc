use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::error::AppError;
use crate::hooks::use_app;
use crate::services::http::Api;

/// Data from the server: loading, there, or failed.
#[derive(Debug, PartialEq)]
pub enum Remote<T> {
    /// Not there yet.
    Loading,
    /// There.
    Ready(Rc<T>),
    /// Failed; the error says why in words.
    Failed(AppError),
}

impl<T> Clone for Remote<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Loading => Self::Loading,
            Self::Ready(value) => Self::Ready(value.clone()),
            Self::Failed(error) => Self::Failed(error.clone()),
        }
    }
}

impl<T> Remote<T> {
    /// The data, when there.
    pub fn ready(&self) -> Option<&Rc<T>> {
        match self {
            Self::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// What [`use_load`] gives: the state, and a way to load again.
pub struct Loader<T> {
    /// The current state.
    pub state: Remote<T>,
    /// Loads again, keeping the current data on screen until the answer arrives.
    pub reload: Callback<()>,
}

/// Loads data with `fetch(api, deps)` whenever `deps` change (showing `Loading`), or when
/// `reload` is called (keeping the data on screen). Late answers of earlier loads are
/// dropped.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, fetch: F) -> Loader<T>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(Api, D) -> Fut + 'static,
    Fut: Future<Output = Result<T, AppError>> + 'static,
{
    let api = use_app().api;
    let state = use_state(|| Remote::<T>::Loading);
    let version = use_state(|| 0u32);
    let sequence = use_mut_ref(|| 0u64);
    let last_deps: Rc<RefCell<Option<D>>> = use_mut_ref(|| None);
    {
        let state = state.clone();
        let sequence = sequence.clone();
        use_effect_with((deps, *version), move |(deps, _)| {
            let changed = last_deps.borrow().as_ref() != Some(deps);
            if changed {
                *last_deps.borrow_mut() = Some(deps.clone());
                if !matches!(*state, Remote::Loading) {
                    state.set(Remote::Loading);
                }
            }
            *sequence.borrow_mut() += 1;
            let mine = *sequence.borrow();
            let future = fetch(api, deps.clone());
            {
                let sequence = sequence.clone();
                spawn_local(async move {
                    let result = future.await;
                    if *sequence.borrow() == mine {
                        state.set(match result {
                            Ok(value) => Remote::Ready(Rc::new(value)),
                            Err(error) => Remote::Failed(error),
                        });
                    }
                });
            }
            move || {
                *sequence.borrow_mut() += 1;
            }
        });
    }
    let reload = {
        let version = version.clone();
        Callback::from(move |()| version.set(version.wrapping_add(1)))
    };
    Loader {
        state: (*state).clone(),
        reload,
    }
}
