//! A small router of our own (instead of `yew-router`, which brought gloo-history with
//! serde query and state handling, route-recognizer and generic `Switch`/`Link` code:
//! about 29 KB of gzip wasm).
//!
//! - [`Route::recognize`](crate::ui::route::Route::recognize) / `to_path` (in [`route`](crate::ui::route)) map
//!   addresses to pages and back — pure, tested.
//! - [`Router`] holds the current [`Location`] and gives it to everything below it as a
//!   context; it follows `popstate` (back / forward) and our own [`push`] / [`replace`].
//! - [`push`] / [`replace`]: `history.pushState` / `replaceState`, then the page follows.
//! - [`link`]: a real `<a href>` (open in a new tab, copy the link…), whose plain left
//!   clicks navigate without reloading.

use gloo::events::EventListener;
use yew::prelude::*;

use crate::ui::hooks::use_effect_on;
use crate::ui::route::Route;

/// Where the app is: path, query string and the page they mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `/tasks`.
    pub path: String,
    /// `?status=failed`, or empty.
    pub query: String,
    /// The page at `path`.
    pub route: Route,
}

impl Location {
    /// The browser's current address.
    pub fn current() -> Self {
        let location = gloo::utils::window().location();
        let path = location.pathname().unwrap_or_else(|_| "/".into());
        let query = location.search().unwrap_or_default();
        Self {
            route: Route::recognize(&path),
            path,
            query,
        }
    }

    /// Path and query (`/tasks?status=failed`).
    pub fn full(&self) -> String {
        format!("{}{}", self.path, self.query)
    }
}

/// The current [`Location`] (re-renders the caller when it changes).
#[hook]
pub fn use_location() -> Location {
    use_context::<Location>().unwrap_or_else(Location::current)
}

/// Goes to `path` (path + query of this site), as a new history entry, at the top of
/// the page.
pub fn push(path: &str) {
    go(path, false);
}

/// [`push`] of a page's address.
pub fn push_route(route: &Route) {
    push(&route.to_path());
}

/// Goes to `path` in place of the current history entry (redirects, the task list's
/// filters in the address).
pub fn replace(path: &str) {
    go(path, true);
}

fn go(path: &str, replace: bool) {
    let window = gloo::utils::window();
    if let Ok(history) = window.history() {
        let state = wasm_bindgen::JsValue::NULL;
        let _ = if replace {
            history.replace_state_with_url(&state, "", Some(path))
        } else {
            history.push_state_with_url(&state, "", Some(path))
        };
    }
    if !replace {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
    // The router follows `popstate`: tell it the address changed.
    if let Ok(event) = web_sys::Event::new(POPSTATE) {
        let _ = window.dispatch_event(&event);
    }
}

const POPSTATE: &str = "popstate";

/// Whether a click on a link is ours to handle: a plain left click. Ctrl / Meta / Shift /
/// Alt clicks and other buttons are left to the browser (new tab, new window, download).
pub fn is_plain_click(button: i16, ctrl: bool, meta: bool, shift: bool, alt: bool) -> bool {
    button == 0 && !(ctrl || meta || shift || alt)
}

/// `<a href={to} class={classes}>{ children }</a>`, navigating in the app on plain
/// left clicks.
pub fn link(to: &Route, classes: Classes, children: Html) -> Html {
    let href = AttrValue::from(to.to_path());
    let onclick = {
        let href = href.clone();
        Callback::from(move |e: MouseEvent| {
            if !e.default_prevented()
                && is_plain_click(
                    e.button(),
                    e.ctrl_key(),
                    e.meta_key(),
                    e.shift_key(),
                    e.alt_key(),
                )
            {
                e.prevent_default();
                push(&href);
            }
        })
    };
    html! { <a {href} class={classes} {onclick}>{ children }</a> }
}

/// Props of [`Router`].
#[derive(Properties, PartialEq)]
pub struct RouterProps {
    /// What follows the address (reads it with [`use_location`]).
    pub children: Html,
}

/// Holds the current [`Location`] for everything below it.
#[function_component(Router)]
pub fn router(props: &RouterProps) -> Html {
    let location = use_state_eq(Location::current);
    {
        let setter = location.setter();
        use_effect_on((), move |_| {
            let listener = {
                let setter = setter.clone();
                EventListener::new(&gloo::utils::window(), POPSTATE, move |_| {
                    setter.set(Location::current());
                })
            };
            // Children's effects run before this one: a redirect made by one of them
            // during the first render (the guard's) has not been heard. Catch up.
            setter.set(Location::current());
            move || drop(listener)
        });
    }
    html! {
        <ContextProvider<Location> context={(*location).clone()}>
            { props.children.clone() }
        </ContextProvider<Location>>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn only_plain_left_clicks_are_ours() {
        assert!(is_plain_click(0, false, false, false, false));
        assert!(
            !is_plain_click(1, false, false, false, false),
            "middle click"
        );
        assert!(!is_plain_click(0, true, false, false, false), "ctrl");
        assert!(!is_plain_click(0, false, true, false, false), "meta");
        assert!(!is_plain_click(0, false, false, true, false), "shift");
        assert!(!is_plain_click(0, false, false, false, true), "alt");
    }

    #[function_component(Probe)]
    fn probe() -> Html {
        let location = use_location();
        html! { <p>{ location.full() }</p> }
    }

    #[function_component(Harness)]
    fn harness() -> Html {
        html! { <Router><Probe /></Router> }
    }

    /// Redirects as soon as it is first rendered, like the guard.
    #[function_component(Redirect)]
    fn redirect() -> Html {
        let location = use_location();
        use_effect_on((), |_| replace("/auth/login?next=%2Fdashboard"));
        html! { <p>{ location.full() }</p> }
    }

    #[function_component(RedirectHarness)]
    fn redirect_harness() -> Html {
        html! { <Router><Redirect /></Router> }
    }

    #[wasm_bindgen_test]
    async fn a_redirect_on_the_first_render_is_followed() {
        let before = Location::current().full();
        let root = crate::test_util::mount::<RedirectHarness>(()).await;
        gloo::timers::future::TimeoutFuture::new(30).await;
        assert_eq!(
            root.text_content().unwrap_or_default(),
            "/auth/login?next=%2Fdashboard"
        );
        replace(&before);
        root.remove();
    }

    #[wasm_bindgen_test]
    async fn the_page_follows_the_address() {
        let before = Location::current().full();
        let root = crate::test_util::mount::<Harness>(()).await;
        assert_eq!(root.text_content().unwrap_or_default(), before);
        push("/tasks?q=x");
        gloo::timers::future::TimeoutFuture::new(30).await;
        assert_eq!(root.text_content().unwrap_or_default(), "/tasks?q=x");
        replace(&before);
        gloo::timers::future::TimeoutFuture::new(30).await;
        assert_eq!(root.text_content().unwrap_or_default(), before);
        root.remove();
    }

    #[wasm_bindgen_test]
    fn push_and_replace_change_the_address_and_the_route() {
        let before = Location::current().full();
        push("/tasks?status=failed");
        let here = Location::current();
        assert_eq!(here.path, "/tasks");
        assert_eq!(here.query, "?status=failed");
        assert_eq!(here.route, Route::Tasks);
        assert_eq!(here.full(), "/tasks?status=failed");
        replace("/tasks/abc");
        assert_eq!(
            Location::current().route,
            Route::TaskDetail { id: "abc".into() }
        );
        replace(&before);
    }
}
