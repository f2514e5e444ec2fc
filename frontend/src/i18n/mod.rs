//! The reader's locale: their language, their time zone and the currency of business
//! amounts. The lowest layer of the SPA (beside `domain`): it imports nothing else of the
//! crate, so every other layer may use it.
//!
//! One locale is current at a time, kept in a thread-local (the browser runs one thread):
//! the app sets it from the profile, the browser and the system settings before it renders,
//! and the formatting in `ui::format` and the messages read it, so no component has to pass
//! it around.

use std::cell::RefCell;

/// A language the SPA speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Bahasa Indonesia.
    Id,
}

impl Lang {
    /// Every language, in the order the switch offers them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Id];

    /// The code in `preferences.language` and `<html lang>`: `en`, `id`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Id => "id",
        }
    }

    /// The BCP 47 tag given to `Intl`: `en-US`, `id-ID`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en-US",
            Self::Id => "id-ID",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Id => "Bahasa Indonesia",
        }
    }

    /// From a code or a BCP 47 tag (`id`, `id-ID`, `in`, `en-GB`), case-insensitively;
    /// `None` for languages the SPA does not speak.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Self::En),
            // `in` is the code Indonesian had before 1989; old Android browsers still send it.
            "id" | "in" => Some(Self::Id),
            _ => None,
        }
    }

    /// The first language of `preferred` (as `navigator.languages` lists them) that the
    /// SPA speaks, else English.
    pub fn choose<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Self {
        preferred
            .into_iter()
            .find_map(Self::parse)
            .unwrap_or_default()
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
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_first_spoken_language_of_the_browser_wins() {
        assert_eq!(Lang::choose(["id-ID", "en-US"]), Lang::Id);
        assert_eq!(Lang::choose(["fr-FR", "in", "en"]), Lang::Id);
        assert_eq!(Lang::choose(["EN-gb", "id"]), Lang::En);
        assert_eq!(Lang::choose(["fr", "de"]), Lang::En);
        assert_eq!(Lang::choose(std::iter::empty()), Lang::En);
        assert_eq!(Lang::parse("id_ID"), Some(Lang::Id));
        assert_eq!(Lang::parse(""), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
            assert_eq!(Lang::parse(lang.tag()), Some(lang));
        }
    }
}
