//! `use_action`: whether a submitted action is running and why it last failed, for every
//! form and button that starts a request (what jetli's realworld app does with
//! `use_async`), instead of a `busy` and an `error` state and a `spawn_local` written out
//! in each callback.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture};
use uuid::Uuid;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::error::AppError;
use crate::state::AppContext;

/// Where the error of a failed run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// Kept in the handle ([`ActionHandle::error`]) for the form to show.
    Kept,
    /// Shown as the app's notice (outside the app's context, kept as with
    /// [`Errors::Kept`]).
    Notified,
}

/// What [`use_action`] gives: the state of the action and the way to run it. Cheap to
/// clone into callbacks.
#[derive(Clone)]
pub struct ActionHandle {
    /// `Some(key)` while a run is under way (`Uuid::nil()` for [`ActionHandle::run`]).
    busy: UseStateHandle<Option<Uuid>>,
    error: UseStateHandle<Option<AppError>>,
    /// The same as `busy`, but seen at once: a second click before the next render is
    /// refused as well.
    running: Rc<RefCell<Option<Uuid>>>,
    /// Where errors go when they are [`Errors::Notified`].
    notice: Option<AppContext>,
}

impl ActionHandle {
    /// `true` while a run is under way.
    pub fn busy(&self) -> bool {
        self.busy.is_some()
    }

    /// `true` while the run for `key` is under way ([`ActionHandle::run_for`]).
    pub fn busy_for(&self, key: Uuid) -> bool {
        *self.busy == Some(key)
    }

    /// Why the last run failed (or what [`ActionHandle::fail`] was given); cleared when a
    /// run starts. Always `None` for [`Errors::Notified`].
    pub fn error(&self) -> Option<&AppError> {
        (*self.error).as_ref()
    }

    /// Reports `error` as a failed run would (a check before the request, say).
    pub fn fail(&self, error: AppError) {
        match &self.notice {
            Some(ctx) => ctx.notify_error(&error),
            None => self.error.set(Some(error)),
        }
    }

    /// Forgets the error.
    pub fn clear(&self) {
        self.error.set(None);
    }

    /// Runs `action` unless a run is under way: busy until it ends, its error reported as
    /// the hook was told. What follows success (a notice, going to another page) is part
    /// of `action`.
    pub fn run<F>(&self, action: F)
    where
        F: Future<Output = Result<(), AppError>> + 'static,
    {
        self.start(Uuid::nil(), action.boxed_local());
    }

    /// [`ActionHandle::run`] for one row of a list (`key`): [`ActionHandle::busy_for`]
    /// tells which row is waiting; another row may start meanwhile.
    pub fn run_for<F>(&self, key: Uuid, action: F)
    where
        F: Future<Output = Result<(), AppError>> + 'static,
    {
        self.start(key, action.boxed_local());
    }

    /// The one non-generic body of [`ActionHandle::run`] / [`ActionHandle::run_for`]: it
    /// exists once in the wasm, whatever the actions.
    fn start(&self, key: Uuid, action: LocalBoxFuture<'static, Result<(), AppError>>) {
        if *self.running.borrow() == Some(key) {
            return;
        }
        *self.running.borrow_mut() = Some(key);
        self.busy.set(Some(key));
        if self.notice.is_none() {
            self.error.set(None);
        }
        let this = self.clone();
        spawn_local(async move {
            let result = action.await;
            *this.running.borrow_mut() = None;
            if let Err(error) = result {
                this.fail(error);
            }
            this.busy.set(None);
        });
    }
}

/// A submitted action's busy and error state: `handle.run(async move { … })` from the
/// callback, `handle.busy()` for the button, `handle.error()` under the form.
#[hook]
pub fn use_action(errors: Errors) -> ActionHandle {
    let context = use_context::<AppContext>();
    let busy = use_state(|| None::<Uuid>);
    let error = use_state(|| None::<AppError>);
    let running = use_mut_ref(|| None::<Uuid>);
    ActionHandle {
        busy,
        error,
        running,
        notice: context.filter(|_| errors == Errors::Notified),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use gloo::timers::future::TimeoutFuture;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[derive(Properties, PartialEq)]
    struct FormProps {
        runs: Rc<Cell<u32>>,
    }

    /// A form whose action waits a little, then fails.
    #[function_component(Form)]
    fn form(props: &FormProps) -> Html {
        let action = use_action(Errors::Kept);
        let onclick = {
            let (action, runs) = (action.clone(), props.runs.clone());
            Callback::from(move |_| {
                let runs = runs.clone();
                action.run(async move {
                    runs.set(runs.get() + 1);
                    TimeoutFuture::new(40).await;
                    Err(AppError::Invalid("That did not work.".into()))
                });
            })
        };
        html! {
            <>
                <button {onclick} disabled={action.busy()}>
                    { if action.busy() { "Saving…" } else { "Save" } }
                </button>
                if let Some(e) = action.error() { <p class="error">{ e.to_string() }</p> }
            </>
        }
    }

    fn click(root: &web_sys::Element) {
        root.query_selector("button")
            .ok()
            .flatten()
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
            .expect("a button")
            .click();
    }

    #[wasm_bindgen_test]
    async fn busy_while_running_then_the_error_once() {
        let runs = Rc::new(Cell::new(0));
        let root = crate::test_util::mount::<Form>(FormProps { runs: runs.clone() }).await;
        click(&root);
        // A second submission before the next render is refused.
        click(&root);
        TimeoutFuture::new(10).await;
        assert_eq!(root.text_content().unwrap_or_default(), "Saving…");
        TimeoutFuture::new(80).await;
        assert_eq!(runs.get(), 1);
        assert_eq!(
            root.text_content().unwrap_or_default(),
            "SaveThat did not work."
        );
        // Running again clears the error while it runs.
        click(&root);
        TimeoutFuture::new(10).await;
        assert_eq!(root.text_content().unwrap_or_default(), "Saving…");
        TimeoutFuture::new(80).await;
        assert_eq!(runs.get(), 2);
        root.remove();
    }
}
