//! `/auth/v1`: GoTrue's contract, driven in process and through the official `supabase-auth` client.

use crate::helpers::{json_body, TestApp, ADMIN_ID, ALICE_ID, ANON_KEY, BOB_ID, SERVICE_KEY};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

pub const ALICE: (&str, &str) = ("alice@taskdeck.dev", "Alice-pass-123");
pub const BOB: (&str, &str) = ("bob@taskdeck.dev", "Bob-pass-123");

/// A request with the anon key, an optional bearer and an optional JSON body.
pub fn request(
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("apikey", ANON_KEY);
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request builds"),
        None => builder.body(Body::empty()).expect("request builds"),
    }
}

pub async fn send_json(app: &TestApp, req: Request<Body>) -> (StatusCode, Value) {
    let response = app.send(req).await;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, value)
}

/// Signs in with a password and returns the session JSON (panics unless 200).
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Value {
    let (status, body) = send_json(
        app,
        request(
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            Some(json!({"email": email, "password": password})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sign-in as {email} failed: {body}");
    body
}

pub fn access(session: &Value) -> String {
    session["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The payload of a JWT, without verifying it.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let mut bytes = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in payload.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => continue,
        } as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

/// The app with some settings changed (the rate-limit counters start afresh).
pub fn reconfigure(app: &mut TestApp, change: impl FnOnce(&mut localbase::Config)) {
    let mut config = (*app.state.config).clone();
    config.auth.limiter = Default::default();
    change(&mut config);
    app.state.config = Arc::new(config);
}

pub fn error_code(body: &Value) -> &str {
    body["error_code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn sign_up_returns_a_session_and_creates_the_profile() {
    let app = TestApp::seeded().await;
    let (status, session) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/signup",
            None,
            Some(json!({"email": "Carol@Example.com", "password": "carol-pass-123", "data": {"name": "Carol"}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["token_type"], "bearer");
    assert_eq!(session["expires_in"], 3600);
    assert!(session["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 12));
    let user = &session["user"];
    assert_eq!(user["email"], "carol@example.com");
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["phone"], "");
    assert_eq!(user["is_anonymous"], false);
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(user["user_metadata"], json!({"name": "Carol"}));
    assert!(user["email_confirmed_at"].is_string() && user["confirmed_at"].is_string());
    assert!(user["last_sign_in_at"].is_string());
    assert_eq!(user["identities"][0]["provider"], "email");
    assert_eq!(
        user["identities"][0]["identity_data"]["email"],
        "carol@example.com"
    );

    let id: uuid::Uuid = user["id"].as_str().expect("id").parse().expect("a uuid");
    let (email, name, role): (String, Option<String>, String) =
        sqlx::query_as("select email, name, role from public.profiles where id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .expect("the trigger made a profile");
    assert_eq!(
        (email.as_str(), name.as_deref(), role.as_str()),
        ("carol@example.com", Some("Carol"), "business_user")
    );
    let (hash,): (String,) =
        sqlx::query_as("select encrypted_password from auth.users where id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .expect("user row");
    assert!(
        hash.starts_with("$2") && hash.contains("$10$"),
        "bcrypt cost 10: {hash}"
    );

    // And the new account can sign in.
    sign_in(&app, "carol@example.com", "carol-pass-123").await;
}

#[tokio::test]
async fn sign_up_refuses_weak_passwords_and_taken_addresses() {
    let app = TestApp::seeded().await;
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/signup",
            None,
            Some(json!({"email": "dan@example.com", "password": "short"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], 422);
    assert_eq!(error_code(&body), "weak_password");
    assert_eq!(body["weak_password"]["reasons"], json!(["length"]));

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/signup",
            None,
            Some(json!({"email": "ALICE@taskdeck.dev", "password": "whatever-123"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"code": 422, "error_code": "user_already_exists", "msg": "User already registered"})
    );

    // The 2024-01-01 API version answers with the newer body.
    let mut req = request(
        "POST",
        "/auth/v1/signup",
        None,
        Some(json!({"email": "alice@taskdeck.dev", "password": "whatever-123"})),
    );
    req.headers_mut().insert(
        "x-supabase-api-version",
        "2024-01-01".parse().expect("header"),
    );
    let response = app.send(req).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers()["x-supabase-api-version"], "2024-01-01");
    assert_eq!(
        json_body(response).await,
        json!({"code": "user_already_exists", "message": "User already registered"})
    );

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/signup",
            None,
            Some(json!({"email": "not-an-address", "password": "whatever-123"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "email_address_invalid");

    let (status, body) = send_json(
        &app,
        request("POST", "/auth/v1/signup", None, Some(json!({}))),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "anonymous_provider_disabled");
}

#[tokio::test]
async fn sign_in_needs_the_right_password_and_issues_supabase_claims() {
    let app = TestApp::seeded().await;
    for (email, password) in [
        ("alice@taskdeck.dev", "wrong-password"),
        ("nobody@taskdeck.dev", "Alice-pass-123"),
    ] {
        let (status, body) = send_json(
            &app,
            request(
                "POST",
                "/auth/v1/token?grant_type=password",
                None,
                Some(json!({"email": email, "password": password})),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        );
    }

    let session = sign_in(&app, ALICE.0, ALICE.1).await;
    assert_eq!(session["user"]["id"], ALICE_ID);
    assert_eq!(session["user"]["user_metadata"]["name"], "Alice Analyst");
    let claims = claims(&access(&session));
    assert_eq!(claims["iss"], "http://127.0.0.1:54321/auth/v1");
    assert_eq!(claims["sub"], ALICE_ID);
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], "alice@taskdeck.dev");
    assert_eq!(claims["phone"], "");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert_eq!(claims["is_anonymous"], false);
    assert_eq!(claims["app_metadata"]["provider"], "email");
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        3600
    );
    assert_eq!(session["expires_at"], claims["exp"]);
    // The token is one localbase itself accepts.
    let verified = localbase::jwt::verify(&access(&session), localbase::config::DEFAULT_JWT_SECRET)
        .expect("valid");
    assert_eq!(verified.role, "authenticated");

    // The session is recorded with its AAL and the sign-in time is stamped.
    let session_id: uuid::Uuid = claims["session_id"]
        .as_str()
        .expect("session_id")
        .parse()
        .expect("uuid");
    let (aal, user_id): (String, uuid::Uuid) =
        sqlx::query_as("select aal, user_id from auth.sessions where id = $1")
            .bind(session_id)
            .fetch_one(&app.db.pool)
            .await
            .expect("a session row");
    assert_eq!(
        (aal.as_str(), user_id.to_string().as_str()),
        ("aal1", ALICE_ID)
    );
    let (last_login,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("select last_login from public.profiles where id = $1::uuid")
            .bind(ALICE_ID)
            .fetch_one(&app.db.pool)
            .await
            .expect("profile");
    assert!(last_login.is_some(), "last_sign_in_at reached the profile");

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=magic",
            None,
            Some(json!({})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| c.auth.refresh_token_reuse_interval_secs = 0);
    let first = sign_in(&app, ALICE.0, ALICE.1).await;
    let refresh = |token: &str| {
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(json!({"refresh_token": token})),
        )
    };
    let (status, second) =
        send_json(&app, refresh(first["refresh_token"].as_str().expect("rt"))).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["user"]["id"], ALICE_ID);
    assert_eq!(
        claims(&access(&second))["session_id"],
        claims(&access(&first))["session_id"]
    );
    let (parent,): (Option<String>,) =
        sqlx::query_as("select parent from auth.refresh_tokens where token = $1")
            .bind(second["refresh_token"].as_str())
            .fetch_one(&app.db.pool)
            .await
            .expect("the new token is stored");
    assert_eq!(parent.as_deref(), first["refresh_token"].as_str());

    let (status, third) =
        send_json(&app, refresh(second["refresh_token"].as_str().expect("rt"))).await;
    assert_eq!(status, StatusCode::OK);

    // The first token was spent two rotations ago: presenting it again ends the session.
    let (status, body) =
        send_json(&app, refresh(first["refresh_token"].as_str().expect("rt"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "refresh_token_already_used", "msg": "Invalid Refresh Token: Already Used"})
    );
    let (status, body) =
        send_json(&app, refresh(third["refresh_token"].as_str().expect("rt"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "refresh_token_not_found");
    let (status, body) = send_json(
        &app,
        request("GET", "/auth/v1/user", Some(&access(&third)), None),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "session_not_found");

    let (status, body) = send_json(&app, refresh("no-such-token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "refresh_token_not_found");
}

#[tokio::test]
async fn a_token_spent_moments_ago_is_tolerated_within_the_reuse_interval() {
    let app = TestApp::seeded().await;
    let first = sign_in(&app, BOB.0, BOB.1).await;
    let body = json!({"refresh_token": first["refresh_token"]});
    let (status, second) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(body.clone()),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The client lost the answer and retries with the same token: it gets the same successor.
    let (status, again) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(body),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["refresh_token"], second["refresh_token"]);
}

#[tokio::test]
async fn the_user_can_read_and_change_itself() {
    let app = TestApp::seeded().await;
    let session = sign_in(&app, ALICE.0, ALICE.1).await;
    let other = sign_in(&app, ALICE.0, ALICE.1).await;
    let token = access(&session);

    let (status, user) = send_json(&app, request("GET", "/auth/v1/user", Some(&token), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], ALICE_ID);
    assert_eq!(user["email"], "alice@taskdeck.dev");

    let (status, user) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"data": {"theme": "dark", "name": "Alice A."}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        user["user_metadata"],
        json!({"name": "Alice A.", "theme": "dark"})
    );

    let (status, body) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"password": "tiny"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "weak_password");
    let (status, body) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"password": ALICE.1})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "same_password");

    let (status, _) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"password": "Alice-new-pass-456"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sign_in(&app, ALICE.0, "Alice-new-pass-456").await;
    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            Some(json!({"email": ALICE.0, "password": ALICE.1})),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the old password no longer works"
    );
    // The password change ended the other session, not this one.
    let (status, _) = send_json(&app, request("GET", "/auth/v1/user", Some(&token), None)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send_json(
        &app,
        request("GET", "/auth/v1/user", Some(&access(&other)), None),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Emails: a taken one is refused, a free one applies at once.
    let (status, body) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"email": BOB.0})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "email_exists");
    let (status, user) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&token),
            Some(json!({"email": "alice@example.org"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "alice@example.org");

    // Without a bearer, or with the anon key as one, there is no user.
    let (status, body) = send_json(&app, request("GET", "/auth/v1/user", None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "no_authorization");
    let (status, body) =
        send_json(&app, request("GET", "/auth/v1/user", Some(ANON_KEY), None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "bad_jwt");
}

#[tokio::test]
async fn logout_scopes_end_the_right_sessions() {
    let app = TestApp::seeded().await;
    let a = sign_in(&app, ALICE.0, ALICE.1).await;
    let b = sign_in(&app, ALICE.0, ALICE.1).await;
    let c = sign_in(&app, ALICE.0, ALICE.1).await;
    let bob = sign_in(&app, BOB.0, BOB.1).await;
    let alive = |s: &Value| {
        let req = request("GET", "/auth/v1/user", Some(&access(s)), None);
        async { app.send(req).await.status() == StatusCode::OK }
    };

    let response = app
        .send(request(
            "POST",
            "/auth/v1/logout?scope=others",
            Some(&access(&a)),
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(alive(&a).await && !alive(&b).await && !alive(&c).await);

    let d = sign_in(&app, ALICE.0, ALICE.1).await;
    let response = app
        .send(request(
            "POST",
            "/auth/v1/logout?scope=local",
            Some(&access(&a)),
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(!alive(&a).await && alive(&d).await);
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(json!({"refresh_token": a["refresh_token"]})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "refresh_token_not_found");

    let e = sign_in(&app, ALICE.0, ALICE.1).await;
    let response = app
        .send(request("POST", "/auth/v1/logout", Some(&access(&d)), None))
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(!alive(&d).await && !alive(&e).await);
    assert!(alive(&bob).await, "another user's session is untouched");
}

pub async fn mailbox(app: &TestApp, email: &str) -> Vec<Value> {
    let (status, body) = send_json(
        app,
        request(
            "GET",
            &format!("/auth/v1/mailbox?email={email}"),
            None,
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_recovery_mail_speaks_the_language_of_the_users_metadata() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| {
        c.auth.rate_limits.email_sent = 10;
        c.auth.rate_limits.email_max_frequency_secs = 0;
    });
    let recover = || {
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": BOB.0})),
        )
    };
    // No language yet: GoTrue's English.
    assert_eq!(send_json(&app, recover()).await.0, StatusCode::OK);
    // Bob chooses Bahasa Indonesia (the SPA writes it to his metadata too).
    let session = sign_in(&app, BOB.0, BOB.1).await;
    let token = session["access_token"].as_str().expect("a token");
    let (status, user) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(token),
            Some(json!({"data": {"language": "id"}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(send_json(&app, recover()).await.0, StatusCode::OK);

    let mails = mailbox(&app, BOB.0).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0]["subject"], "Reset Your Password");
    let english = mails[0]["text"].as_str().expect("text");
    assert!(
        english.contains("Follow this link:") && english.contains("Or enter this code:"),
        "{english}"
    );
    assert_eq!(mails[1]["subject"], "Atur Ulang Kata Sandi Anda");
    for part in ["text", "html"] {
        let body = mails[1][part].as_str().expect("a body");
        assert!(
            body.contains("Ikuti tautan ini:") && body.contains("Atau masukkan kode ini:"),
            "{part}: {body}"
        );
        assert!(!body.contains("Follow this link"), "{part}: {body}");
    }
}

#[tokio::test]
async fn recovery_mails_a_code_and_a_link_that_both_open_a_session() {
    let mut app = TestApp::seeded().await;
    // Two mails to Bob in a row: no spacing between them here.
    reconfigure(&mut app, |c| {
        c.auth.rate_limits.email_sent = 10;
        c.auth.rate_limits.email_max_frequency_secs = 0;
    });
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/recover?redirect_to=http%3A%2F%2F127.0.0.1%3A54321%2Fauth%2Freset-password",
            None,
            Some(json!({"email": BOB.0})),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    // Unknown addresses get the same answer and no mail.
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": "nobody@taskdeck.dev"})),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert!(mailbox(&app, "nobody@taskdeck.dev").await.is_empty());

    let mails = mailbox(&app, BOB.0).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail["to"], BOB.0);
    assert_eq!(mail["type"], "recovery");
    let link = mail["link"].as_str().expect("a link");
    assert!(
        link.starts_with("http://127.0.0.1:54321/auth/v1/verify?token=")
            && link.contains(
                "&type=recovery&redirect_to=http%3A%2F%2F127.0.0.1%3A54321%2Fauth%2Freset-password"
            ),
        "{link}"
    );
    let code = mail["token"].as_str().expect("a code");
    assert_eq!(code.len(), 6);
    let files = std::fs::read_dir(app.data_dir.0.join("mail"))
        .expect("mail dir")
        .count();
    assert_eq!(files, 1, "the mail is a file in <data_dir>/mail");

    // The code, typed in: a session.
    let (status, session) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "recovery", "email": BOB.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["id"], BOB_ID);
    // …once only.
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "recovery", "email": BOB.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "otp_expired");

    // The link, followed: 303 to the reset page with the session in the fragment.
    send_json(
        &app,
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": BOB.0})),
        ),
    )
    .await;
    let mails = mailbox(&app, BOB.0).await;
    let link = mails.last().expect("a second mail")["link"]
        .as_str()
        .expect("link")
        .to_owned();
    assert!(
        link.contains("redirect_to=http%3A%2F%2F127.0.0.1%3A54321&")
            || link.ends_with("redirect_to=http%3A%2F%2F127.0.0.1%3A54321")
    );
    let path = link.trim_start_matches("http://127.0.0.1:54321").replace(
        "redirect_to=http%3A%2F%2F127.0.0.1%3A54321",
        "redirect_to=http%3A%2F%2F127.0.0.1%3A54321%2Fauth%2Freset-password",
    );
    let response = app.send(request("GET", &path, None, None)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:54321/auth/reset-password#access_token="),
        "{location}"
    );
    assert!(
        location.contains("&refresh_token=")
            && location.contains("&token_type=bearer&type=recovery")
    );
    let token = location
        .split("access_token=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("token");
    let (status, user) = send_json(&app, request("GET", "/auth/v1/user", Some(token), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], BOB_ID);

    // The same link again: back to the page with an error instead.
    let response = app.send(request("GET", &path, None, None)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(
        location.contains("#error=access_denied&error_code=otp_expired"),
        "{location}"
    );

    // A stranger's redirect target is replaced by the site.
    let response = app
        .send(request(
            "GET",
            "/auth/v1/verify?token=nope&type=recovery&redirect_to=https%3A%2F%2Fevil.example",
            None,
            None,
        ))
        .await;
    let location = response.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("http://127.0.0.1:54321#error="),
        "{location}"
    );
}

pub fn totp_code(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .expect("totp")
        .generate_current()
        .expect("clock")
}

#[tokio::test]
async fn mfa_totp_enroll_challenge_verify_gives_aal2() {
    let app = TestApp::seeded().await;
    let session = sign_in(&app, ALICE.0, ALICE.1).await;
    let token = access(&session);
    let (status, factor) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/factors",
            Some(&token),
            Some(
                json!({"factor_type": "totp", "friendly_name": "phone app", "issuer": "Taskdeck"}),
            ),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{factor}");
    assert_eq!(factor["type"], "totp");
    assert_eq!(factor["friendly_name"], "phone app");
    let secret = factor["totp"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let uri = factor["totp"]["uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/Taskdeck:alice@taskdeck.dev?")
            && uri.contains(&format!("secret={secret}"))
    );
    assert!(uri.contains("issuer=Taskdeck"));
    assert!(
        factor["totp"]["qr_code"]
            .as_str()
            .expect("qr")
            .starts_with("data:image/svg+xml;utf-8,<?xml")
            || factor["totp"]["qr_code"]
                .as_str()
                .expect("qr")
                .starts_with("data:image/svg+xml;utf-8,<svg")
    );
    let factor_id = factor["id"].as_str().expect("id").to_owned();

    let (status, user) = send_json(&app, request("GET", "/auth/v1/user", Some(&token), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["factors"][0]["status"], "unverified");
    assert_eq!(user["factors"][0]["factor_type"], "totp");

    let challenge = |token: String| {
        let req = request(
            "POST",
            &format!("/auth/v1/factors/{factor_id}/challenge"),
            Some(&token),
            None,
        );
        async { send_json(&app, req).await }
    };
    let (status, ch) = challenge(token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    assert_eq!(ch["type"], "totp");
    assert!(ch["expires_at"].as_i64().is_some());
    let verify_path = format!("/auth/v1/factors/{factor_id}/verify");

    let wrong = if totp_code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            &verify_path,
            Some(&token),
            Some(json!({"challenge_id": ch["id"], "code": wrong})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"code": 422, "error_code": "mfa_verification_failed", "msg": "Invalid TOTP code entered"})
    );

    let (status, upgraded) = send_json(
        &app,
        request(
            "POST",
            &verify_path,
            Some(&token),
            Some(json!({"challenge_id": ch["id"], "code": totp_code(&secret)})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    let c = claims(&access(&upgraded));
    assert_eq!(c["aal"], "aal2");
    assert_eq!(c["session_id"], claims(&token)["session_id"]);
    let methods: Vec<&str> = c["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .filter_map(|m| m["method"].as_str())
        .collect();
    assert!(
        methods.contains(&"totp") && methods.contains(&"password"),
        "{methods:?}"
    );
    assert_eq!(upgraded["user"]["factors"][0]["status"], "verified");

    // A later password sign-in is aal1 until the second factor is shown.
    let later = sign_in(&app, ALICE.0, ALICE.1).await;
    assert_eq!(claims(&access(&later))["aal"], "aal1");
    // aal1 cannot remove a verified factor.
    let (status, body) = send_json(
        &app,
        request(
            "DELETE",
            &format!("/auth/v1/factors/{factor_id}"),
            Some(&access(&later)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "insufficient_aal");
    // …nor change the password (a recovery link alone must not defeat the second factor).
    let (status, body) = send_json(
        &app,
        request(
            "PUT",
            "/auth/v1/user",
            Some(&access(&later)),
            Some(json!({"password": "Another-pass-789"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "insufficient_aal");
    let (status, ch) = challenge(access(&later)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, later2) = send_json(
        &app,
        request(
            "POST",
            &verify_path,
            Some(&access(&later)),
            Some(json!({"challenge_id": ch["id"], "code": totp_code(&secret)})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&access(&later2))["aal"], "aal2");
    // The rotated refresh token keeps the session at aal2.
    let (status, refreshed) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(json!({"refresh_token": later2["refresh_token"]})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&access(&refreshed))["aal"], "aal2");

    let (status, listed) = send_json(
        &app,
        request(
            "GET",
            &format!("/auth/v1/admin/users/{ALICE_ID}/factors"),
            Some(SERVICE_KEY),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["id"], factor_id.as_str());
    let (status, body) = send_json(
        &app,
        request(
            "DELETE",
            &format!("/auth/v1/factors/{factor_id}"),
            Some(&access(&refreshed)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], factor_id.as_str());

    // Bob cannot see Alice's factors.
    let bob = sign_in(&app, BOB.0, BOB.1).await;
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            &format!("/auth/v1/factors/{factor_id}/challenge"),
            Some(&access(&bob)),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "mfa_factor_not_found");

    // An admin can remove a user's factor (a lost phone).
    let (_, factor) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/factors",
            Some(&access(&bob)),
            Some(json!({"factor_type": "totp"})),
        ),
    )
    .await;
    let path = format!(
        "/auth/v1/admin/users/{BOB_ID}/factors/{}",
        factor["id"].as_str().expect("id")
    );
    let (status, removed) =
        send_json(&app, request("DELETE", &path, Some(SERVICE_KEY), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed["id"], factor["id"]);
    let (status, _) = send_json(&app, request("DELETE", &path, Some(SERVICE_KEY), None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_endpoints_need_the_service_role() {
    let app = TestApp::seeded().await;
    let alice = sign_in(&app, ALICE.0, ALICE.1).await;
    // Even an admin profile's user token is not the service role.
    let admin = sign_in(&app, "admin@taskdeck.dev", "Admin-pass-123").await;
    for token in [access(&alice), access(&admin), ANON_KEY.to_owned()] {
        let (status, body) = send_json(
            &app,
            request("GET", "/auth/v1/admin/users", Some(&token), None),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body,
            json!({"code": 403, "error_code": "not_admin", "msg": "User not allowed"})
        );
    }

    let response = app
        .send(request(
            "GET",
            "/auth/v1/admin/users?page=1&per_page=2",
            Some(SERVICE_KEY),
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "3");
    let list = json_body(response).await;
    assert_eq!(list["aud"], "authenticated");
    assert_eq!(list["users"].as_array().map(Vec::len), Some(2));

    let (status, created) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/admin/users",
            Some(SERVICE_KEY),
            Some(json!({
                "email": "erin@taskdeck.dev", "password": "Erin-pass-123", "email_confirm": true,
                "user_metadata": {"name": "Erin"}, "app_metadata": {"role": "guest"}
            })),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(
        created["app_metadata"],
        json!({"provider": "email", "providers": ["email"], "role": "guest"})
    );
    let erin_id = created["id"].as_str().expect("id").to_owned();
    let (role,): (String,) = sqlx::query_as("select role from public.profiles where id = $1::uuid")
        .bind(&erin_id)
        .fetch_one(&app.db.pool)
        .await
        .expect("profile");
    assert_eq!(role, "guest");
    sign_in(&app, "erin@taskdeck.dev", "Erin-pass-123").await;

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/admin/users",
            Some(SERVICE_KEY),
            Some(json!({"email": ALICE.0, "password": "x-long-pass"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "email_exists");

    let (status, user) = send_json(
        &app,
        request(
            "GET",
            &format!("/auth/v1/admin/users/{ADMIN_ID}"),
            Some(SERVICE_KEY),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["app_metadata"]["role"], "admin");

    let (status, updated) = send_json(
        &app,
        request(
            "PUT",
            &format!("/auth/v1/admin/users/{erin_id}"),
            Some(SERVICE_KEY),
            Some(json!({"user_metadata": {"team": "ops"}, "password": "Erin-new-pass-1"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        updated["user_metadata"],
        json!({"name": "Erin", "team": "ops"})
    );
    sign_in(&app, "erin@taskdeck.dev", "Erin-new-pass-1").await;

    let (status, body) = send_json(
        &app,
        request(
            "DELETE",
            &format!("/auth/v1/admin/users/{erin_id}"),
            Some(SERVICE_KEY),
            None,
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, body) = send_json(
        &app,
        request(
            "GET",
            &format!("/auth/v1/admin/users/{erin_id}"),
            Some(SERVICE_KEY),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "user_not_found");
}

#[tokio::test]
async fn banned_users_cannot_sign_in_or_refresh() {
    let app = TestApp::seeded().await;
    let before = sign_in(&app, BOB.0, BOB.1).await;
    let (status, user) = send_json(
        &app,
        request(
            "PUT",
            &format!("/auth/v1/admin/users/{BOB_ID}"),
            Some(SERVICE_KEY),
            Some(json!({"ban_duration": "876000h"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(user["banned_until"].is_string());

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            Some(json!({"email": BOB.0, "password": BOB.1})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "user_banned", "msg": "User is banned"})
    );
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(json!({"refresh_token": before["refresh_token"]})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "user_banned");

    let (status, _) = send_json(
        &app,
        request(
            "PUT",
            &format!("/auth/v1/admin/users/{BOB_ID}"),
            Some(SERVICE_KEY),
            Some(json!({"ban_duration": "none"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    sign_in(&app, BOB.0, BOB.1).await;

    // Deactivation by the app (banned_until = infinity, sessions deleted) has the same effect.
    let bob = sign_in(&app, BOB.0, BOB.1).await;
    sqlx::query("update auth.users set banned_until = 'infinity' where id = $1::uuid")
        .bind(BOB_ID)
        .execute(&app.db.pool)
        .await
        .expect("ban");
    sqlx::query("delete from auth.sessions where user_id = $1::uuid")
        .bind(BOB_ID)
        .execute(&app.db.pool)
        .await
        .expect("end");
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            Some(json!({"email": BOB.0, "password": BOB.1})),
        ),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "user_banned")
    );
    let (status, body) = send_json(
        &app,
        request("GET", "/auth/v1/user", Some(&access(&bob)), None),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "session_not_found")
    );
    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/token?grant_type=refresh_token",
            None,
            Some(json!({"refresh_token": bob["refresh_token"]})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limits_engage_per_ip() {
    let mut app = TestApp::seeded().await;
    // `/token` counts against `token_refresh` (GoTrue's one `Token` limiter for every grant).
    reconfigure(&mut app, |c| {
        c.auth.rate_limits.token_refresh = 2;
        c.auth.rate_limits.email_sent = 1;
    });
    let attempt = |ip: &str| {
        let mut req = request(
            "POST",
            "/auth/v1/token?grant_type=password",
            None,
            Some(json!({"email": ALICE.0, "password": "wrong-password"})),
        );
        req.headers_mut()
            .insert("x-forwarded-for", ip.parse().expect("header"));
        async { send_json(&app, req).await }
    };
    assert_eq!(attempt("10.0.0.1").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(attempt("10.0.0.1").await.0, StatusCode::BAD_REQUEST);
    let (status, body) = attempt("10.0.0.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        body,
        json!({"code": 429, "error_code": "over_request_rate_limit", "msg": "Request rate limit reached"})
    );
    // Another address has its own allowance.
    assert_eq!(attempt("10.0.0.2").await.0, StatusCode::BAD_REQUEST);

    let recover = || {
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": BOB.0})),
        )
    };
    assert_eq!(send_json(&app, recover()).await.0, StatusCode::OK);
    let (status, body) = send_json(&app, recover()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "over_email_send_rate_limit");
}

#[tokio::test]
async fn settings_health_and_providers() {
    let app = TestApp::seeded().await;
    let (status, settings) = send_json(&app, request("GET", "/auth/v1/settings", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["external"]["email"], true);
    assert_eq!(settings["external"]["github"], false);
    assert_eq!(settings["disable_signup"], false);
    assert_eq!(settings["mailer_autoconfirm"], true);
    let (status, health) = send_json(&app, request("GET", "/auth/v1/health", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["name"], "GoTrue");
    let (status, body) = send_json(
        &app,
        request("GET", "/auth/v1/authorize?provider=github", None, None),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "validation_failed", "msg": "Unsupported provider: provider is not enabled"})
    );
    let (_, body) = send_json(
        &app,
        request("GET", "/auth/v1/authorize?provider=myspace", None, None),
    )
    .await;
    assert_eq!(
        body["msg"],
        "Unsupported provider: Provider myspace could not be found"
    );
}

#[tokio::test]
async fn the_official_client_signs_up_signs_in_refreshes_and_reads_the_user() {
    use supabase_auth::models::{AuthClient, EmailSignUpResult, UpdatedUser};
    let app = TestApp::seeded().await;
    let url = app.serve().await;
    // The client wants the JWT secret; only this test has it (the SPA never does).
    let client = AuthClient::new(url, ANON_KEY, localbase::config::DEFAULT_JWT_SECRET);

    let signed_up = client
        .sign_up_with_email_and_password("frank@example.com", "frank-pass-123", None)
        .await
        .expect("sign-up through the client");
    let session = match signed_up {
        EmailSignUpResult::SessionResult(session) => session,
        EmailSignUpResult::ConfirmationResult(_) => {
            panic!("confirmations are off locally: a session was expected")
        }
    };
    assert_eq!(session.user.email, "frank@example.com");
    assert_eq!(session.token_type, "bearer");

    let signed_in = client
        .login_with_email("frank@example.com", "frank-pass-123")
        .await
        .expect("sign-in");
    let user = client
        .get_user(&signed_in.access_token)
        .await
        .expect("get user");
    assert_eq!(user.id, session.user.id);
    assert_eq!(user.identities[0].provider, "email");

    let refreshed = client
        .refresh_session(&signed_in.refresh_token)
        .await
        .expect("refresh");
    assert_ne!(refreshed.refresh_token, signed_in.refresh_token);
    let updated = client
        .update_user(
            UpdatedUser {
                email: None,
                password: None,
                data: Some(json!({"name": "Frank"})),
            },
            &refreshed.access_token,
        )
        .await
        .expect("update user");
    assert_eq!(updated.user_metadata.name.as_deref(), Some("Frank"));

    let wrong = client
        .login_with_email("frank@example.com", "nope-nope-nope")
        .await;
    assert!(wrong.is_err());
    let settings = client.get_settings().await.expect("settings");
    assert!(settings.external.email && !settings.external.github);
}

#[tokio::test]
async fn magic_links_sign_in_and_create_accounts_on_request() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| c.auth.rate_limits.email_sent = 10);
    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/otp",
            None,
            Some(json!({"email": ALICE.0})),
        ),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let mails = mailbox(&app, ALICE.0).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["type"], "magiclink");
    let code = mails[0]["token"].as_str().expect("code");
    let (status, session) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "magiclink", "email": ALICE.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["id"], ALICE_ID);
    assert_eq!(claims(&access(&session))["amr"][0]["method"], "otp");

    let (status, body) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/otp",
            None,
            Some(json!({"email": "gina@example.com", "create_user": false})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "otp_disabled");

    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/otp",
            None,
            Some(json!({"email": "gina@example.com", "data": {"name": "Gina"}})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mails = mailbox(&app, "gina@example.com").await;
    let link = mails[0]["link"].as_str().expect("link");
    let hash = link
        .split("token=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("token hash");
    let (status, session) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "email", "token_hash": hash})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["email"], "gina@example.com");
    assert_eq!(session["user"]["user_metadata"]["name"], "Gina");
}

/// One HTTP/1.1 request over a plain socket; returns the status code.
async fn raw_http_status(base: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

#[tokio::test]
async fn served_rate_limits_count_the_socket_address_not_forwarded_headers() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| c.auth.rate_limits.token_refresh = 2);
    let base = app.serve().await;
    let body = json!({"email": ALICE.0, "password": "wrong-password"}).to_string();
    let mut statuses = Vec::new();
    for spoofed in ["10.9.9.1", "10.9.9.2", "10.9.9.3"] {
        statuses.push(
            raw_http_status(
                &base,
                "/auth/v1/token?grant_type=password",
                &[("apikey", ANON_KEY), ("x-forwarded-for", spoofed)],
                &body,
            )
            .await,
        );
    }
    assert_eq!(
        statuses,
        [400, 400, 429],
        "a made-up X-Forwarded-For does not buy more attempts"
    );
}
