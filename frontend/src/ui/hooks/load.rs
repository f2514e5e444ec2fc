use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::error::AppError;
use crate::api::http::Api;
use crate::state::use_app;
use crate::ui::hooks::effect::ErasedDeps;

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
///
/// A thin generic shell over [`use_load_erased`]: the hooks, the effect and the
/// bookkeeping exist once in the wasm instead of once per use.
#[hook]
pub fn use_load<T, D, F, Fut>(deps: D, fetch: F) -> Loader<T>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(Api, D) -> Fut + 'static,
    Fut: Future<Output = Result<T, AppError>> + 'static,
{
    let erased = ErasedDeps::new(deps.clone());
    // A combinator, not an `async` block: no extra state machine per use.
    let fetch: ErasedFetch = Box::new(move |api| {
        fetch(api, deps)
            .map(|result| result.map(|value| Rc::new(value) as Rc<dyn Any>))
            .boxed_local()
    });
    let (state, reload) = use_load_erased(erased, fetch);
    let state = match state {
        None => Remote::Loading,
        Some(Ok(value)) => match value.downcast::<T>() {
            Ok(value) => Remote::Ready(value),
            // Unreachable: the value was made from a `T` just above.
            Err(_) => Remote::Loading,
        },
        Some(Err(error)) => Remote::Failed(error),
    };
    Loader { state, reload }
}

/// `fetch` with its deps, the answer's type erased.
type ErasedFetch = Box<dyn FnOnce(Api) -> LocalBoxFuture<'static, Result<Rc<dyn Any>, AppError>>>;

/// The state of an erased load: `None` while loading.
type ErasedState = Option<Result<Rc<dyn Any>, AppError>>;

#[hook]
fn use_load_erased(deps: ErasedDeps, fetch: ErasedFetch) -> (ErasedState, Callback<()>) {
    let api = use_app().api;
    let state = use_state(|| None::<Result<Rc<dyn Any>, AppError>>);
    let version = use_state(u32::default);
    let sequence = use_mut_ref(|| 0u64);
    let last_deps: Rc<RefCell<Option<ErasedDeps>>> = use_mut_ref(|| None);
    {
        let state = state.clone();
        let sequence = sequence.clone();
        use_effect_with((deps, *version), move |(deps, _)| {
            let changed = last_deps.borrow().as_ref() != Some(deps);
            if changed {
                *last_deps.borrow_mut() = Some(deps.clone());
                if state.is_some() {
                    state.set(None);
                }
            }
            *sequence.borrow_mut() += 1;
            let mine = *sequence.borrow();
            let future = fetch(api);
            {
                let sequence = sequence.clone();
                spawn_local(async move {
                    let result = future.await;
                    if *sequence.borrow() == mine {
                        state.set(Some(result));
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
    ((*state).clone(), reload)
}
