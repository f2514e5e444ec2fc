//! Loading, empty and error states.

use crate::i18n::{t, Msg};
use std::rc::Rc;

use yew::prelude::*;

use crate::api::error::AppError;
use crate::state::access::login_url;
use crate::ui::hooks::Remote;

/// Props of [`Loading`].
#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    /// What is loading.
    #[prop_or(AttrValue::Static(t(Msg::CommonLoading)))]
    pub label: AttrValue,
}

/// A spinner with words (announced to screen readers).
#[function_component(Loading)]
pub fn loading(props: &LoadingProps) -> Html {
    loading_markup(props.label.clone())
}

/// The markup of [`Loading`] without the component (smaller wasm at each use).
pub fn loading_view(label: &'static str) -> Html {
    loading_markup(AttrValue::Static(label))
}

fn loading_markup(label: AttrValue) -> Html {
    html! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{ label }</span>
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
    error_view(props.error.clone(), props.on_retry.clone())
}

/// The markup of [`ErrorBox`] without the component (smaller wasm at each use).
pub fn error_view(error: AppError, on_retry: Option<Callback<()>>) -> Html {
    let action = if error.is_session_expired() || error == AppError::MfaRequired {
        let path = gloo::utils::window()
            .location()
            .pathname()
            .unwrap_or_default();
        let label = if error == AppError::MfaRequired {
            t(Msg::ErrorEnterCode)
        } else {
            t(Msg::ErrorSignInAgain)
        };
        html! { <a class="button" href={login_url(&path)}>{ label }</a> }
    } else if let Some(retry) = on_retry {
        html! { { crate::ui::button("button", t(Msg::CommonTryAgain), false, Callback::from(move |_| retry.emit(()))) } }
    } else {
        html! {}
    };
    html! {
        <div class="alert error" role="alert">
            <p>{ error.to_string() }</p>
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
    empty_markup(props.title.clone(), props.children.clone())
}

/// The markup of [`Empty`] without the component (smaller wasm at each use).
pub fn empty_view(title: &'static str, children: Html) -> Html {
    empty_markup(AttrValue::Static(title), children)
}

fn empty_markup(title: AttrValue, children: Html) -> Html {
    html! {
        <div class="empty">
            <p class="empty-title">{ title }</p>
            { children }
        </div>
    }
}

/// Loading → spinner, failed → error box (with "Try again" calling `on_retry`), ready →
/// `view`.
///
/// A function rather than a generic component: the same elements, without a component
/// type (and its lifecycle code) per row type in the wasm.
pub fn remote_view<T: 'static>(
    remote: Remote<T>,
    view: Callback<Rc<T>, Html>,
    on_retry: Callback<()>,
    label: &'static str,
) -> Html {
    match remote {
        Remote::Ready(value) => view.emit(value),
        Remote::Loading => loading_view(label),
        Remote::Failed(error) => error_view(error, Some(on_retry)),
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
