//! The reader's locale: their language, their time zone and the currency of business
//! amounts. The lowest layer of the SPA (beside `domain`): it imports nothing else of the
//! crate, so every other layer may use it.
//!
//! One locale is current at a time, kept in a thread-local (the browser runs one thread):
//! the app sets it from the profile, the browser and the system settings before it renders,
//! and the formatting in `ui::format` and the messages read it, so no component has to pass
//! it around.

mod catalog;
pub mod errors;
mod labels;

use std::cell::RefCell;

pub use catalog::{
    fill, form, install, load, loaded, t, text, tf, th, tn, CatalogError, Msg, COUNT, KEYS_HASH,
};
pub use labels::{label, Label};

pub use domain::Lang;

/// "Starting Taskdeck…" in `lang`: shown while its catalog is still on its way (the same
/// words as `app.starting` of the catalogs).
pub fn starting(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Starting Taskdeck…",
        Lang::Id => "Memulai Taskdeck…",
    }
}

/// The browser's IANA time zone (`UTC` when it names none).
pub fn browser_time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|zone| !zone.is_empty())
        .unwrap_or_else(|| "UTC".into())
}

/// Where the browser remembers the language chosen before sign-in (`localStorage`).
pub const STORAGE_KEY: &str = "taskdeck.lang";

/// The language of this browser: the one remembered in `localStorage`, else the first of
/// `navigator.languages` that the SPA speaks (remembered from then on), else English.
pub fn browser_lang() -> Lang {
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    if let Some(lang) = storage
        .as_ref()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|code| Lang::parse(&code))
    {
        return lang;
    }
    let preferred: Vec<String> = web_sys::window()
        .map(|w| {
            w.navigator()
                .languages()
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default();
    let lang = Lang::choose(preferred.iter().map(String::as_str));
    remember(lang);
    lang
}

/// Remembers `lang` in this browser (`localStorage`) and puts it on `<html lang>`.
pub fn remember(lang: Lang) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(STORAGE_KEY, lang.code());
    }
    show(lang);
}

/// Puts `lang` on `<html lang>` (without remembering it: English shown because the
/// reader's own catalog could not be loaded).
pub fn show(lang: Lang) {
    if let Some(html) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = html.set_attribute("lang", lang.code());
    }
}

/// The language in a profile's `preferences` (`{"language": "id"}`), if any it speaks.
pub fn from_preferences(preferences: &serde_json::Value) -> Option<Lang> {
    preferences
        .get("language")
        .and_then(|v| v.as_str())
        .and_then(|code| Lang::parse(code).filter(|lang| lang.code() == code))
}

/// Loads the catalog of `lang`, else English's: the language to show, and why `lang`'s
/// could not be loaded (when it could not); `Err` when not even English's could.
pub async fn load_or_english(lang: Lang) -> Result<(Lang, Option<CatalogError>), CatalogError> {
    match load(lang).await {
        Ok(()) => Ok((lang, None)),
        Err(error) if lang != Lang::En => load(Lang::En).await.map(|()| (Lang::En, Some(error))),
        Err(error) => Err(error),
    }
}

/// Makes `lang` the current language (keeping zone and currency); `true` when it changed.
pub fn set_lang(lang: Lang) -> bool {
    CURRENT.with(|c| {
        let mut current = c.borrow_mut();
        let changed = current.lang != lang;
        current.lang = lang;
        changed
    })
}

/// The currency of business amounts when the system settings name none.
pub const DEFAULT_CURRENCY: &str = "IDR";

/// Who is reading: language, IANA time zone, currency (ISO 4217).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    /// The language of every word.
    pub lang: Lang,
    /// The IANA zone every date and time is shown in (`Asia/Jakarta`).
    pub time_zone: String,
    /// The currency of business amounts (`IDR`).
    pub currency: String,
}

impl Default for Locale {
    fn default() -> Self {
        Self {
            lang: Lang::En,
            time_zone: "UTC".into(),
            currency: DEFAULT_CURRENCY.into(),
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Locale> = RefCell::new(Locale::default());
}

/// The current locale.
pub fn current() -> Locale {
    CURRENT.with(|c| c.borrow().clone())
}

/// The current language.
pub fn lang() -> Lang {
    CURRENT.with(|c| c.borrow().lang)
}

/// Makes `locale` current; `true` when it differs from the one before (the app then
/// re-renders).
pub fn set(locale: Locale) -> bool {
    CURRENT.with(|c| {
        let mut current = c.borrow_mut();
        let changed = *current != locale;
        *current = locale;
        changed
    })
}

#[cfg(test)]
mod browser_tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn storage() -> web_sys::Storage {
        gloo::utils::window()
            .local_storage()
            .ok()
            .flatten()
            .expect("localStorage")
    }

    fn html_lang() -> Option<String> {
        gloo::utils::document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
    }

    #[wasm_bindgen_test]
    fn the_first_visit_takes_the_browsers_language_and_remembers_it() {
        let storage = storage();
        let _ = storage.remove_item(STORAGE_KEY);
        let languages: Vec<String> = gloo::utils::window()
            .navigator()
            .languages()
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        let from_browser = browser_lang();
        assert_eq!(
            from_browser,
            Lang::choose(languages.iter().map(String::as_str))
        );
        assert_eq!(
            storage.get_item(STORAGE_KEY).ok().flatten().as_deref(),
            Some(from_browser.code())
        );
        // A language chosen before is kept, and shown on <html lang>.
        remember(Lang::Id);
        assert_eq!(browser_lang(), Lang::Id);
        assert_eq!(html_lang().as_deref(), Some("id"));
        let _ = storage.set_item(STORAGE_KEY, "xx");
        assert_eq!(browser_lang(), from_browser, "an unknown code is not kept");
        remember(Lang::En);
        assert_eq!(html_lang().as_deref(), Some("en"));
        let _ = storage.remove_item(STORAGE_KEY);
    }

    #[wasm_bindgen_test]
    fn a_profile_names_its_language_by_code() {
        assert_eq!(
            from_preferences(&json!({ "language": "id" })),
            Some(Lang::Id)
        );
        assert_eq!(
            from_preferences(&json!({ "language": "en" })),
            Some(Lang::En)
        );
        assert_eq!(from_preferences(&json!({ "language": "id-ID" })), None);
        assert_eq!(from_preferences(&json!({ "theme": "dark" })), None);
        assert_eq!(from_preferences(&json!(null)), None);
    }
}
