//! Helpers for the wasm tests: mount a component into a fresh `<div>` and wait for it.

use yew::BaseComponent;

/// Renders `C` with `props` into a new `<div>` in `<body>` and returns the div once
/// Yew has rendered.
pub(crate) async fn mount<C>(props: C::Properties) -> web_sys::Element
where
    C: BaseComponent,
{
    let document = gloo::utils::document();
    let root = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&root)
        .expect("appended");
    yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    gloo::timers::future::TimeoutFuture::new(30).await;
    root
}
