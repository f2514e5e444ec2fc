//! `/settings`, `/settings/profile` (name, avatar, theme, time zone) and
//! `/settings/security` (password, two-step sign-in, other sessions).

use std::rc::Rc;

use domain::{DisplayName, Password, Profile};
use serde_json::{json, Value};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::i18n::th;
use crate::i18n::{errors, t, tf, Msg};
use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::{event_file, event_value};
use crate::ui::field::{SelectField, TextField};
use crate::ui::language::LanguageSwitch;
use crate::ui::remote_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router;

use crate::api::auth::{self, AuthSession, Enrollment};
use crate::api::error::{capitalize, AppError};
use crate::api::session::AuthUser;
use crate::api::{profiles, storage};
use crate::state::{use_app, use_session};
use crate::state::{Action, Theme};
use crate::ui::hooks::{use_action, use_load, Errors};

/// The settings index (a plain function: no hooks, so no component needed).
pub fn settings_index() -> Html {
    html! {
        <section class="page narrow">
            <h1>{ th(Msg::NavSettings) }</h1>
            <ul class="feature-grid">
                <li class="card">
                    <h3>{ route_link(Route::SettingsProfile, "", t(Msg::TitleProfile)) }</h3>
                    <p>{ th(Msg::SettingsProfileText) }</p>
                </li>
                <li class="card">
                    <h3>{ route_link(Route::SettingsSecurity, "", t(Msg::TitleSecurity)) }</h3>
                    <p>{ th(Msg::SettingsSecurityText) }</p>
                </li>
            </ul>
        </section>
    }
}

/// Time zones offered (plus the browser's and the current one): Indonesia's three first.
pub const TIME_ZONES: [&str; 15] = [
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
];

/// The avatar's object path for a file of type `mime`: `<uid>/avatar.<ext>`, or `None`
/// for types the avatars bucket refuses.
pub fn avatar_path(user_id: &uuid::Uuid, mime: &str) -> Option<String> {
    let ext = match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    };
    Some(format!("{user_id}/avatar.{ext}"))
}

/// The profile settings.
#[function_component(ProfileSettings)]
pub fn profile_settings() -> Html {
    let session = use_session();
    match session.profile() {
        Some(profile) => html! { <ProfileForm profile={Rc::new(profile)} /> },
        None => match &session.state().profile_error {
            Some(error) => {
                html! { <section class="page narrow"><h1>{ th(Msg::TitleProfile) }</h1>{ error_view(error.clone(), None) }</section> }
            }
            None => {
                html! { <section class="page narrow">{ loading_view(t(Msg::SettingsLoadingProfile)) }</section> }
            }
        },
    }
}

#[derive(Properties, PartialEq)]
struct ProfileFormProps {
    profile: Rc<Profile>,
}

#[function_component(ProfileForm)]
fn profile_form(props: &ProfileFormProps) -> Html {
    let ctx = use_app();
    let profile = props.profile.clone();
    let name = use_state(|| profile.name.clone().unwrap_or_default());
    let theme = use_state(|| Theme::from_preferences(&profile.preferences));
    let zone = use_state(|| {
        profile
            .preferences
            .get("timezone")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(crate::i18n::browser_time_zone)
    });
    let name_error = use_state(Option::<String>::default);
    let saving = use_action(Errors::Kept);
    let uploading = use_action(Errors::Notified);

    let save = {
        let (ctx, profile, name, theme, zone, name_error, saving) = (
            ctx.clone(),
            profile.clone(),
            name.clone(),
            theme.clone(),
            zone.clone(),
            name_error.clone(),
            saving.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let parsed = DisplayName::parse(&name);
            name_error.set(
                parsed
                    .as_ref()
                    .err()
                    .map(|e| capitalize(&errors::domain_error(e))),
            );
            let Ok(display_name) = parsed else {
                return;
            };
            let mut preferences = profile.preferences.clone();
            if let Value::Object(map) = &mut preferences {
                map.insert("theme".into(), json!(theme.as_str()));
                map.insert("timezone".into(), json!(*zone));
                map.insert("language".into(), json!(ctx.state.lang.code()));
            }
            let patch = json!({ "name": display_name.as_str(), "preferences": preferences });
            let (ctx, id) = (ctx.clone(), profile.id);
            saving.run(async move {
                let updated = profiles::update(&ctx.api, id, &patch).await?;
                ctx.state.dispatch(Action::ProfileLoaded(updated));
                ctx.notify(t(Msg::SettingsSaved));
                Ok(())
            });
        })
    };
    let on_avatar = {
        let (ctx, id, uploading) = (ctx.clone(), profile.id, uploading.clone());
        Callback::from(move |e: Event| {
            let Some(file) = event_file(&e) else {
                return;
            };
            let Some(path) = avatar_path(&id, &file.type_()) else {
                uploading.fail(AppError::Invalid(t(Msg::SettingsPictureKind).into()));
                return;
            };
            if file.size() > 2.0 * 1024.0 * 1024.0 {
                uploading.fail(AppError::Invalid(t(Msg::SettingsPictureSize).into()));
                return;
            }
            let ctx = ctx.clone();
            uploading.run(async move {
                storage::upload(&ctx.api, "avatars", &path, &file, true).await?;
                let url = format!(
                    "{}?v={}",
                    storage::public_url(&ctx.api, "avatars", &path),
                    js_sys::Date::now() as u64
                );
                let updated = profiles::update(&ctx.api, id, &json!({ "avatar_url": url })).await?;
                ctx.state.dispatch(Action::ProfileLoaded(updated));
                ctx.notify(t(Msg::SettingsPictureUpdated));
                Ok(())
            });
        })
    };
    let mut zones: Vec<String> = TIME_ZONES.iter().map(|z| (*z).to_owned()).collect();
    for extra in [crate::i18n::browser_time_zone(), (*zone).clone()] {
        if !zones.contains(&extra) {
            zones.push(extra);
        }
    }
    html! {
        <section class="page narrow">
            <h1>{ th(Msg::TitleProfile) }</h1>
            <div class="card">
                <h2>{ th(Msg::SettingsPicture) }</h2>
                <div class="status-line">
                    if let Some(url) = &profile.avatar_url {
                        <img class="avatar" src={url.clone()} alt={t(Msg::SettingsYourPicture)} />
                    } else {
                        <span class="avatar" aria-hidden="true"></span>
                    }
                    <div class="field">
                        <label for="avatar">{ th(Msg::SettingsUploadPicture) }</label>
                        <input id="avatar" type="file" accept="image/png,image/jpeg,image/gif,image/webp"
                            onchange={on_avatar} disabled={uploading.busy()} />
                        <p class="field-hint">{ if uploading.busy() { th(Msg::UploadUploading) } else { th(Msg::SettingsPictureHint) } }</p>
                    </div>
                </div>
            </div>
            <form class="card" onsubmit={save} novalidate=true>
                <TextField id="email" label={t(Msg::AuthEmail)} value={profile.email.clone()} oninput={Callback::noop()} disabled=true />
                <TextField id="name" label={t(Msg::SettingsName)} value={(*name).clone()} autocomplete="name"
                    oninput={{ let name = name.clone(); Callback::from(move |v| name.set(v)) }} error={(*name_error).clone()} />
                <SelectField id="theme" label={t(Msg::SettingsTheme)} value={theme.as_str()}
                    options={vec![("system".into(), t(Msg::SettingsThemeSystem).into()), ("light".into(), t(Msg::SettingsThemeLight).into()), ("dark".into(), t(Msg::SettingsThemeDark).into())]}
                    onchange={{ let theme = theme.clone(); let ctx = ctx.clone(); Callback::from(move |v: String| {
                        let t = Theme::from_preferences(&json!({ "theme": v }));
                        ctx.state.dispatch(Action::SetTheme(t));
                        theme.set(t);
                    }) }} />
                <LanguageSwitch id="language" labelled=true />
                <div class="field">
                    <label for="tz">{ th(Msg::SettingsTimeZone) }</label>
                    <select id="tz" onchange={{ let zone = zone.clone(); Callback::from(move |e: Event| zone.set(event_value(&e))) }}>
                        { for zones.iter().map(|z| html! { <option value={z.clone()} selected={*z == *zone}>{ z.clone() }</option> }) }
                    </select>
                </div>
                if let Some(e) = saving.error() { { error_view(e.clone(), None) } }
                { crate::ui::submit("button", if saving.busy() { th(Msg::CommonSaving) } else { th(Msg::CommonSave) }, saving.busy()) }
            </form>
        </section>
    }
}

/// Password, two-step sign-in, sessions.
#[function_component(SecuritySettings)]
pub fn security_settings() -> Html {
    let ctx = use_app();
    let session = use_session();
    let password = use_state(String::new);
    let confirm = use_state(String::new);
    let password_error = use_state(Option::<String>::default);
    let changing = use_action(Errors::Notified);
    let user = use_load((), |api, ()| async move { auth::user(&api).await });
    let sessions = use_load((), |api, ()| async move { auth::my_sessions(&api).await });
    let enrollment = use_state(|| None::<Enrollment>);
    let code = use_state(String::new);
    let mfa_error = use_state(Option::<AppError>::default);

    let change_password = {
        let (ctx, password, confirm, password_error, changing) = (
            ctx.clone(),
            password.clone(),
            confirm.clone(),
            password_error.clone(),
            changing.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Err(e) = Password::check_strength(&password) {
                password_error.set(Some(capitalize(&errors::domain_error(&e))));
                return;
            }
            if *password != *confirm {
                password_error.set(Some(t(Msg::SettingsPasswordsDiffer).into()));
                return;
            }
            password_error.set(None);
            let (ctx, new_password, password, confirm) = (
                ctx.clone(),
                (*password).clone(),
                password.clone(),
                confirm.clone(),
            );
            changing.run(async move {
                auth::update_password(&ctx.api, &new_password).await?;
                password.set(String::new());
                confirm.set(String::new());
                ctx.notify(t(Msg::AuthPasswordChanged));
                Ok(())
            });
        })
    };
    let start_enroll = {
        let (ctx, enrollment, mfa_error) = (ctx.clone(), enrollment.clone(), mfa_error.clone());
        Callback::from(move |_| {
            let (ctx, enrollment, mfa_error) = (ctx.clone(), enrollment.clone(), mfa_error.clone());
            mfa_error.set(None);
            spawn_local(async move {
                let name = tf(
                    Msg::SettingsAuthenticatorN,
                    &[("n", &(js_sys::Date::now() as u64 / 1000).to_string())],
                );
                match auth::enroll_totp(&ctx.api, &name).await {
                    Ok(e) => enrollment.set(Some(e)),
                    Err(e) => mfa_error.set(Some(e)),
                }
            });
        })
    };
    let verify = {
        let (ctx, enrollment, code, mfa_error, reload) = (
            ctx.clone(),
            enrollment.clone(),
            code.clone(),
            mfa_error.clone(),
            user.reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(pending) = (*enrollment).clone() else {
                return;
            };
            let digits: String = code.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 6 {
                mfa_error.set(Some(AppError::Invalid(t(Msg::AuthCodeHint).into())));
                return;
            }
            let (ctx, enrollment, code, mfa_error, reload) = (
                ctx.clone(),
                enrollment.clone(),
                code.clone(),
                mfa_error.clone(),
                reload.clone(),
            );
            spawn_local(async move {
                match auth::challenge_and_verify(&ctx.api, &pending.id, &digits).await {
                    Ok(upgraded) => {
                        ctx.api.set_session(Some(upgraded));
                        enrollment.set(None);
                        code.set(String::new());
                        ctx.notify(t(Msg::SettingsMfaOn));
                        reload.emit(());
                    }
                    Err(e) => mfa_error.set(Some(e)),
                }
            });
        })
    };
    // Removing a verified factor needs an `aal2` session (Auth refuses it with
    // `insufficient_aal` otherwise); an unfinished enrolment may always go.
    let remove = {
        let (ctx, reload, mfa_error) = (ctx.clone(), user.reload.clone(), mfa_error.clone());
        move |factor_id: String, verified: bool| {
            let (ctx, reload, mfa_error) = (ctx.clone(), reload.clone(), mfa_error.clone());
            Callback::from(move |_| {
                let aal2 = ctx.api.session().is_some_and(|s| s.is_aal2());
                if verified && !aal2 {
                    mfa_error.set(Some(AppError::MfaRequired));
                    return;
                }
                if verified && !gloo::dialogs::confirm(t(Msg::SettingsMfaConfirmOff)) {
                    return;
                }
                let (ctx, reload, mfa_error, id) = (
                    ctx.clone(),
                    reload.clone(),
                    mfa_error.clone(),
                    factor_id.clone(),
                );
                mfa_error.set(None);
                spawn_local(async move {
                    match auth::unenroll(&ctx.api, &id).await {
                        Ok(()) => {
                            // The session's user forgets the factor too.
                            let _ = ctx.api.reload_user().await;
                            ctx.notify(if verified {
                                t(Msg::SettingsMfaOff)
                            } else {
                                t(Msg::SettingsSetupRemoved)
                            });
                        }
                        Err(e) => mfa_error.set(Some(e)),
                    }
                    reload.emit(());
                });
            })
        }
    };
    let revoke = {
        let (ctx, reload) = (ctx.clone(), sessions.reload.clone());
        move |id: uuid::Uuid| {
            let (ctx, reload) = (ctx.clone(), reload.clone());
            Callback::from(move |_| {
                let (ctx, reload) = (ctx.clone(), reload.clone());
                spawn_local(async move {
                    match auth::revoke_session(&ctx.api, id).await {
                        Ok(()) => ctx.notify(t(Msg::SettingsSessionSignedOut)),
                        Err(e) => ctx.notify_error(&e),
                    }
                    reload.emit(());
                });
            })
        }
    };
    let view_sessions = Callback::from(move |rows: Rc<Vec<AuthSession>>| {
        if rows.is_empty() {
            return html! { <p class="muted">{ th(Msg::SettingsNoSessions) }</p> };
        }
        let now = crate::ui::format::now();
        html! {
            <ul class="task-list">{ for rows.iter().map(|s| html! {
                <li key={s.id.to_string()}>
                    <strong>{ auth::describe_device(s.user_agent.as_deref()) }</strong>
                    if s.is_current { <span class="badge status-completed">{ th(Msg::SettingsThisBrowser) }</span> }
                    if s.aal.as_deref() == Some("aal2") { <span class="badge">{ "2FA" }</span> }
                    <span class="muted">{ tf(Msg::SettingsSessionLine, &[("address", &s.ip.clone().unwrap_or_else(|| t(Msg::SettingsUnknownAddress).into())), ("ago", &crate::ui::format::ago(&s.last_active(), now))]) }</span>
                    if !s.is_current {
                        <button type="button" class="button secondary" onclick={revoke(s.id)}
                            aria-label={tf(Msg::SettingsSignOutDevice, &[("device", &auth::describe_device(s.user_agent.as_deref()))])}>{ th(Msg::NavSignOut) }</button>
                    }
                </li>
            }) }</ul>
        }
    });
    let sign_out = |scope: &'static str| {
        let (ctx, session, reload) = (ctx.clone(), session.clone(), sessions.reload.clone());
        Callback::from(move |_| {
            let (ctx, session, reload) = (ctx.clone(), session.clone(), reload.clone());
            spawn_local(async move {
                match auth::logout(&ctx.api, scope).await {
                    Ok(()) if scope == "others" => {
                        ctx.notify(t(Msg::SettingsOthersSignedOut));
                        reload.emit(());
                    }
                    Ok(()) => {
                        session.sign_out().await;
                        router::push_route(&Route::Login);
                    }
                    Err(e) => ctx.notify_error(&e),
                }
            });
        })
    };
    let view_factors = {
        let (start_enroll, remove) = (start_enroll.clone(), remove.clone());
        let aal2 = session.session().is_some_and(|s| s.is_aal2());
        Callback::from(move |user: Rc<AuthUser>| {
            let factors = user.factors.clone().unwrap_or_default();
            let on = user.has_verified_factor();
            html! {
                <>
                    if on {
                        <p class="status-line"><span class="badge status-completed">{ th(Msg::CommonOn) }</span>
                            <strong>{ th(Msg::SettingsMfaIsOn) }</strong></p>
                    } else {
                        <p>{ th(Msg::SettingsMfaOff) }</p>
                    }
                    if !factors.is_empty() {
                        <ul class="task-list">{ for factors.iter().map(|f| {
                            let verified = f.status == "verified";
                            let name = f.friendly_name.clone().filter(|n| !n.trim().is_empty())
                                .unwrap_or_else(|| t(Msg::SettingsAuthenticatorApp).into());
                            let added = f.created_at.as_deref().and_then(crate::api::time::parse_time);
                            html! {
                                <li key={f.id.clone()} data-factor={f.status.clone()}>
                                    <strong>{ name.clone() }</strong>
                                    <span class={classes!("badge", if verified { "status-completed" } else { "status-pending" })}>
                                        { if verified { th(Msg::CommonActive) } else { th(Msg::SettingsNotFinished) } }
                                    </span>
                                    if let Some(at) = added {
                                        <span class="muted">{ th(Msg::SettingsAdded) }{ " " }{ crate::ui::time_view(&at, crate::ui::format::datetime(&at)) }</span>
                                    }
                                    if verified && !aal2 {
                                        <span class="muted">{ th(Msg::SettingsSignInToRemove) }</span>
                                    } else {
                                        <button type="button" class="button secondary" onclick={remove(f.id.clone(), verified)}
                                            aria-label={tf(Msg::SettingsRemoveFactor, &[("name", &name)])}>
                                            { if verified { th(Msg::SettingsTurnOff) } else { th(Msg::CommonRemove) } }
                                        </button>
                                    }
                                </li>
                            }
                        }) }</ul>
                    }
                    if !on {
                        { crate::ui::button("button", t(Msg::SettingsSetUp), false, start_enroll.clone()) }
                    }
                </>
            }
        })
    };
    html! {
        <section class="page narrow">
            <h1>{ th(Msg::TitleSecurity) }</h1>
            <form class="card" onsubmit={change_password} novalidate=true>
                <h2>{ th(Msg::AuthPassword) }</h2>
                <TextField id="new-password" label={t(Msg::TitleResetPassword)} kind="password" value={(*password).clone()}
                    autocomplete="new-password" oninput={{ let p = password.clone(); Callback::from(move |v| p.set(v)) }}
                    error={(*password_error).clone()} hint={t(Msg::AuthPasswordHint)} />
                <TextField id="confirm-password" label={t(Msg::SettingsPasswordAgain)} kind="password" value={(*confirm).clone()}
                    autocomplete="new-password" oninput={{ let c = confirm.clone(); Callback::from(move |v| c.set(v)) }} />
                { crate::ui::submit("button", if changing.busy() { th(Msg::CommonSaving) } else { th(Msg::SettingsChangePassword) }, changing.busy()) }
            </form>
            <div class="card">
                <h2>{ th(Msg::SettingsTwoStep) }</h2>
                <p class="muted">{ th(Msg::SettingsTwoStepText) }</p>
                { remote_view(user.state.clone(), view_factors, user.reload.clone(), t(Msg::CommonLoading)) }
                if let Some(pending) = &*enrollment {
                    <form onsubmit={verify} novalidate=true>
                        <p>{ th(Msg::SettingsScan) }</p>
                        <img class="qr" src={pending.totp.qr_image_src()} alt={t(Msg::SettingsQr)} />
                        <p>{ th(Msg::SettingsSecret) }{ " " }<code id="totp-secret">{ pending.totp.secret.clone() }</code></p>
                        <TextField id="totp-code" label={t(Msg::SettingsCode)} value={(*code).clone()} autocomplete="one-time-code"
                            oninput={{ let c = code.clone(); Callback::from(move |v| c.set(v)) }} />
                        { crate::ui::submit("button", t(Msg::SettingsVerifyOn), false) }
                    </form>
                }
                if let Some(e) = &*mfa_error { { error_view(e.clone(), None) } }
            </div>
            <div class="card">
                <h2>{ th(Msg::SettingsSessions) }</h2>
                <p>{ th(Msg::SettingsSessionsText) }</p>
                { remote_view(sessions.state.clone(), view_sessions, sessions.reload.clone(), t(Msg::CommonLoading)) }
                <div class="actions">
                    { crate::ui::button("button secondary", t(Msg::SettingsSignOutOthers), false, sign_out("others")) }
                    { crate::ui::button("button danger", t(Msg::SettingsSignOutEverywhere), false, sign_out("global")) }
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn avatar_goes_to_the_users_folder() {
        let id: uuid::Uuid = "22222222-2222-4222-8222-222222222222"
            .parse()
            .expect("uuid");
        assert_eq!(
            avatar_path(&id, "image/jpeg").as_deref(),
            Some("22222222-2222-4222-8222-222222222222/avatar.jpg")
        );
        assert_eq!(avatar_path(&id, "application/pdf"), None);
    }
}
