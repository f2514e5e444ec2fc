//! Loading, empty and error states.

use yew::prelude::*;

use crate::error::AppError;
use crate::guard::login_url;
use crate::hooks::Remote;

/// Props of [`Loading`].
#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    /// What is loading.
    #[prop_or(AttrValue::Static("Loading…"))]
    pub label: AttrValue,
}

/// A spinner with words (announced to screen readers).
#[function_component(Loading)]
pub fn loading(props: &LoadingProps) -> Html {
    html! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{ props.label.clone() }</span>
        </div>
    }
}

/// Props of [`ErrorBox`].
#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    /// What went wrong.
    pub error: AppError,
    /// Offers "Try again" when given.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// An error in words, with "Try again" or "Sign in again".
#[function_component(ErrorBox)]
pub fn error_box(props: &ErrorBoxProps) -> Html {
    let action = if props.error.is_session_expired() {
        let path = gloo::utils::window()
            .location()
            .pathname()
            .unwrap_or_default();
        html! { <a class="button" href={login_url(&path)}>{ "Sign in again" }</a> }
    } else if let Some(retry) = &props.on_retry {
        let retry = retry.clone();
        html! { <button type="button" class="button" onclick={Callback::from(move |_| retry.emit(()))}>{ "Try again" }</button> }
    } else {
        html! {}
    };
    html! {
        <div class="alert error" role="alert">
            <p>{ props.error.to_string() }</p>
            { action }
        </div>
    }
}

/// Props of [`Empty`].
#[derive(Properties, PartialEq)]
pub struct EmptyProps {
    /// The headline.
    pub title: AttrValue,
    /// More words.
    #[prop_or_default]
    pub children: Html,
}

/// Nothing to show yet, and what to do about it.
#[function_component(Empty)]
pub fn empty(props: &EmptyProps) -> Html {
    html! {
        <div class="empty">
            <p class="empty-title">{ props.title.clone() }</p>
            { props.children.clone() }
        </div>
    }
}

/// Props of [`RemoteView`].
#[derive(Properties)]
pub struct RemoteViewProps<T: 'static> {
    /// The remote data.
    pub remote: Remote<T>,
    /// Draws the data.
    pub view: Callback<std::rc::Rc<T>, Html>,
    /// Reloads after an error.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
    /// What is loading.
    #[prop_or(AttrValue::Static("Loading…"))]
    pub label: AttrValue,
}

impl<T: 'static> PartialEq for RemoteViewProps<T> {
    fn eq(&self, other: &Self) -> bool {
        let same_remote = match (&self.remote, &other.remote) {
            (Remote::Loading, Remote::Loading) => true,
            (Remote::Ready(a), Remote::Ready(b)) => std::rc::Rc::ptr_eq(a, b),
            (Remote::Failed(a), Remote::Failed(b)) => a == b,
            _ => false,
        };
        same_remote
            && self.view == other.view
            && self.on_retry == other.on_retry
            && self.label == other.label
    }
}

/// Loading → spinner, failed → error box, ready → `view`.
#[function_component(RemoteView)]
pub fn remote_view<T: 'static>(props: &RemoteViewProps<T>) -> Html {
    match &props.remote {
        Remote::Loading => html! { <Loading label={props.label.clone()} /> },
        Remote::Failed(error) => {
            html! { <ErrorBox error={error.clone()} on_retry={props.on_retry.clone()} /> }
        }
        Remote::Ready(value) => props.view.emit(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::test_util::mount;

    #[wasm_bindgen_test]
    async fn error_box_says_what_happened_and_offers_a_retry() {
        let root = mount::<ErrorBox>(ErrorBoxProps {
            error: AppError::Forbidden,
            on_retry: Some(Callback::noop()),
        })
        .await;
        let alert = root
            .query_selector("[role=alert]")
            .expect("query")
            .expect("alert");
        assert!(alert
            .text_content()
            .unwrap_or_default()
            .contains("You don't have permission to do that."));
        let button = root
            .query_selector("button")
            .expect("query")
            .expect("button");
        assert_eq!(button.text_content().as_deref(), Some("Try again"));
    }
}
