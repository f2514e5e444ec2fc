//! Previous / next paging with "21–40 of 123".

use crate::i18n::th;
use crate::i18n::{t, tf, Msg};
use yew::prelude::*;

/// Props of [`Pager`].
#[derive(Properties, PartialEq)]
pub struct PagerProps {
    /// 0-based page.
    pub page: u64,
    /// Rows per page.
    pub page_size: u64,
    /// Rows in all pages.
    pub total: u64,
    /// `total` is a lower bound: more rows follow, uncounted ("21–40 of more than 40").
    #[prop_or_default]
    pub lower_bound: bool,
    /// Go to a page.
    pub on_page: Callback<u64>,
}

/// The first and last row numbers (1-based) shown on `page`.
pub fn shown_range(page: u64, page_size: u64, total: u64) -> (u64, u64) {
    if total == 0 {
        return (0, 0);
    }
    let first = page * page_size + 1;
    (first.min(total), ((page + 1) * page_size).min(total))
}

/// Paging controls.
#[function_component(Pager)]
pub fn pager(props: &PagerProps) -> Html {
    pager_view(
        props.page,
        props.page_size,
        props.total,
        props.lower_bound,
        &props.on_page,
    )
}

/// The markup of [`Pager`] without the component (one component less in the wasm).
pub fn pager_view(
    page: u64,
    page_size: u64,
    total: u64,
    lower_bound: bool,
    on_page: &Callback<u64>,
) -> Html {
    let props = PagerProps {
        page,
        page_size,
        total,
        lower_bound,
        on_page: on_page.clone(),
    };
    let (first, last) = shown_range(props.page, props.page_size, props.total);
    let pages = props.total.div_ceil(props.page_size.max(1));
    let go = |page: u64| {
        let cb = props.on_page.clone();
        Callback::from(move |_| cb.emit(page))
    };
    html! {
        <nav class="pager" aria-label={t(Msg::PagerLabel)}>
            <button type="button" class="button secondary" disabled={props.page == 0}
                onclick={go(props.page.saturating_sub(1))}>{ th(Msg::PagerPrevious) }</button>
            <span>{ {
                let (first, last, total) = (first.to_string(), last.to_string(), props.total.to_string());
                let args = [("first", first.as_str()), ("last", last.as_str()), ("total", total.as_str())];
                tf(if lower_bound { Msg::PagerRangeMore } else { Msg::PagerRange }, &args)
            } }</span>
            <button type="button" class="button secondary" disabled={props.page + 1 >= pages}
                onclick={go(props.page + 1)}>{ th(Msg::PagerNext) }</button>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    async fn buttons_are_disabled_at_the_ends() {
        let root = crate::test_util::mount::<Pager>(PagerProps {
            page: 0,
            page_size: 20,
            total: 45,
            lower_bound: false,
            on_page: Callback::noop(),
        })
        .await;
        let buttons = root.query_selector_all("button").expect("query");
        assert_eq!(buttons.length(), 2);
        let disabled = |i| {
            buttons
                .item(i)
                .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
                .is_some_and(|e| e.has_attribute("disabled"))
        };
        assert!(disabled(0), "no previous page on the first page");
        assert!(!disabled(1));
        assert!(root
            .text_content()
            .unwrap_or_default()
            .contains("1–20 of 45"));
    }

    #[wasm_bindgen_test]
    async fn an_uncounted_page_says_more_follow_and_offers_the_next() {
        // Page 2 of 20 rows, and the list knows only that a row follows: total 41.
        let root = crate::test_util::mount::<Pager>(PagerProps {
            page: 1,
            page_size: 20,
            total: 41,
            lower_bound: true,
            on_page: Callback::noop(),
        })
        .await;
        assert!(root
            .text_content()
            .unwrap_or_default()
            .contains("21–40 of more than 40"));
        let next = root
            .query_selector("button:last-child")
            .ok()
            .flatten()
            .expect("the next button");
        assert!(!next.has_attribute("disabled"), "a next page follows");
    }

    #[wasm_bindgen_test]
    fn range_of_a_page() {
        assert_eq!(shown_range(0, 20, 45), (1, 20));
        assert_eq!(shown_range(2, 20, 45), (41, 45));
        assert_eq!(shown_range(0, 20, 0), (0, 0));
    }
}
