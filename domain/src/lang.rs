//! The languages Taskdeck speaks, shared by the SPA (its catalogs and `Intl`) and the
//! worker (the reports' words and number formats).

/// A language Taskdeck speaks: the SPA's words, the reports' and Auth's mails.
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

    /// The language's own name, as the SPA's switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Id => "Bahasa Indonesia",
        }
    }

    /// From a code or a BCP 47 tag (`id`, `id-ID`, `in`, `en-GB`), case-insensitively;
    /// `None` for languages Taskdeck does not speak.
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

    /// The first language of `preferred` (as `navigator.languages` lists them) that
    /// Taskdeck speaks, else English.
    pub fn choose<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Self {
        preferred
            .into_iter()
            .find_map(Self::parse)
            .unwrap_or_default()
    }

    /// The language of a profile's `preferences.language` (`en` or `id`, which the
    /// database enforces); English when there is none.
    pub fn of_preference(code: Option<&str>) -> Self {
        code.and_then(Self::parse).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
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

    #[test]
    fn a_profile_without_a_language_reads_english() {
        assert_eq!(Lang::of_preference(Some("id")), Lang::Id);
        assert_eq!(Lang::of_preference(Some("en")), Lang::En);
        assert_eq!(Lang::of_preference(None), Lang::En);
    }
}
