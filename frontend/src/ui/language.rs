//! The language switch of the header and the profile page.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::th;
use crate::i18n::{t, Lang, Msg};
use crate::state::use_app;

/// Props of [`LanguageSwitch`].
#[derive(Properties, PartialEq)]
pub struct LanguageSwitchProps {
    /// The select's id (a page may hold two switches).
    pub id: AttrValue,
    /// Shows the word "Language" beside it (else it is only its accessible name).
    #[prop_or_default]
    pub labelled: bool,
}

/// A select of the languages, each in its own name; choosing one switches the app and,
/// once signed in, saves it in the profile.
#[function_component(LanguageSwitch)]
pub fn language_switch(props: &LanguageSwitchProps) -> Html {
    let ctx = use_app();
    let current = ctx.state.lang;
    // The language whose catalog is on its way.
    let pending = use_state(|| None::<Lang>);
    let onchange = {
        let pending = pending.clone();
        Callback::from(move |e: Event| {
            let lang = e
                .target_dyn_into::<HtmlSelectElement>()
                .and_then(|select| Lang::parse(&select.value()));
            if let Some(lang) = lang.filter(|lang| *lang != ctx.state.lang) {
                pending.set(Some(lang));
                let pending = pending.clone();
                ctx.choose_lang(lang, Callback::from(move |()| pending.set(None)));
            }
        })
    };
    let loading = pending.is_some();
    let select = html! {
        <select id={props.id.clone()} class="language" data-language={current.code()}
                aria-label={(!props.labelled).then(|| t(Msg::LayoutLanguage))}
                aria-busy={loading.then_some("true")} disabled={loading} {onchange}>
            { for Lang::ALL.iter().map(|lang| html! {
                <option value={lang.code()} lang={lang.code()} selected={*lang == current}>{ lang.name() }</option>
            }) }
        </select>
    };
    let select = if loading {
        html! { <>{ select }<span class="language-loading" role="status">{ th(Msg::CommonLoading) }</span></> }
    } else {
        select
    };
    if props.labelled {
        html! {
            <div class="field">
                <label for={props.id.clone()}>{ th(Msg::LayoutLanguage) }</label>
                { select }
            </div>
        }
    } else {
        select
    }
}
