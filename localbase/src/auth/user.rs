//! `POST /signup`, `GET /user`, `PUT /user`.

use super::error::{object_or_empty, parse_body, rate_limit, AuthError, ClientInfo};
use super::password;
use super::ratelimit::Bucket;
use super::session;
use super::users::{self, INSTANCE_ID};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Deserialize, Default)]
struct SignupParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

/// What a new email user is made of (sign-up and admin creation share it).
pub(super) struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: Option<String>,
    pub confirmed: bool,
    pub user_metadata: Value,
    /// Extra app_metadata merged over `{provider, providers}`.
    pub app_metadata: Value,
    pub role: &'a str,
}

/// Inserts the user and its email identity, filling the columns GoTrue (and the seed) fills.
/// A duplicate address fails with the unique violation (`23505`).
pub(super) async fn insert_user(
    conn: &mut PgConnection,
    new: NewUser<'_>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let app_metadata = users::merge_metadata(
        json!({"provider": "email", "providers": ["email"]}),
        &new.app_metadata,
    );
    sqlx::query(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, \
            raw_app_meta_data, raw_user_meta_data, created_at, updated_at, confirmation_token, recovery_token, \
            email_change_token_new, email_change, is_sso_user, is_anonymous) \
         values ($1::uuid, $2, 'authenticated', $3, $4, $5, case when $6 then now() end, $7, $8, now(), now(), \
            '', '', '', '', false, false)",
    )
    .bind(INSTANCE_ID)
    .bind(id)
    .bind(new.role)
    .bind(new.email)
    .bind(new.password_hash.unwrap_or_default())
    .bind(new.confirmed)
    .bind(&app_metadata)
    .bind(&new.user_metadata)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at) \
         values ($1, $2, $3, 'email', now(), now(), now())",
    )
    .bind(id.to_string())
    .bind(id)
    .bind(json!({"sub": id.to_string(), "email": new.email, "email_verified": new.confirmed, "phone_verified": false}))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
}

/// `POST /signup {email, password, data}` → a session (confirmations are off locally).
pub(super) async fn signup(
    State(state): State<AppState>,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    let params: SignupParams = parse_body(&body)?;
    if state.config.auth.disable_signup {
        return Err(AuthError::unprocessable(
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    rate_limit(&state, &client, Bucket::Signup)?;
    if params.email.as_deref().unwrap_or("").is_empty()
        && params.phone.as_deref().is_some_and(|p| !p.is_empty())
    {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone signups are disabled",
        ));
    }
    let no_email = params.email.as_deref().unwrap_or("").is_empty();
    let no_phone = params.phone.as_deref().unwrap_or("").is_empty();
    if no_email && no_phone {
        // Without an address GoTrue signs up an anonymous user, which is off locally.
        return Err(if params.password.as_deref().unwrap_or("").is_empty() {
            AuthError::unprocessable(
                "anonymous_provider_disabled",
                "Anonymous sign-ins are disabled",
            )
        } else {
            AuthError::unprocessable(
                "validation_failed",
                "To signup, please provide your email or phone number",
            )
        });
    }
    let email = users::validate_email(params.email.as_deref().unwrap_or(""))?;
    let password = params.password.unwrap_or_default();
    if password.is_empty() {
        return Err(AuthError::unprocessable(
            "validation_failed",
            "Signup requires a valid password",
        ));
    }
    password::check_strength(&state, &password).await?;

    let mut tx = state.db.begin().await?;
    if users::find_by_email(&mut tx, &email).await?.is_some() {
        return Err(AuthError::unprocessable(
            "user_already_exists",
            "User already registered",
        ));
    }
    let hash = users::hash_password(&password).await?;
    let new = NewUser {
        email: &email,
        password_hash: Some(hash),
        confirmed: true,
        user_metadata: object_or_empty(params.data),
        app_metadata: json!({}),
        role: "authenticated",
    };
    let user_id = match insert_user(&mut tx, new).await {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AuthError::unprocessable(
                "user_already_exists",
                "User already registered",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let (session_id, refresh_token) =
        session::create_session(&mut tx, user_id, "password", &client).await?;
    let response =
        session::session_response(&mut tx, &state, user_id, session_id, &refresh_token).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "auth: user signed up");
    Ok(Json(response))
}

/// `GET /user`.
pub(super) async fn get_user(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AuthError> {
    let caller = users::authenticate(&state, &headers).await?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(users::user_json(&mut conn, &caller.user).await?))
}

#[derive(Deserialize, Default)]
struct UpdateParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    phone: Option<String>,
}

/// `PUT /user {email, password, data}`: the password is re-hashed (and the user's other
/// sessions end, as GoTrue does), `data` is merged into user_metadata, a new email applies at
/// once (mail confirmations are off locally).
pub(super) async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientInfo,
    body: Bytes,
) -> Result<Json<Value>, AuthError> {
    // GoTrue limits `PUT /user` per IP with sign-ups and OTPs.
    rate_limit(&state, &client, Bucket::User)?;
    let caller = users::authenticate(&state, &headers).await?;
    let params: UpdateParams = parse_body(&body)?;
    let user = caller.user;
    if params.phone.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(AuthError::unprocessable(
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    }
    let mut tx = state.db.begin().await?;
    let changes_password = params.password.as_deref().is_some_and(|p| !p.is_empty());
    let changes_email = params
        .email
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case(user.email()));
    if (changes_password || changes_email)
        && users::has_verified_factor(&mut tx, user.id).await?
        && users::session_aal(&mut tx, caller.session_id).await? != "aal2"
    {
        return Err(AuthError::unauthorized(
            "insufficient_aal",
            "AAL2 session is required to update email or password when MFA is enabled.",
        ));
    }
    if let Some(password) = params.password.as_deref() {
        password::check_strength(&state, password).await?;
        if users::verify_password(password, user.encrypted_password.as_deref()).await? {
            return Err(AuthError::unprocessable(
                "same_password",
                "New password should be different from the old password.",
            ));
        }
        let hash = users::hash_password(password).await?;
        sqlx::query(
            "update auth.users set encrypted_password = $2, updated_at = now() where id = $1",
        )
        .bind(user.id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        // A new password means the old one may be known to someone else.
        sqlx::query("delete from auth.sessions where user_id = $1 and id is distinct from $2")
            .bind(user.id)
            .bind(caller.session_id)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(data) = params.data.as_ref().filter(|d| d.is_object()) {
        let merged = users::merge_metadata(user.user_metadata(), data);
        sqlx::query(
            "update auth.users set raw_user_meta_data = $2, updated_at = now() where id = $1",
        )
        .bind(user.id)
        .bind(merged)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(email) = params.email.as_deref().filter(|e| !e.trim().is_empty()) {
        let email = users::validate_email(email)?;
        if email != user.email().to_lowercase() {
            if users::find_by_email(&mut tx, &email).await?.is_some() {
                return Err(AuthError::unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
            change_email(&mut tx, user.id, &email).await.map_err(|e| {
                if is_unique_violation(&e) {
                    AuthError::unprocessable(
                        "email_exists",
                        "A user with this email address has already been registered",
                    )
                } else {
                    e.into()
                }
            })?;
        }
    }
    let updated = users::find_by_id(&mut tx, user.id)
        .await?
        .ok_or_else(|| AuthError::internal("the user vanished during an update"))?;
    let json = users::user_json(&mut tx, &updated).await?;
    tx.commit().await?;
    Ok(Json(json))
}

/// Sets a (confirmed) new address on the user and its email identity.
pub(super) async fn change_email(
    conn: &mut PgConnection,
    user_id: Uuid,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update auth.users set email = $2, email_confirmed_at = coalesce(email_confirmed_at, now()), \
                email_change = '', email_change_token_new = '', updated_at = now() where id = $1",
    )
    .bind(user_id)
    .bind(email)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update auth.identities set identity_data = identity_data || jsonb_build_object('email', $2::text), \
                updated_at = now() where user_id = $1 and provider = 'email'",
    )
    .bind(user_id)
    .bind(email)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
