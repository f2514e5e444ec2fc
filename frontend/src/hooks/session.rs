use domain::Profile;
use uuid::Uuid;
use yew::prelude::*;

use crate::error::AppError;
use crate::hooks::use_app;
use crate::services::auth;
use crate::session::{token_aal, Session};
use crate::state::{AppContext, AppState};

/// A password sign-in that still needs its TOTP code.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMfa {
    session: Session,
    /// The verified TOTP factor to challenge.
    pub factor_id: String,
}

/// Where a sign-in stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInStep {
    /// Signed in.
    Done,
    /// The account has a verified TOTP factor: ask for the code.
    MfaRequired(PendingMfa),
}

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

    /// The session, if signed in.
    pub fn session(&self) -> Option<Session> {
        self.ctx.state.session.clone()
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

    /// Signs in with a password. When the account has a verified TOTP factor and the
    /// session is only `aal1`, nothing is stored yet: finish with
    /// [`SessionHandle::complete_mfa`].
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignInStep, AppError> {
        let api = &self.ctx.api;
        let session = auth::sign_in(api, email, password).await?;
        let user = auth::user_with_token(api, &session.access_token).await?;
        let aal = token_aal(&session.access_token);
        if let Some(factor) = user.verified_totp() {
            if aal.as_deref() != Some("aal2") {
                return Ok(SignInStep::MfaRequired(PendingMfa {
                    factor_id: factor.id.clone(),
                    session: Session { user, ..session },
                }));
            }
        }
        api.set_session(Some(Session { user, ..session }));
        Ok(SignInStep::Done)
    }

    /// Verifies the TOTP code of a pending sign-in and stores the `aal2` session.
    pub async fn complete_mfa(&self, pending: &PendingMfa, code: &str) -> Result<(), AppError> {
        let api = &self.ctx.api;
        let session = auth::challenge_and_verify(
            api,
            Some(&pending.session.access_token),
            &pending.factor_id,
            code,
        )
        .await?;
        api.set_session(Some(session));
        Ok(())
    }

    /// Stores a session obtained elsewhere (sign-up, recovery link, MFA verify).
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
