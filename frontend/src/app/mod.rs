//! The app: loads the configuration, holds the client and the global state, keeps the
//! session fresh, and shows the current page ([`routes`]) behind its [`guard`] in its
//! [`layout`].
//!
//! `app` is the top layer: it alone imports `features` (through the switch in
//! [`routes`]); nothing imports `app`. See the crate docs for the layers.

pub mod guard;
pub mod layout;
pub mod routes;

use crate::i18n::th;
use crate::i18n::{self, t, tf, Msg};
use gloo::timers::callback::Timeout;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::auth::{self, parse_fragment, FragmentTokens};
use crate::api::config::{self, Config};
use crate::api::error::AppError;
use crate::api::http::Api;
use crate::api::profiles;
use crate::api::session::{now_secs, refresh_delay_ms};
use crate::app::routes::CurrentPage;
use crate::i18n::Locale;
use crate::state::access::Access;
use crate::state::{save_lang, Action, AppContext, AppState, Notice};
use crate::ui::feedback::{error_view, loading_view};
use crate::ui::format;
use crate::ui::hooks::use_effect_on;
use crate::ui::route::Route;
use crate::ui::router::{self, Router};

/// What the app loads before anything else: the configuration, and the catalog of the
/// reader's language (else English's), both at once.
struct Started {
    config: Result<Config, AppError>,
    texts: Result<(i18n::Lang, Option<i18n::CatalogError>), i18n::CatalogError>,
}

/// The app: loads `/config.json` and the reader's catalog (`/i18n/<code>.txt`), then runs
/// [`Root`].
#[function_component(App)]
pub fn app() -> Html {
    let wanted = *use_memo((), |_| i18n::browser_lang());
    let started = use_state(|| None::<Started>);
    {
        let started = started.clone();
        use_effect_on((), move |_| {
            spawn_local(async move {
                let (config, texts) =
                    futures::future::join(config::load(), i18n::load_or_english(wanted)).await;
                if let Ok((lang, _)) = texts {
                    i18n::set_lang(lang);
                }
                started.set(Some(Started { config, texts }));
            });
        });
    }
    match &*started {
        None => loading_view(i18n::starting(wanted)),
        // No words to say it with but these.
        Some(Started {
            texts: Err(error), ..
        }) => html! {
            <main class="main"><section class="page narrow">
                <p class="error" role="alert">{ error.english() }</p>
            </section></main>
        },
        Some(Started {
            config: Err(error), ..
        }) => html! {
            <main class="main"><section class="page narrow">
                <h1>{ th(Msg::AppCannotStart) }</h1>
                { error_view(error.clone(), None) }
            </section></main>
        },
        Some(Started {
            config: Ok(config),
            texts: Ok((lang, failed)),
        }) => {
            let failed = failed.map(|error| error.words(wanted));
            html! { <Root config={config.clone()} lang={*lang} {failed} /> }
        }
    }
}

/// Props of [`Root`].
#[derive(Properties, PartialEq)]
pub struct RootProps {
    /// Where Supabase is.
    pub config: Config,
    /// The language to start in (its catalog is loaded).
    pub lang: i18n::Lang,
    /// Why the reader's own language could not be loaded, in words (then `lang` is English).
    #[prop_or_default]
    pub failed: Option<String>,
}

/// Holds the client and the global state; loads the profile, keeps the session fresh
/// and applies the theme.
#[function_component(Root)]
pub fn root(props: &RootProps) -> Html {
    let api = use_memo(props.config.clone(), |config| {
        Api::new(config.clone(), &config::origin())
    });
    let api: Api = (*api).clone();
    let state = use_reducer(|| AppState {
        session: api.session(),
        lang: props.lang,
        notice: props.failed.clone().map(|text| Notice {
            text,
            is_error: true,
        }),
        ..AppState::default()
    });
    // Before any page shows: take a session from a link's fragment, or read again the
    // user of a kept `aal1` session (factors may have been added on another device), so
    // that the guard judges the session by its user's factors as they are now.
    let starting = use_state(|| arrival(&api).is_some());
    {
        let (api, starting, dispatcher) = (api.clone(), starting.clone(), state.dispatcher());
        use_effect_on((), move |_| {
            if let Some(arrival) = arrival(&api) {
                spawn_local(async move {
                    arrive(&api, arrival, dispatcher).await;
                    starting.set(false);
                });
            }
        });
    }
    {
        let dispatcher = state.dispatcher();
        use_effect_on(api.clone(), move |api| {
            api.on_session_change(Callback::from(move |session| {
                dispatcher.dispatch(Action::SetSession(session));
            }));
        });
    }
    // Load the profile of whoever signs in (not before the code of two-step sign-in:
    // no data is asked for with a session that still needs it).
    {
        let dispatcher = state.dispatcher();
        let api = api.clone();
        let user_id = state
            .session
            .as_ref()
            .filter(|_| state.signed_in())
            .map(|s| s.user.id);
        use_effect_on(user_id, move |user_id| {
            if let Some(user_id) = *user_id {
                spawn_local(async move {
                    match profiles::get(&api, user_id).await {
                        Ok(profile) => dispatcher.dispatch(Action::ProfileLoaded(profile)),
                        Err(error) => dispatcher.dispatch(Action::ProfileFailed(error)),
                    }
                    if let Ok((banner, currency)) = crate::api::admin::public_settings(&api).await {
                        dispatcher.dispatch(Action::Banner(banner));
                        if let Some(currency) = currency {
                            dispatcher.dispatch(Action::Currency(currency));
                        }
                    }
                });
            }
        });
    }
    // Refresh the session shortly before it expires, even when idle.
    {
        let api = api.clone();
        let expires_at = state.session.as_ref().map(|s| s.expires_at);
        use_effect_on(expires_at, move |expires_at| {
            let timeout = expires_at.map(|at| {
                Timeout::new(refresh_delay_ms(at, now_secs()), move || {
                    spawn_local(async move {
                        let _ = api.refresh().await;
                    });
                })
            });
            move || drop(timeout)
        });
    }
    // The language: this browser remembers it and `<html lang>` shows it; a profile that
    // has none yet (or no zone) is given the current one and the browser's zone, once, so
    // the worker writes its reports in them.
    // Not the English of a start whose own catalog failed: the browser keeps the reader's
    // language for the next visit.
    let fell_back = use_mut_ref(|| props.failed.is_some());
    use_effect_on(state.lang, move |lang| {
        if fell_back.replace(false) {
            i18n::show(*lang);
        } else {
            i18n::remember(*lang);
        }
    });
    // A language whose catalog is not loaded yet (the profile names another one than this
    // browser's) is loaded first; meanwhile, or when it cannot be, the words stay in the
    // language shown.
    let texts_arrived = use_state(|| 0u32);
    {
        let (arrived, dispatcher) = (texts_arrived.clone(), state.dispatcher());
        use_effect_on(state.lang, move |lang| {
            let lang = *lang;
            if !i18n::loaded(lang) {
                spawn_local(async move {
                    match i18n::load(lang).await {
                        Ok(()) => arrived.set(*arrived + 1),
                        Err(error) => {
                            dispatcher.dispatch(Action::Notify(Notice {
                                text: error.words(lang),
                                is_error: true,
                            }));
                            dispatcher.dispatch(Action::SetLang(i18n::lang()));
                        }
                    }
                });
            }
        });
    }
    {
        let (api, dispatcher) = (api.clone(), state.dispatcher());
        let unsaved = state.profile.clone().filter(|p| {
            i18n::from_preferences(&p.preferences).is_none()
                || p.preferences.get("timezone").is_none()
        });
        let lang = state.lang;
        use_effect_on(unsaved.as_ref().map(|p| p.id), move |id| {
            if let Some(profile) = unsaved.filter(|_| id.is_some()) {
                save_lang(&api, profile, lang, dispatcher);
            }
        });
    }
    // Theme on <html data-theme>.
    use_effect_on(state.theme, |theme| {
        if let Some(html) = gloo::utils::document().document_element() {
            let _ = html.set_attribute("data-theme", theme.as_str());
        }
    });
    // The reader's locale, current before anything renders. When it changes (the profile's
    // zone arrives, an admin changes the currency), the pages are built again so that no
    // component keeps words or formats of the locale before.
    let generation = use_mut_ref(|| 0u32);
    let mut locale = locale_of(&state);
    if !i18n::loaded(locale.lang) {
        locale.lang = i18n::lang();
    }
    if i18n::set(locale) {
        *generation.borrow_mut() += 1;
    }
    if *starting {
        return loading_view(t(Msg::AppSigningIn));
    }
    let context = AppContext {
        state: state.clone(),
        api,
    };
    let generation = *generation.borrow();
    html! {
        <ContextProvider<AppContext> context={context}>
            <Router><CurrentPage key={generation} /></Router>
        </ContextProvider<AppContext>>
    }
}

/// The locale of `state`: the profile's zone (when the browser knows it) else the
/// browser's, and the system's currency.
fn locale_of(state: &AppState) -> Locale {
    let profile_zone = state
        .profile
        .as_ref()
        .and_then(|p| p.preferences.get("timezone"))
        .and_then(|zone| zone.as_str())
        .filter(|zone| format::known_zone(zone));
    Locale {
        lang: state.lang,
        time_zone: profile_zone
            .map(str::to_owned)
            .unwrap_or_else(i18n::browser_time_zone),
        currency: state
            .currency
            .clone()
            .unwrap_or_else(|| i18n::DEFAULT_CURRENCY.to_owned()),
    }
}

/// What the app must settle before its first page.
enum Arrival {
    /// `#access_token=…` from a mailed link (recovery, magic link) or a social provider.
    Link(FragmentTokens),
    /// A kept session below `aal2`: its user's factors are read again.
    Kept,
}

fn arrival(api: &Api) -> Option<Arrival> {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    match parse_fragment(&hash) {
        Some(tokens) if tokens.error.is_none() => Some(Arrival::Link(tokens)),
        _ => api
            .session()
            .filter(|session| !session.is_aal2())
            .map(|_| Arrival::Kept),
    }
}

/// Settles `arrival`. A link's session is kept and its tokens leave the address bar: a
/// recovery link goes on to the new-password page, any other link to the page it points
/// at, or the dashboard when that is a public page. The guard then sends a session that
/// needs its two-step code to the code step.
async fn arrive(api: &Api, arrival: Arrival, dispatcher: UseReducerDispatcher<AppState>) {
    match arrival {
        Arrival::Link(tokens) => {
            let here = router::Location::current();
            match auth::session_from_fragment(api, &tokens).await {
                Ok(session) => {
                    api.set_session(Some(session));
                    let to = if tokens.kind.as_deref() == Some("recovery") {
                        Route::ResetPassword.to_path()
                    } else if here.route.access() == Access::Public {
                        Route::Dashboard.to_path()
                    } else {
                        here.full()
                    };
                    router::replace(&to);
                }
                Err(error) => {
                    router::replace(&here.full());
                    dispatcher.dispatch(Action::Notify(Notice {
                        text: tf(Msg::AppLinkFailed, &[("error", &error.to_string())]),
                        is_error: true,
                    }));
                }
            }
        }
        Arrival::Kept => {
            // Offline: the kept user stands; the database still checks every request.
            let _ = api.reload_user().await;
        }
    }
}
