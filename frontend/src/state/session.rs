use domain::Profile;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::auth;
use crate::api::error::AppError;
use crate::api::session::Session;
use crate::i18n::{t, Msg};
use crate::state::use_app;
use crate::state::{AppContext, AppState};

/// The session, with what one does to it.
#[derive(Clone, PartialEq)]
pub struct SessionHandle {
    ctx: AppContext,
}

/// The signed-in user's session and the actions on it.
#[hook]
pub fn use_session() -> SessionHandle {
    SessionHandle { ctx: use_app() }
}

impl SessionHandle {
    /// The global state.
    pub fn state(&self) -> &AppState {
        &self.ctx.state
    }

    /// The session, if any (it may still need its code: see [`Self::signed_in`]).
    pub fn session(&self) -> Option<Session> {
        self.ctx.state.session.clone()
    }

    /// `true` when signed in: a session that still needs its two-step code is not.
    pub fn signed_in(&self) -> bool {
        self.ctx.state.signed_in()
    }

    /// `true` while the session waits for its two-step code.
    pub fn needs_code(&self) -> bool {
        self.ctx
            .state
            .session
            .as_ref()
            .is_some_and(Session::needs_code)
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> Option<Uuid> {
        self.ctx.state.session.as_ref().map(|s| s.user.id)
    }

    /// The profile, once loaded.
    pub fn profile(&self) -> Option<Profile> {
        self.ctx.state.profile.clone()
    }

    /// `true` for an active admin.
    pub fn is_admin(&self) -> bool {
        self.ctx.state.is_admin()
    }

    /// Signs in with a password and keeps the session. When the account has a verified
    /// factor, that session is only `aal1`: [`Self::needs_code`] is then `true` until
    /// [`Self::verify_code`].
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(), AppError> {
        let session = auth::sign_in(&self.ctx.api, email, password).await?;
        self.ctx.api.set_session(Some(session));
        Ok(())
    }

    /// Verifies the TOTP code of the session that needs it and keeps the `aal2` session.
    pub async fn verify_code(&self, code: &str) -> Result<(), AppError> {
        let api = &self.ctx.api;
        let factor = api
            .session()
            .and_then(|s| s.user.verified_totp().map(|f| f.id.clone()));
        let Some(factor_id) = factor else {
            return Err(AppError::Auth(t(Msg::AuthNotTotp).into()));
        };
        let session = auth::challenge_and_verify(api, &factor_id, code).await?;
        api.set_session(Some(session));
        Ok(())
    }

    /// Stores a session obtained elsewhere (sign-up, a link from a mail).
    pub fn adopt(&self, session: Session) {
        self.ctx.api.set_session(Some(session));
    }

    /// Signs out on this device (the local session goes even if the server is unreachable).
    pub async fn sign_out(&self) {
        let _ = auth::logout(&self.ctx.api, "local").await;
        self.ctx.api.set_session(None);
    }

    /// Refreshes the session now.
    pub async fn refresh(&self) -> Result<(), AppError> {
        self.ctx.api.refresh().await.map(|_| ())
    }
}
