//! A download as a real link: `<a href={signed URL} download={name}>`.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::session::now_secs;
use crate::api::storage;
use crate::state::use_app;
use crate::ui::hooks::{use_load, Remote};

/// How long a signed link lives, in seconds.
pub const LINK_SECONDS: u32 = 3600;

/// A link older than this (seconds) is signed again when clicked, before it expires.
const STALE_AFTER: i64 = LINK_SECONDS as i64 - 300;

/// Whether a link signed at `signed_at` must be signed again at `now`.
pub fn is_stale(signed_at: i64, now: i64) -> bool {
    now - signed_at >= STALE_AFTER
}

/// Props of [`DownloadLink`].
#[derive(Properties, PartialEq)]
pub struct DownloadLinkProps {
    /// The Storage bucket.
    pub bucket: AttrValue,
    /// The object's path in the bucket.
    pub path: AttrValue,
    /// The file name the browser saves.
    pub name: AttrValue,
    /// The link's text.
    pub label: AttrValue,
    /// Its accessible name, when the text is not enough.
    #[prop_or_default]
    pub aria_label: Option<AttrValue>,
    /// Its classes (`button`, `button secondary`).
    pub class: AttrValue,
}

/// Signs the object's URL when it renders and shows it as an `<a download>`; a link
/// about to expire is signed again when clicked; while signing, or when signing failed,
/// a button downloads it on click instead.
#[function_component(DownloadLink)]
pub fn download_link(props: &DownloadLinkProps) -> Html {
    let ctx = use_app();
    let signed = use_load(
        (props.bucket.clone(), props.path.clone()),
        |api, (bucket, path)| async move {
            let url = storage::signed_url(&api, &bucket, &path, LINK_SECONDS).await?;
            Ok((url, now_secs()))
        },
    );
    let download_now = {
        let (bucket, path, name) = (props.bucket.clone(), props.path.clone(), props.name.clone());
        move || {
            let (ctx, bucket, path, name) =
                (ctx.clone(), bucket.clone(), path.clone(), name.clone());
            spawn_local(async move {
                match storage::signed_url(&ctx.api, &bucket, &path, LINK_SECONDS).await {
                    Ok(url) => storage::start_download(&url, &name),
                    Err(e) => ctx.notify_error(&e),
                }
            });
        }
    };
    match &signed.state {
        Remote::Ready(link) => {
            let signed_at = link.1;
            let onclick = Callback::from(move |e: MouseEvent| {
                if is_stale(signed_at, now_secs()) {
                    e.prevent_default();
                    download_now();
                }
            });
            html! {
                <a class={props.class.clone()} href={link.0.clone()} download={props.name.clone()}
                   target="_blank" rel="noopener" aria-label={props.aria_label.clone()} {onclick}>
                    { props.label.clone() }
                </a>
            }
        }
        _ => html! {
            <button type="button" class={props.class.clone()} aria-label={props.aria_label.clone()}
                onclick={Callback::from(move |_| download_now())}>
                { props.label.clone() }
            </button>
        },
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn links_are_signed_again_before_they_expire() {
        assert!(!is_stale(1000, 1000));
        assert!(!is_stale(1000, 1000 + STALE_AFTER - 1));
        assert!(is_stale(1000, 1000 + STALE_AFTER));
        assert!(STALE_AFTER < i64::from(LINK_SECONDS));
    }
}
