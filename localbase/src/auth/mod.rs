//! `/auth/v1`: Supabase Auth (GoTrue).
//!
//! The subset of GoTrue's HTTP contract that the SPA, the worker and the official clients use,
//! over GoTrue's own tables in the `auth` schema (`users`, `identities`, `sessions`,
//! `refresh_tokens`, `mfa_factors`, `mfa_challenges`, `mfa_amr_claims`):
//!
//! | route | what |
//! | --- | --- |
//! | `POST /signup` | email + password sign-up; returns a session (confirmations are off locally) |
//! | `POST /token?grant_type=password\|refresh_token` | sign-in, and refresh with rotation and reuse detection |
//! | `GET /user`, `PUT /user` | the caller's user; change email, password, `data` (user_metadata) |
//! | `POST /logout?scope=global\|local\|others` | ends sessions |
//! | `POST /recover`, `POST /otp`, `POST /magiclink` | mails a link and a code (see the mailbox below) |
//! | `GET /verify`, `POST /verify` | redeems a mailed link or code for a session |
//! | `POST /factors`, `POST /factors/{id}/challenge`, `POST /factors/{id}/verify`, `DELETE /factors/{id}` | TOTP MFA |
//! | `GET/POST /admin/users`, `GET/PUT/DELETE /admin/users/{id}`, `GET /admin/users/{id}/factors`, `DELETE /admin/users/{id}/factors/{factor_id}` | user administration (service_role only) |
//! | `GET /settings`, `GET /health`, `GET /authorize` | server facts; no external provider is enabled |
//! | `GET /mailbox?email=…` | **localbase only**: the mails "sent" to an address, newest last |
//!
//! Mail is never sent. Like the Supabase CLI's Inbucket, every mail is kept locally: written as a
//! JSON file under `<data_dir>/mail/` (`to`, `subject`, `text`, `html`, `link`, `token`, `type`,
//! `created_at`), logged, and listed by `GET /auth/v1/mailbox?email=<address>`.
//!
//! Errors keep GoTrue's body `{"code":<status>,"error_code":"…","msg":"…"}`, or
//! `{"code":"<error_code>","message":"…"}` when the request carries
//! `X-Supabase-Api-Version: 2024-01-01` (or later).

mod admin;
mod error;
mod mail;
mod mfa;
mod password;
mod ratelimit;
mod session;
mod settings;
mod user;
mod users;
mod verify;

pub use error::AuthError;
pub use ratelimit::RateLimiter;
pub use settings::{AuthSettings, RateLimits};

use crate::AppState;
use axum::routing::{delete, get, post};
use axum::Router;

/// `/auth/v1`: GoTrue's endpoints (sign-up, token, user, recovery and OTP, MFA, admin,
/// settings), the mailbox, and the API-version error layer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", post(user::signup))
        .route("/token", post(session::token))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/logout", post(session::logout))
        .route("/recover", post(verify::recover))
        .route("/otp", post(verify::otp))
        .route("/magiclink", post(verify::otp))
        .route("/verify", get(verify::verify_get).post(verify::verify_post))
        .route("/mailbox", get(mail::mailbox))
        .route("/factors", post(mfa::enroll))
        .route("/factors/{id}", delete(mfa::unenroll))
        .route("/factors/{id}/challenge", post(mfa::challenge))
        .route("/factors/{id}/verify", post(mfa::verify))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(admin::get_user)
                .put(admin::update_user)
                .delete(admin::delete_user),
        )
        .route("/admin/users/{id}/factors", get(admin::list_factors))
        .route(
            "/admin/users/{id}/factors/{factor_id}",
            delete(admin::delete_factor),
        )
        .route("/settings", get(settings::settings))
        .route("/health", get(settings::health))
        .route("/authorize", get(settings::authorize))
        .layer(axum::middleware::from_fn(error::api_version_layer))
}
