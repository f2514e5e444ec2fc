//! `/auth/*`: sign in (with social buttons and the TOTP step), register, forgot and
//! reset password.

use crate::i18n::th;
use crate::i18n::{errors, t, tf, Msg};
use domain::{DisplayName, Email, Password};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::TextField;
use crate::ui::hooks::{use_action, use_effect_on, Errors};
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router::{self, use_location};

use crate::api::auth::{self, parse_fragment, SignUp};
use crate::api::config::origin;
use crate::api::error::{capitalize, AppError};
use crate::state::access::safe_next;
use crate::state::{use_app, use_session};

fn message(result: Result<impl Sized, domain::DomainError>) -> Option<String> {
    result.err().map(|e| capitalize(&errors::domain_error(&e)))
}

/// How strong a new password looks: 0 (empty) to 4, with a word.
pub fn password_strength(password: &str) -> (u8, &'static str) {
    if password.is_empty() {
        return (0, "");
    }
    let length = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    let score = match (length, classes) {
        (0..=7, _) => 1,
        (8..=11, 0..=2) => 2,
        (8..=11, _) | (12.., 0..=2) => 3,
        _ => 4,
    };
    let word = match score {
        1 => t(Msg::AuthStrengthShort),
        2 => t(Msg::AuthStrengthFair),
        3 => t(Msg::AuthStrengthGood),
        _ => t(Msg::AuthStrengthStrong),
    };
    (score, word)
}

/// The code step: a session that still needs its two-step code (password sign-in, a link
/// from a mail, a session kept from before) asks for it here. Once verified, the session
/// is `aal2` and the page that shows this one carries on.
#[function_component(CodeStep)]
pub fn code_step() -> Html {
    let session = use_session();
    let code = use_state(String::new);
    let action = use_action(Errors::Kept);
    let onsubmit = {
        let (code, action, session) = (code.clone(), action.clone(), session.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if action.busy() {
                return;
            }
            let digits: String = code.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 6 {
                action.fail(AppError::Invalid(t(Msg::AuthCodeHint).into()));
                return;
            }
            let session = session.clone();
            action.run(async move { session.verify_code(&digits).await });
        })
    };
    let other_account = {
        let session = session.clone();
        Callback::from(move |_| {
            let session = session.clone();
            spawn_local(async move { session.sign_out().await });
        })
    };
    let oninput = {
        let code = code.clone();
        Callback::from(move |v: String| code.set(v))
    };
    let email = session.session().and_then(|s| s.user.email);
    html! {
        <>
            <h1>{ th(Msg::AuthTwoStep) }</h1>
            <p>
                { match email {
                    Some(email) => tf(Msg::AuthTwoStepOnFor, &[("email", &email)]),
                    None => t(Msg::AuthTwoStepOn).to_owned(),
                } }
            </p>
            <form {onsubmit} novalidate=true>
                <TextField id="code" label={t(Msg::AuthCode)} value={(*code).clone()}
                    {oninput} autocomplete="one-time-code" placeholder="123456" required=true />
                if let Some(e) = action.error() { { error_view(e.clone(), None) } }
                <button type="submit" class="button" disabled={action.busy()}>
                    { if action.busy() { th(Msg::CommonChecking) } else { th(Msg::AuthVerify) } }
                </button>
                <button type="button" class="link" onclick={other_account}>
                    { th(Msg::AuthOtherAccount) }
                </button>
            </form>
        </>
    }
}

/// Props-free sign-in page; the code step while the session needs its code.
#[function_component(Login)]
pub fn login() -> Html {
    let ctx = use_app();
    let session = use_session();
    let location = use_location();
    let next = safe_next(crate::api::query::param(&location.query, "next").as_deref());
    let email = use_state(String::new);
    let password = use_state(String::new);
    let action = use_action(Errors::Kept);

    // Signed in (now, after the code, or already): go where the visitor wanted to go.
    {
        let signed_in = session.signed_in();
        let next = next.clone();
        use_effect_on(signed_in, move |signed_in| {
            if *signed_in {
                router::push(&next);
            }
        });
    }
    // Back from a social provider that refused: `#error_description=…` (a session in the
    // fragment is taken by the app before any page shows).
    {
        let action = action.clone();
        use_effect_on((), move |_| {
            let hash = gloo::utils::window().location().hash().unwrap_or_default();
            if let Some(message) = parse_fragment(&hash).and_then(|tokens| tokens.error) {
                action.fail(AppError::Auth(message));
            }
        });
    }

    let onsubmit = {
        let (email, password, action, session) = (
            email.clone(),
            password.clone(),
            action.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if action.busy() {
                return;
            }
            if let Some(text) = message(Email::parse(&email)) {
                action.fail(AppError::Invalid(text));
                return;
            }
            if password.is_empty() {
                action.fail(AppError::Invalid(t(Msg::AuthEnterPassword).into()));
                return;
            }
            let (email, password, session) =
                ((*email).clone(), (*password).clone(), session.clone());
            action.run(async move { session.sign_in(&email, &password).await });
        })
    };
    // Not a run of `action`: the sign-in button does not turn busy while the provider's
    // address is asked for, but a failure shows under the form.
    let social = |provider: &'static str, label: &'static str| {
        let (api, action) = (ctx.api.clone(), action.clone());
        let onclick = Callback::from(move |_| {
            let (api, action) = (api.clone(), action.clone());
            action.clear();
            spawn_local(async move {
                let back = format!("{}/auth/login", origin());
                match auth::social_sign_in_url(&api, provider, &back).await {
                    Ok(url) => {
                        let _ = gloo::utils::window().location().assign(&url);
                    }
                    Err(e) => action.fail(e),
                }
            });
        });
        html! { <button type="button" class="button secondary social" {onclick}>{ label }</button> }
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };

    if session.signed_in() {
        return loading_view(t(Msg::AppSigningIn));
    }
    html! {
        <section class="page narrow auth">
            if session.needs_code() {
                <CodeStep />
            } else {
                <h1>{ th(Msg::NavSignIn) }</h1>
                <form {onsubmit} novalidate=true>
                    <TextField id="email" label={t(Msg::AuthEmail)} kind="email" value={(*email).clone()}
                        oninput={set(&email)} autocomplete="email" required=true />
                    <TextField id="password" label={t(Msg::AuthPassword)} kind="password" value={(*password).clone()}
                        oninput={set(&password)} autocomplete="current-password" required=true />
                    if let Some(e) = action.error() { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={action.busy()}>
                        { if action.busy() { th(Msg::AuthSigningIn) } else { th(Msg::NavSignIn) } }
                    </button>
                </form>
                <div class="divider"><span>{ th(Msg::AuthOr) }</span></div>
                <div class="social-buttons">
                    { social("github", t(Msg::AuthGithub)) }
                    { social("google", t(Msg::AuthGoogle)) }
                </div>
                <p class="auth-links">
                    { route_link(Route::ForgotPassword, "", t(Msg::AuthForgot)) }
                    { " · " }
                    { route_link(Route::Register, "", t(Msg::AuthCreateAnAccount)) }
                </p>
            }
        </section>
    }
}

/// Create an account.
#[function_component(Register)]
pub fn register() -> Html {
    let ctx = use_app();
    let session = use_session();
    let name = use_state(String::new);
    let email = use_state(String::new);
    let password = use_state(String::new);
    let errors = use_state(|| (None::<String>, None::<String>, None::<String>));
    let action = use_action(Errors::Kept);
    let sent = use_state(bool::default);
    let onsubmit = {
        let (name, email, password, errors, action, sent, api, session) = (
            name.clone(),
            email.clone(),
            password.clone(),
            errors.clone(),
            action.clone(),
            sent.clone(),
            ctx.api.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let found = (
                message(DisplayName::parse(&name)),
                message(Email::parse(&email)),
                message(Password::check_strength(&password)),
            );
            let invalid = found.0.is_some() || found.1.is_some() || found.2.is_some();
            errors.set(found);
            if invalid || action.busy() {
                return;
            }
            let (name, email, password) = ((*name).clone(), (*email).clone(), (*password).clone());
            let (sent, api, session) = (sent.clone(), api.clone(), session.clone());
            action.run(async move {
                match auth::sign_up(&api, &email, &password, &name).await? {
                    SignUp::SignedIn(new_session) => {
                        session.adopt(new_session);
                        router::push_route(&Route::Dashboard);
                    }
                    SignUp::ConfirmEmail => sent.set(true),
                }
                Ok(())
            });
        })
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let (strength, word) = password_strength(&password);
    if *sent {
        return html! {
            <section class="page narrow auth">
                <h1>{ th(Msg::AuthCheckInbox) }</h1>
                <p>{ tf(Msg::AuthConfirmationSent, &[("email", &email)]) }</p>
            </section>
        };
    }
    html! {
        <section class="page narrow auth">
            <h1>{ th(Msg::AuthCreateYourAccount) }</h1>
            <form {onsubmit} novalidate=true>
                <TextField id="name" label={t(Msg::AuthYourName)} value={(*name).clone()} oninput={set(&name)}
                    autocomplete="name" error={errors.0.clone()} required=true />
                <TextField id="email" label={t(Msg::AuthEmail)} kind="email" value={(*email).clone()} oninput={set(&email)}
                    autocomplete="email" error={errors.1.clone()} required=true />
                <TextField id="password" label={t(Msg::AuthPassword)} kind="password" value={(*password).clone()}
                    oninput={set(&password)} autocomplete="new-password" error={errors.2.clone()} required=true
                    hint={t(Msg::AuthPasswordHint)} />
                <div class="strength" aria-live="polite">
                    <meter min="0" max="4" low="2" high="3" optimum="4" value={strength.to_string()}
                        aria-label={t(Msg::AuthStrength)}></meter>
                    <span>{ word }</span>
                </div>
                if let Some(e) = action.error() { { error_view(e.clone(), None) } }
                <button type="submit" class="button wide" disabled={action.busy()}>
                    { if action.busy() { th(Msg::AuthCreating) } else { th(Msg::NavCreateAccount) } }
                </button>
            </form>
            <p class="auth-links">{ th(Msg::AuthHaveAccount) }{ " " }{ route_link(Route::Login, "", t(Msg::NavSignIn)) }</p>
        </section>
    }
}

/// Ask for a recovery mail.
#[function_component(ForgotPassword)]
pub fn forgot_password() -> Html {
    let ctx = use_app();
    let email = use_state(String::new);
    let action = use_action(Errors::Kept);
    let sent = use_state(bool::default);
    let onsubmit = {
        let (email, action, sent, api) =
            (email.clone(), action.clone(), sent.clone(), ctx.api.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(text) = message(Email::parse(&email)) {
                action.fail(AppError::Invalid(text));
                return;
            }
            let (email, sent, api) = ((*email).clone(), sent.clone(), api.clone());
            action.run(async move {
                let back = format!("{}/auth/reset-password", origin());
                auth::recover(&api, &email, &back).await?;
                sent.set(true);
                Ok(())
            });
        })
    };
    let oninput = {
        let email = email.clone();
        Callback::from(move |v: String| email.set(v))
    };
    html! {
        <section class="page narrow auth">
            <h1>{ th(Msg::AuthForgot) }</h1>
            if *sent {
                <div class="alert success" role="status">
                    <p>{ tf(Msg::AuthRecoverySent, &[("email", &email)]) }</p>
                </div>
                { route_link(Route::Login, "", t(Msg::AuthBackToSignIn)) }
            } else {
                <p>{ th(Msg::AuthForgotText) }</p>
                <form {onsubmit} novalidate=true>
                    <TextField id="email" label={t(Msg::AuthEmail)} kind="email" value={(*email).clone()} {oninput}
                        autocomplete="email" required=true />
                    if let Some(e) = action.error() { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={action.busy()}>
                        { if action.busy() { th(Msg::CommonSending) } else { th(Msg::AuthSendLink) } }
                    </button>
                </form>
            }
        </section>
    }
}

/// Choose a new password, from the recovery mail's link
/// (`#access_token=…&refresh_token=…&type=recovery`: the app takes the session from the
/// fragment before any page shows, and drops the tokens from the address bar). When the
/// account has two-step sign-in on, the code comes first: a recovery link is only `aal1`.
#[function_component(ResetPassword)]
pub fn reset_password() -> Html {
    let ctx = use_app();
    let session = use_session();
    let link_error = use_state(|| {
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        parse_fragment(&hash)
            .and_then(|tokens| tokens.error)
            .map(AppError::Auth)
    });
    let password = use_state(String::new);
    let field_error = use_state(Option::<String>::default);
    let action = use_action(Errors::Kept);
    let onsubmit = {
        let (password, field_error, action, ctx) = (
            password.clone(),
            field_error.clone(),
            action.clone(),
            ctx.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let found = message(Password::check_strength(&password));
            let invalid = found.is_some();
            field_error.set(found);
            if invalid {
                return;
            }
            let (password, ctx) = ((*password).clone(), ctx.clone());
            action.run(async move {
                auth::update_password(&ctx.api, &password).await?;
                ctx.notify(t(Msg::AuthPasswordChanged));
                router::push_route(&Route::Dashboard);
                Ok(())
            });
        })
    };
    let oninput = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    html! {
        <section class="page narrow auth">
            if let Some(e) = &*link_error {
                <h1>{ th(Msg::AuthChooseNew) }</h1>
                { error_view(e.clone(), None) }
                { route_link(Route::ForgotPassword, "", t(Msg::AuthNewLink)) }
            } else if session.needs_code() {
                <CodeStep />
            } else if session.session().is_none() {
                <h1>{ th(Msg::AuthChooseNew) }</h1>
                <p>{ th(Msg::AuthNeedsLink) }</p>
                { route_link(Route::ForgotPassword, "", t(Msg::AuthAskLink)) }
            } else {
                <h1>{ th(Msg::AuthChooseNew) }</h1>
                <form {onsubmit} novalidate=true>
                    <TextField id="password" label={t(Msg::AuthNewPassword)} kind="password" value={(*password).clone()}
                        {oninput} autocomplete="new-password" error={(*field_error).clone()} required=true
                        hint={t(Msg::AuthPasswordHint)} />
                    if let Some(e) = action.error() { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={action.busy()}>
                        { if action.busy() { th(Msg::CommonSaving) } else { th(Msg::AuthSavePassword) } }
                    </button>
                </form>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn strength_grows_with_length_and_variety() {
        assert_eq!(password_strength(""), (0, ""));
        assert_eq!(password_strength("abc1").0, 1);
        assert_eq!(password_strength("abcdefg1").0, 2);
        assert_eq!(password_strength("Abcdefg1").0, 3);
        assert_eq!(password_strength("Abcdefgh-12345").0, 4);
    }
}
