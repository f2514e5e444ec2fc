//! `/auth/*`: sign in (with social buttons and the TOTP step), register, forgot and
//! reset password.

use domain::{DisplayName, Email, Password};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::app::Route;
use crate::components::feedback::error_view;
use crate::components::feedback::loading_view;
use crate::components::field::TextField;
use crate::components::route_link;
use crate::hooks::use_effect_on;
use crate::router::{self, use_location};

use crate::config::origin;
use crate::error::{capitalize, AppError};
use crate::guard::safe_next;
use crate::hooks::{use_app, use_session, PendingMfa, SignInStep};
use crate::services::auth::{self, parse_fragment, SignUp};
use crate::session::{now_secs, Session};

fn message(result: Result<impl Sized, domain::DomainError>) -> Option<String> {
    result.err().map(|e| capitalize(&e.to_string()))
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
        1 => "Too short",
        2 => "Fair",
        3 => "Good",
        _ => "Strong",
    };
    (score, word)
}

/// Props-free sign-in page.
#[function_component(Login)]
pub fn login() -> Html {
    let ctx = use_app();
    let session = use_session();
    let location = use_location();
    let next = safe_next(crate::services::query::param(&location.query, "next").as_deref());
    let email = use_state(String::new);
    let password = use_state(String::new);
    let code = use_state(String::new);
    let error = use_state(Option::<AppError>::default);
    let busy = use_state(bool::default);
    let pending = use_state(|| None::<PendingMfa>);

    // Signed in (now or already): go where the visitor wanted to go.
    {
        let signed_in = session.session().is_some();
        let next = next.clone();
        use_effect_on(signed_in, move |signed_in| {
            if *signed_in {
                router::push(&next);
            }
        });
    }
    // Back from a social provider: `#access_token=…` in the fragment.
    {
        let api = ctx.api.clone();
        let session = session.clone();
        let error = error.clone();
        use_effect_on((), move |_| {
            let hash = gloo::utils::window().location().hash().unwrap_or_default();
            if let Some(tokens) = parse_fragment(&hash) {
                if let Some(message) = tokens.error {
                    error.set(Some(AppError::Auth(message)));
                } else if tokens.kind.as_deref() != Some("recovery") {
                    spawn_local(async move {
                        match auth::user_with_token(&api, &tokens.access_token).await {
                            Ok(user) => session.adopt(Session {
                                access_token: tokens.access_token,
                                refresh_token: tokens.refresh_token,
                                expires_at: now_secs() + tokens.expires_in.unwrap_or(3600),
                                user,
                            }),
                            Err(e) => error.set(Some(e)),
                        }
                    });
                }
            }
        });
    }

    let onsubmit = {
        let (email, password, error, busy, pending, session) = (
            email.clone(),
            password.clone(),
            error.clone(),
            busy.clone(),
            pending.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if let Some(text) = message(Email::parse(&email)) {
                error.set(Some(AppError::Invalid(text)));
                return;
            }
            if password.is_empty() {
                error.set(Some(AppError::Invalid("Enter your password.".into())));
                return;
            }
            busy.set(true);
            error.set(None);
            let (email, password, error, busy, pending, session) = (
                (*email).clone(),
                (*password).clone(),
                error.clone(),
                busy.clone(),
                pending.clone(),
                session.clone(),
            );
            spawn_local(async move {
                match session.sign_in(&email, &password).await {
                    Ok(SignInStep::Done) => {}
                    Ok(SignInStep::MfaRequired(step)) => pending.set(Some(step)),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_code = {
        let (code, error, busy, pending, session) = (
            code.clone(),
            error.clone(),
            busy.clone(),
            pending.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(step) = (*pending).clone() else {
                return;
            };
            let digits: String = code.chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 6 {
                error.set(Some(AppError::Invalid(
                    "Enter the 6-digit code from your authenticator app.".into(),
                )));
                return;
            }
            busy.set(true);
            error.set(None);
            let (error, busy, session) = (error.clone(), busy.clone(), session.clone());
            spawn_local(async move {
                if let Err(e) = session.complete_mfa(&step, &digits).await {
                    error.set(Some(e));
                }
                busy.set(false);
            });
        })
    };
    let social = |provider: &'static str, label: &'static str| {
        let (api, error) = (ctx.api.clone(), error.clone());
        let onclick = Callback::from(move |_| {
            let (api, error) = (api.clone(), error.clone());
            error.set(None);
            spawn_local(async move {
                let back = format!("{}/auth/login", origin());
                match auth::social_sign_in_url(&api, provider, &back).await {
                    Ok(url) => {
                        let _ = gloo::utils::window().location().assign(&url);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
        html! { <button type="button" class="button secondary social" {onclick}>{ label }</button> }
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };

    if session.session().is_some() {
        return loading_view("Signing you in…");
    }
    html! {
        <section class="page narrow auth">
            if pending.is_some() {
                <h1>{ "Two-factor check" }</h1>
                <p>{ "Enter the 6-digit code shown by your authenticator app." }</p>
                <form onsubmit={on_code} novalidate=true>
                    <TextField id="code" label="Authentication code" value={(*code).clone()}
                        oninput={set(&code)} autocomplete="one-time-code" placeholder="123456" required=true />
                    if let Some(e) = &*error { { error_view(e.clone(), None) } }
                    <button type="submit" class="button" disabled={*busy}>
                        { if *busy { "Checking…" } else { "Verify and sign in" } }
                    </button>
                    <button type="button" class="link" onclick={{ let pending = pending.clone(); Callback::from(move |_| pending.set(None)) }}>
                        { "Use another account" }
                    </button>
                </form>
            } else {
                <h1>{ "Sign in" }</h1>
                <form {onsubmit} novalidate=true>
                    <TextField id="email" label="Email" kind="email" value={(*email).clone()}
                        oninput={set(&email)} autocomplete="email" required=true />
                    <TextField id="password" label="Password" kind="password" value={(*password).clone()}
                        oninput={set(&password)} autocomplete="current-password" required=true />
                    if let Some(e) = &*error { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={*busy}>
                        { if *busy { "Signing in…" } else { "Sign in" } }
                    </button>
                </form>
                <div class="divider"><span>{ "or" }</span></div>
                <div class="social-buttons">
                    { social("github", "Continue with GitHub") }
                    { social("google", "Continue with Google") }
                </div>
                <p class="auth-links">
                    { route_link(Route::ForgotPassword, "", "Forgot your password?") }
                    { " · " }
                    { route_link(Route::Register, "", "Create an account") }
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
    let error = use_state(Option::<AppError>::default);
    let busy = use_state(bool::default);
    let sent = use_state(bool::default);
    let onsubmit = {
        let (name, email, password, errors, error, busy, sent, api, session) = (
            name.clone(),
            email.clone(),
            password.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
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
            if invalid || *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let (name, email, password) = ((*name).clone(), (*email).clone(), (*password).clone());
            let (error, busy, sent, api, session) = (
                error.clone(),
                busy.clone(),
                sent.clone(),
                api.clone(),
                session.clone(),
            );
            spawn_local(async move {
                match auth::sign_up(&api, &email, &password, &name).await {
                    Ok(SignUp::SignedIn(new_session)) => {
                        session.adopt(new_session);
                        router::push_route(&Route::Dashboard);
                    }
                    Ok(SignUp::ConfirmEmail) => sent.set(true),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
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
                <h1>{ "Check your inbox" }</h1>
                <p>{ format!("We sent a confirmation link to {}. Open it to finish creating your account.", *email) }</p>
            </section>
        };
    }
    html! {
        <section class="page narrow auth">
            <h1>{ "Create your account" }</h1>
            <form {onsubmit} novalidate=true>
                <TextField id="name" label="Your name" value={(*name).clone()} oninput={set(&name)}
                    autocomplete="name" error={errors.0.clone()} required=true />
                <TextField id="email" label="Email" kind="email" value={(*email).clone()} oninput={set(&email)}
                    autocomplete="email" error={errors.1.clone()} required=true />
                <TextField id="password" label="Password" kind="password" value={(*password).clone()}
                    oninput={set(&password)} autocomplete="new-password" error={errors.2.clone()} required=true
                    hint="At least 8 characters, with a letter and a digit." />
                <div class="strength" aria-live="polite">
                    <meter min="0" max="4" low="2" high="3" optimum="4" value={strength.to_string()}
                        aria-label="Password strength"></meter>
                    <span>{ word }</span>
                </div>
                if let Some(e) = &*error { { error_view(e.clone(), None) } }
                <button type="submit" class="button wide" disabled={*busy}>
                    { if *busy { "Creating your account…" } else { "Create account" } }
                </button>
            </form>
            <p class="auth-links">{ "Already have an account? " }{ route_link(Route::Login, "", "Sign in") }</p>
        </section>
    }
}

/// Ask for a recovery mail.
#[function_component(ForgotPassword)]
pub fn forgot_password() -> Html {
    let ctx = use_app();
    let email = use_state(String::new);
    let error = use_state(Option::<AppError>::default);
    let busy = use_state(bool::default);
    let sent = use_state(bool::default);
    let onsubmit = {
        let (email, error, busy, sent, api) = (
            email.clone(),
            error.clone(),
            busy.clone(),
            sent.clone(),
            ctx.api.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(text) = message(Email::parse(&email)) {
                error.set(Some(AppError::Invalid(text)));
                return;
            }
            busy.set(true);
            error.set(None);
            let (email, error, busy, sent, api) = (
                (*email).clone(),
                error.clone(),
                busy.clone(),
                sent.clone(),
                api.clone(),
            );
            spawn_local(async move {
                let back = format!("{}/auth/reset-password", origin());
                match auth::recover(&api, &email, &back).await {
                    Ok(()) => sent.set(true),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let oninput = {
        let email = email.clone();
        Callback::from(move |v: String| email.set(v))
    };
    html! {
        <section class="page narrow auth">
            <h1>{ "Forgot your password?" }</h1>
            if *sent {
                <div class="alert success" role="status">
                    <p>{ format!("If an account exists for {}, we sent it a link to choose a new password.", *email) }</p>
                </div>
                { route_link(Route::Login, "", "Back to sign in") }
            } else {
                <p>{ "Enter your email and we'll send you a link to choose a new password." }</p>
                <form {onsubmit} novalidate=true>
                    <TextField id="email" label="Email" kind="email" value={(*email).clone()} {oninput}
                        autocomplete="email" required=true />
                    if let Some(e) = &*error { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={*busy}>
                        { if *busy { "Sending…" } else { "Send the link" } }
                    </button>
                </form>
            }
        </section>
    }
}

/// Choose a new password, from the recovery mail's link
/// (`#access_token=…&refresh_token=…&type=recovery`).
#[function_component(ResetPassword)]
pub fn reset_password() -> Html {
    let ctx = use_app();
    let session = use_session();
    let link_error = use_state(Option::<AppError>::default);
    let checking = use_state(|| true);
    let password = use_state(String::new);
    let field_error = use_state(Option::<String>::default);
    let error = use_state(Option::<AppError>::default);
    let busy = use_state(bool::default);
    {
        let (api, session, link_error, checking) = (
            ctx.api.clone(),
            session.clone(),
            link_error.clone(),
            checking.clone(),
        );
        use_effect_on((), move |_| {
            let hash = gloo::utils::window().location().hash().unwrap_or_default();
            match parse_fragment(&hash) {
                Some(tokens) if tokens.error.is_some() => {
                    link_error.set(Some(AppError::Auth(tokens.error.unwrap_or_default())));
                    checking.set(false);
                }
                Some(tokens) => spawn_local(async move {
                    match auth::user_with_token(&api, &tokens.access_token).await {
                        Ok(user) => {
                            session.adopt(Session {
                                access_token: tokens.access_token,
                                refresh_token: tokens.refresh_token,
                                expires_at: now_secs() + tokens.expires_in.unwrap_or(3600),
                                user,
                            });
                            // Drop the tokens from the address bar.
                            router::replace(&Route::ResetPassword.to_path());
                        }
                        Err(e) => link_error.set(Some(e)),
                    }
                    checking.set(false);
                }),
                None => checking.set(false),
            }
        });
    }
    let onsubmit = {
        let (password, field_error, error, busy, api, ctx2) = (
            password.clone(),
            field_error.clone(),
            error.clone(),
            busy.clone(),
            ctx.api.clone(),
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
            busy.set(true);
            error.set(None);
            let (password, error, busy, api, ctx2) = (
                (*password).clone(),
                error.clone(),
                busy.clone(),
                api.clone(),
                ctx2.clone(),
            );
            spawn_local(async move {
                match auth::update_password(&api, &password).await {
                    Ok(_) => {
                        ctx2.notify("Your password has been changed.");
                        router::push_route(&Route::Dashboard);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let oninput = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    html! {
        <section class="page narrow auth">
            <h1>{ "Choose a new password" }</h1>
            if *checking {
                { loading_view("Checking your link…") }
            } else if let Some(e) = &*link_error {
                { error_view(e.clone(), None) }
                { route_link(Route::ForgotPassword, "", "Ask for a new link") }
            } else if session.session().is_none() {
                <p>{ "This page needs the link from the password-reset mail." }</p>
                { route_link(Route::ForgotPassword, "", "Ask for a link") }
            } else {
                <form {onsubmit} novalidate=true>
                    <TextField id="password" label="New password" kind="password" value={(*password).clone()}
                        {oninput} autocomplete="new-password" error={(*field_error).clone()} required=true
                        hint="At least 8 characters, with a letter and a digit." />
                    if let Some(e) = &*error { { error_view(e.clone(), None) } }
                    <button type="submit" class="button wide" disabled={*busy}>
                        { if *busy { "Saving…" } else { "Save the new password" } }
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
