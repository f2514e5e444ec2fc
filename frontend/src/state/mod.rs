//! Global state: a `Reducible` with an [`Action`] enum, provided as a context together
//! with the [`Api`] client; [`use_app`] reads it, [`use_session`] acts on the session, and
//! [`access`] decides who may see a page.
//!
//! A layer of its own between `ui` and `api`: pages and generic hooks (`use_load` takes
//! its client from here) read it, and it imports only `api`, so `api` never sees it.

pub mod access;
mod session;

pub use session::{use_session, SessionHandle};

use std::rc::Rc;

use domain::Profile;
use yew::prelude::*;

use crate::api::error::AppError;
use crate::api::http::Api;
use crate::api::profiles;
use crate::api::session::Session;
use crate::i18n::{self, Lang};
use crate::state::access::Visitor;

/// Light or dark, or whatever the system prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// From `preferences.theme`.
    pub fn from_preferences(preferences: &serde_json::Value) -> Self {
        match preferences.get("theme").and_then(|v| v.as_str()) {
            Some("light") => Self::Light,
            Some("dark") => Self::Dark,
            _ => Self::System,
        }
    }

    /// The value of `<html data-theme>` and of `preferences.theme`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// A short message shown at the top of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The words.
    pub text: String,
    /// An error rather than a confirmation.
    pub is_error: bool,
}

/// What every page may read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppState {
    /// The signed-in user's session.
    pub session: Option<Session>,
    /// The signed-in user's profile, once loaded.
    pub profile: Option<Profile>,
    /// Why the profile could not be loaded.
    pub profile_error: Option<AppError>,
    /// The theme in use.
    pub theme: Theme,
    /// The current notice.
    pub notice: Option<Notice>,
    /// The administrators' maintenance message (`system_settings.maintenance_banner`).
    pub banner: Option<String>,
    /// The currency of business amounts (`system_settings.currency`), once read.
    pub currency: Option<String>,
    /// The language of every word: the profile's once signed in, before that this
    /// browser's ([`i18n::browser_lang`]).
    pub lang: Lang,
}

impl AppState {
    /// Who holds the session: signed out, waiting for the two-step code, or signed in.
    pub fn visitor(&self) -> Visitor {
        Visitor::of(self.session.as_ref())
    }

    /// `true` when signed in (a session that still needs its code is not).
    pub fn signed_in(&self) -> bool {
        self.visitor() == Visitor::SignedIn
    }

    /// `true` for an active admin (as far as the profile says; the database decides).
    pub fn is_admin(&self) -> bool {
        self.profile
            .as_ref()
            .is_some_and(|p| p.role.is_admin() && p.is_active)
    }
}

/// Everything that changes the global state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Signed in, refreshed, or signed out (`None`).
    SetSession(Option<Session>),
    /// The profile arrived (or changed).
    ProfileLoaded(Profile),
    /// The profile could not be loaded.
    ProfileFailed(AppError),
    /// The theme changed.
    SetTheme(Theme),
    /// Show a notice.
    Notify(Notice),
    /// Hide the notice.
    Dismiss,
    /// The maintenance message (empty: none).
    Banner(String),
    /// The currency of business amounts (an ISO 4217 code).
    Currency(String),
    /// The reader chose a language (or the browser's was found).
    SetLang(Lang),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetSession(session) => {
                let same_user = match (&self.session, &session) {
                    (Some(old), Some(new)) => old.user.id == new.user.id,
                    _ => false,
                };
                if !same_user {
                    next.profile = None;
                    next.profile_error = None;
                }
                if session.is_none() {
                    next.theme = Theme::System;
                }
                next.session = session;
            }
            Action::ProfileLoaded(profile) => {
                next.theme = Theme::from_preferences(&profile.preferences);
                // The profile's language wins on every device.
                if let Some(lang) = i18n::from_preferences(&profile.preferences) {
                    next.lang = lang;
                }
                next.profile = Some(profile);
                next.profile_error = None;
            }
            Action::ProfileFailed(error) => next.profile_error = Some(error),
            Action::SetTheme(theme) => next.theme = theme,
            Action::Notify(notice) => next.notice = Some(notice),
            Action::Dismiss => next.notice = None,
            Action::SetLang(lang) => next.lang = lang,
            Action::Banner(text) => {
                next.banner = (!text.trim().is_empty()).then(|| text.trim().to_owned());
            }
            Action::Currency(code) => next.currency = Some(code),
        }
        Rc::new(next)
    }
}

/// The context every component reads.
#[derive(Clone, PartialEq)]
pub struct AppContext {
    /// The global state.
    pub state: UseReducerHandle<AppState>,
    /// The client.
    pub api: Api,
}

impl AppContext {
    /// Shows a confirmation.
    pub fn notify(&self, text: impl Into<String>) {
        self.state.dispatch(Action::Notify(Notice {
            text: text.into(),
            is_error: false,
        }));
    }

    /// Loads the catalog of `lang`, then switches to it and keeps it in the signed-in
    /// user's profile (`preferences.language`), which every device then follows; when the
    /// catalog cannot be loaded, says so and stays in the language shown. `done` is called
    /// either way.
    pub fn choose_lang(&self, lang: Lang, done: Callback<()>) {
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            match i18n::load(lang).await {
                Ok(()) => {
                    ctx.state.dispatch(Action::SetLang(lang));
                    if let Some(profile) =
                        ctx.state.profile.clone().filter(|_| ctx.state.signed_in())
                    {
                        save_lang(&ctx.api, profile, lang, ctx.state.dispatcher());
                    }
                }
                Err(error) => ctx.state.dispatch(Action::Notify(Notice {
                    text: error.words(lang),
                    is_error: true,
                })),
            }
            done.emit(());
        });
    }

    /// Shows an error.
    pub fn notify_error(&self, error: &AppError) {
        self.state.dispatch(Action::Notify(Notice {
            text: error.to_string(),
            is_error: true,
        }));
    }
}

/// Writes `lang` into `profile`'s `preferences.language` (keeping its other preferences,
/// and giving it the browser's zone when it has none),
/// then takes the saved profile; an error is shown as a notice.
pub fn save_lang(
    api: &Api,
    profile: Profile,
    lang: Lang,
    dispatcher: UseReducerDispatcher<AppState>,
) {
    let api = api.clone();
    yew::platform::spawn_local(async move {
        let mut preferences = profile.preferences.clone();
        match &mut preferences {
            serde_json::Value::Object(map) => {
                map.insert("language".into(), lang.code().into());
                // A profile without a zone takes the browser's, so that the worker's report
                // days are the reader's days too.
                map.entry("timezone")
                    .or_insert_with(|| crate::i18n::browser_time_zone().into());
            }
            other => *other = serde_json::json!({ "language": lang.code() }),
        }
        let patch = serde_json::json!({ "preferences": preferences });
        match profiles::update(&api, profile.id, &patch).await {
            Ok(saved) => {
                dispatcher.dispatch(Action::ProfileLoaded(saved));
                // Auth's mails follow the language too. Best effort: the profile, which
                // everything else reads, is saved already.
                let _ = crate::api::auth::set_language(&api, lang.code()).await;
            }
            Err(error) => dispatcher.dispatch(Action::Notify(Notice {
                text: error.to_string(),
                is_error: true,
            })),
        }
    });
}

/// The app context (state + client). Every page is rendered inside its provider.
#[hook]
pub fn use_app() -> AppContext {
    use_context::<AppContext>().expect("pages are rendered inside the AppContext provider")
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn profile(preferences: serde_json::Value) -> Profile {
        serde_json::from_value(json!({
            "id": "22222222-2222-4222-8222-222222222222",
            "email": "mia@example.com",
            "name": "Mia",
            "avatar_url": null,
            "role": "business_user",
            "is_active": true,
            "preferences": preferences,
            "last_login": null,
            "created_at": "2024-04-01T06:05:00Z",
            "updated_at": "2024-04-01T06:05:00Z"
        }))
        .expect("a profile")
    }

    #[wasm_bindgen_test]
    fn the_profiles_language_wins_and_a_profile_without_one_keeps_the_browsers() {
        let state = Rc::new(AppState {
            lang: Lang::En,
            ..AppState::default()
        });
        let state = state.reduce(Action::ProfileLoaded(profile(json!({ "language": "id" }))));
        assert_eq!(state.lang, Lang::Id);
        // Chosen in the header: kept until a profile says otherwise.
        let state = state.reduce(Action::SetLang(Lang::En));
        assert_eq!(state.lang, Lang::En);
        let state = state.reduce(Action::ProfileLoaded(profile(json!({ "theme": "dark" }))));
        assert_eq!(
            state.lang,
            Lang::En,
            "a profile without a language changes nothing"
        );
        let state = state.reduce(Action::ProfileLoaded(profile(json!({ "language": "fr" }))));
        assert_eq!(state.lang, Lang::En, "nor one the SPA does not speak");
        let state = state.reduce(Action::SetSession(None));
        assert_eq!(state.lang, Lang::En, "signing out keeps the language");
    }
}
