//! `/auth/v1` hardening (issue #9): password rules, answers that do not tell which addresses
//! exist, refresh-token reuse, rate limits per IP and per account, and GoTrue's `aal`/`amr`.

use crate::auth::{
    access, claims, error_code, mailbox, reconfigure, request, send_json, sign_in, totp_code,
    ALICE, BOB,
};
use crate::helpers::{TestApp, SERVICE_KEY};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PWNED: &str =
    "Password is known to be weak and easy to guess, please choose a different one.";

fn signup(email: &str, password: &str) -> Request<Body> {
    request(
        "POST",
        "/auth/v1/signup",
        None,
        Some(json!({"email": email, "password": password})),
    )
}

fn password_grant(email: &str, password: &str) -> Request<Body> {
    request(
        "POST",
        "/auth/v1/token?grant_type=password",
        None,
        Some(json!({"email": email, "password": password})),
    )
}

fn refresh(token: &Value) -> Request<Body> {
    request(
        "POST",
        "/auth/v1/token?grant_type=refresh_token",
        None,
        Some(json!({"refresh_token": token})),
    )
}

fn from_ip(mut req: Request<Body>, ip: &str) -> Request<Body> {
    req.headers_mut()
        .insert("x-forwarded-for", ip.parse().expect("header"));
    req
}

fn weak(reasons: &[&str], msg: &str) -> Value {
    json!({"code": 422, "error_code": "weak_password", "msg": msg, "weak_password": {"reasons": reasons}})
}

/// The six-digit code of the newest mail to `email`.
async fn newest_code(app: &TestApp, email: &str) -> String {
    let mails = mailbox(app, email).await;
    mails.last().expect("a mail")["token"]
        .as_str()
        .expect("a code")
        .to_owned()
}

#[tokio::test]
async fn passwords_follow_system_settings_and_refuse_leaked_ones_everywhere() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| c.auth.rate_limits.email_sent = 10);
    let (setting,): (Value,) = sqlx::query_as(
        "select value from public.system_settings where key = 'password_min_length'",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("the migration adds password_min_length");
    assert_eq!(setting, json!(8));

    // Sign-up: too short, leaked (any case), shaped like a leaked one, too long.
    let (status, body) = send_json(&app, signup("dan@example.com", "Short1!")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        weak(&["length"], "Password should be at least 8 characters.")
    );
    for leaked in [
        "password123",
        "PassWord1",
        "12345678",
        "qwerty123",
        "iloveyou",
        "abcdefgh",
        "zzzzzzzzzz",
        "98765432",
    ] {
        let (status, body) = send_json(&app, signup("dan@example.com", leaked)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{leaked}");
        assert_eq!(body, weak(&["pwned"], PWNED), "{leaked}");
    }
    let (_, body) = send_json(&app, signup("dan@example.com", "aaaa")).await;
    assert_eq!(
        body,
        weak(
            &["length", "pwned"],
            &format!("Password should be at least 8 characters. {PWNED}")
        )
    );
    let mut req = signup("dan@example.com", "letmein1");
    req.headers_mut().insert(
        "x-supabase-api-version",
        "2024-01-01".parse().expect("header"),
    );
    let (_, body) = send_json(&app, req).await;
    assert_eq!(
        body,
        json!({"code": "weak_password", "message": PWNED, "weak_password": {"reasons": ["pwned"]}})
    );
    let (status, body) = send_json(&app, signup("dan@example.com", &"Ab1-".repeat(19))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "validation_failed", "msg": "Password cannot be longer than 72 characters"})
    );

    // An admin raises the minimum: it applies at once.
    sqlx::query("update public.system_settings set value = '12' where key = 'password_min_length'")
        .execute(&app.db.pool)
        .await
        .expect("update the setting");
    let (_, body) = send_json(&app, signup("dan@example.com", "Dan-pass-1")).await;
    assert_eq!(
        body,
        weak(&["length"], "Password should be at least 12 characters.")
    );
    let (status, body) = send_json(&app, signup("dan@example.com", "Dan-pass-1234")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sqlx::query("update public.system_settings set value = '8' where key = 'password_min_length'")
        .execute(&app.db.pool)
        .await
        .expect("update the setting");

    // The seeded accounts keep working, their passwords judged strong.
    for (email, password) in [ALICE, BOB, ("admin@taskdeck.dev", "Admin-pass-123")] {
        let session = sign_in(&app, email, password).await;
        assert!(session.get("weak_password").is_none(), "{session}");
    }
    // A password set before the rules tightened still signs in, flagged as GoTrue flags it.
    sqlx::query(
        "update auth.users set encrypted_password = extensions.crypt('iloveyou', extensions.gen_salt('bf')) \
          where email = 'dan@example.com'",
    )
    .execute(&app.db.pool)
    .await
    .expect("an old password");
    let session = sign_in(&app, "dan@example.com", "iloveyou").await;
    assert_eq!(
        session["weak_password"],
        json!({"message": PWNED, "reasons": ["pwned"]})
    );

    // A password change.
    let alice = access(&sign_in(&app, ALICE.0, ALICE.1).await);
    let change = |token: &str, password: &str| {
        request(
            "PUT",
            "/auth/v1/user",
            Some(token),
            Some(json!({"password": password})),
        )
    };
    let (status, body) = send_json(&app, change(&alice, "Welcome1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, weak(&["pwned"], PWNED));
    let (status, body) = send_json(&app, change(&alice, "tiny")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        weak(&["length"], "Password should be at least 8 characters.")
    );

    // The recovery flow's new password.
    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": BOB.0})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = newest_code(&app, BOB.0).await;
    let (status, recovered) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "recovery", "email": BOB.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{recovered}");
    let bob = access(&recovered);
    let (status, body) = send_json(&app, change(&bob, "123456789")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, weak(&["pwned"], PWNED));
    let (status, body) = send_json(&app, change(&bob, "Bob-new-pass-789")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sign_in(&app, BOB.0, "Bob-new-pass-789").await;

    // Admin-created users too (GoTrue checks there as well).
    let mut req = request(
        "POST",
        "/auth/v1/admin/users",
        Some(SERVICE_KEY),
        Some(json!({"email": "erin@example.com", "password": "admin123", "email_confirm": true})),
    );
    req.headers_mut()
        .insert("apikey", SERVICE_KEY.parse().expect("header"));
    let (status, body) = send_json(&app, req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body, weak(&["pwned"], PWNED));
}

/// How long one request takes.
async fn timed(app: &TestApp, req: Request<Body>) -> (Duration, StatusCode, Value) {
    let start = Instant::now();
    let (status, body) = send_json(app, req).await;
    (start.elapsed(), status, body)
}

#[tokio::test]
async fn sign_in_and_recovery_answers_do_not_tell_which_addresses_exist() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| {
        c.auth.rate_limits.email_sent = 10;
        c.auth.rate_limits.email_max_frequency_secs = 0;
    });
    // A user without a password (made by a magic link).
    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/otp",
            None,
            Some(json!({"email": "nopass@example.com"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let invalid = json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"});
    let mut wrong_password = Duration::ZERO;
    let mut unknown_email = Duration::ZERO;
    let mut no_password = Duration::ZERO;
    for i in 0..4 {
        let (took, status, body) = timed(&app, password_grant(ALICE.0, "Not-her-pass-1")).await;
        assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &invalid));
        wrong_password += took;
        let (took, status, body) = timed(
            &app,
            password_grant(&format!("nobody{i}@example.com"), "Not-her-pass-1"),
        )
        .await;
        assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &invalid));
        unknown_email += took;
        let (took, status, body) =
            timed(&app, password_grant("nopass@example.com", "Not-her-pass-1")).await;
        assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &invalid));
        no_password += took;
    }
    assert!(
        unknown_email * 2 >= wrong_password,
        "an unknown address answers too fast: {unknown_email:?} vs {wrong_password:?}"
    );
    assert!(
        no_password * 2 >= wrong_password,
        "a password-less user answers too fast: {no_password:?} vs {wrong_password:?}"
    );

    // The 2024-01-01 body is the same for both too.
    let versioned = |email: &str| {
        let mut req = password_grant(email, "Not-her-pass-1");
        req.headers_mut().insert(
            "x-supabase-api-version",
            "2024-01-01".parse().expect("header"),
        );
        req
    };
    assert_eq!(
        send_json(&app, versioned(ALICE.0)).await,
        send_json(&app, versioned("nobody@example.com")).await
    );

    // /recover: the same answer for a known and an unknown address, and only one gets mail.
    let recover = |email: &str| {
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": email})),
        )
    };
    let known = send_json(&app, recover(BOB.0)).await;
    let unknown = send_json(&app, recover("nobody@example.com")).await;
    assert_eq!(known, (StatusCode::OK, json!({})));
    assert_eq!(unknown, known);
    assert_eq!(mailbox(&app, BOB.0).await.len(), 1);
    assert!(mailbox(&app, "nobody@example.com").await.is_empty());
}

#[tokio::test]
async fn a_spent_refresh_token_outside_the_reuse_interval_revokes_its_family() {
    let app = TestApp::seeded().await;
    // GoTrue's default, and supabase/config.toml's.
    assert_eq!(app.state.config.auth.refresh_token_reuse_interval_secs, 10);
    let first = sign_in(&app, BOB.0, BOB.1).await;
    let other = sign_in(&app, BOB.0, BOB.1).await;
    let (status, second) = send_json(&app, refresh(&first["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK);
    let (status, third) = send_json(&app, refresh(&second["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK);

    // Within the interval a spent token is tolerated (two tabs refreshing at once): the first
    // one, spent two rotations ago, gets a successor of its own.
    let (status, tolerated) = send_json(&app, refresh(&first["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{tolerated}");
    assert_ne!(tolerated["refresh_token"], third["refresh_token"]);

    // Eleven seconds after it was spent, the second token coming back is a reuse: the whole
    // family goes.
    sqlx::query(
        "update auth.refresh_tokens set updated_at = updated_at - interval '11 seconds' where token = $1",
    )
    .bind(second["refresh_token"].as_str())
    .execute(&app.db.pool)
    .await
    .expect("age the spent token");
    let (status, body) = send_json(&app, refresh(&second["refresh_token"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "refresh_token_already_used", "msg": "Invalid Refresh Token: Already Used"})
    );
    for token in [&first, &second, &third, &tolerated] {
        let (status, body) = send_json(&app, refresh(&token["refresh_token"])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&body), "refresh_token_not_found");
    }
    let session_id = claims(&access(&first))["session_id"].clone();
    let (left,): (i64,) =
        sqlx::query_as("select count(*) from auth.refresh_tokens where session_id = $1::uuid")
            .bind(session_id.as_str())
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
    assert_eq!(left, 0);
    let (status, body) = send_json(
        &app,
        request("GET", "/auth/v1/user", Some(&access(&tolerated)), None),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "session_not_found");

    // Bob's other session is another family and lives on.
    let (status, body) = send_json(&app, refresh(&other["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn over_request() -> Value {
    json!({"code": 429, "error_code": "over_request_rate_limit", "msg": "Request rate limit reached"})
}

#[tokio::test]
async fn per_account_limits_hold_across_ips_and_for_unknown_addresses_alike() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| {
        let limits = &mut c.auth.rate_limits;
        // Per IP: out of the way.
        limits.sign_in_sign_ups = 1000;
        limits.token_refresh = 1000;
        limits.token_verifications = 1000;
        limits.email_sent = 1000;
        // Per account: low.
        limits.sign_in_per_account = 2;
        limits.token_verifications_per_account = 1;
        limits.email_max_frequency_secs = 60;
    });
    for email in [ALICE.0, "nobody@example.com"] {
        for ip in ["10.2.0.1", "10.2.0.2"] {
            let (status, _) =
                send_json(&app, from_ip(password_grant(email, "Not-her-pass-1"), ip)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
        let (status, body) = send_json(
            &app,
            from_ip(
                password_grant(&email.to_uppercase(), "Not-her-pass-1"),
                "10.2.0.3",
            ),
        )
        .await;
        assert_eq!(
            (status, body),
            (StatusCode::TOO_MANY_REQUESTS, over_request())
        );
    }
    // Bob's account is untouched by Alice's.
    sign_in(&app, BOB.0, BOB.1).await;

    // One mail per address per max_frequency, known or not: the answers match.
    let recover = |email: &str, ip: &str| {
        from_ip(
            request(
                "POST",
                "/auth/v1/recover",
                None,
                Some(json!({"email": email})),
            ),
            ip,
        )
    };
    let mut answers = Vec::new();
    for email in [BOB.0, "nobody@example.com"] {
        let (status, _) = send_json(&app, recover(email, "10.2.1.1")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = send_json(&app, recover(email, "10.2.1.2")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(error_code(&body), "over_email_send_rate_limit");
        let msg = body["msg"].as_str().expect("msg").to_owned();
        assert!(
            msg == "For security purposes, you can only request this after 59 seconds."
                || msg == "For security purposes, you can only request this after 60 seconds.",
            "{msg}"
        );
        answers.push(body["code"].clone());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(mailbox(&app, BOB.0).await.len(), 1);

    // Code guesses for one address, spread over IPs.
    let verify = |ip: &str| {
        from_ip(
            request(
                "POST",
                "/auth/v1/verify",
                None,
                Some(json!({"type": "recovery", "email": BOB.0, "token": "000000"})),
            ),
            ip,
        )
    };
    let (status, _) = send_json(&app, verify("10.2.2.1")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send_json(&app, verify("10.2.2.2")).await;
    assert_eq!(
        (status, body),
        (StatusCode::TOO_MANY_REQUESTS, over_request())
    );
}

/// The `amr` claim's methods, in order.
fn methods(token: &str) -> Vec<String> {
    claims(token)["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .map(|e| e["method"].as_str().expect("method").to_owned())
        .collect()
}

#[tokio::test]
async fn aal_and_amr_follow_gotrue() {
    let mut app = TestApp::seeded().await;
    reconfigure(&mut app, |c| {
        c.auth.rate_limits.email_sent = 10;
        c.auth.rate_limits.email_max_frequency_secs = 0;
    });
    let before = chrono::Utc::now().timestamp();
    let session = sign_in(&app, BOB.0, BOB.1).await;
    let after = chrono::Utc::now().timestamp();
    let token = access(&session);
    let c = claims(&token);
    assert_eq!(c["aal"], "aal1");
    let amr = c["amr"].as_array().expect("amr");
    assert_eq!(amr.len(), 1);
    let entry = amr[0].as_object().expect("an object");
    assert_eq!(entry.len(), 2, "{entry:?}");
    assert_eq!(entry["method"], "password");
    let at = entry["timestamp"].as_i64().expect("a unix timestamp");
    assert!((before..=after).contains(&at));

    // TOTP: enroll, challenge, verify → aal2, totp added, most recent first.
    let (_, factor) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/factors",
            Some(&token),
            Some(json!({"factor_type": "totp", "friendly_name": "Bob's phone"})),
        ),
    )
    .await;
    let factor_id = factor["id"].as_str().expect("id").to_owned();
    let secret = factor["totp"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    // The password step happened a while ago.
    sqlx::query(
        "update auth.mfa_amr_claims set created_at = created_at - interval '30 seconds', \
                updated_at = updated_at - interval '30 seconds' where session_id = $1::uuid",
    )
    .bind(c["session_id"].as_str())
    .execute(&app.db.pool)
    .await
    .expect("age the password claim");
    let (_, ch) = send_json(
        &app,
        request(
            "POST",
            &format!("/auth/v1/factors/{factor_id}/challenge"),
            Some(&token),
            None,
        ),
    )
    .await;
    let (status, upgraded) = send_json(
        &app,
        request(
            "POST",
            &format!("/auth/v1/factors/{factor_id}/verify"),
            Some(&token),
            Some(json!({"challenge_id": ch["id"], "code": totp_code(&secret)})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    let up = claims(&access(&upgraded));
    assert_eq!(up["aal"], "aal2");
    assert_eq!(methods(&access(&upgraded)), ["totp", "password"]);
    assert_eq!(up["amr"][1]["timestamp"].as_i64(), Some(at - 30));

    // A refresh keeps the level and the methods.
    let (status, refreshed) = send_json(&app, refresh(&upgraded["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK);
    let r = claims(&access(&refreshed));
    assert_eq!(r["aal"], "aal2");
    assert_eq!(r["amr"], up["amr"]);

    // GET /user lists the factor as GoTrue's models.Factor does.
    let (_, user) = send_json(
        &app,
        request("GET", "/auth/v1/user", Some(&access(&refreshed)), None),
    )
    .await;
    let factors = user["factors"].as_array().expect("factors");
    assert_eq!(factors.len(), 1);
    let f = factors[0].as_object().expect("an object");
    let mut keys: Vec<&str> = f.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "factor_type",
            "friendly_name",
            "id",
            "last_challenged_at",
            "phone",
            "status",
            "updated_at"
        ]
    );
    assert_eq!(f["id"], factor_id.as_str());
    assert_eq!(f["status"], "verified");
    assert_eq!(f["friendly_name"], "Bob's phone");
    assert_eq!(f["factor_type"], "totp");
    assert_eq!(f["phone"], "");
    for stamp in ["created_at", "updated_at", "last_challenged_at"] {
        let text = f[stamp].as_str().expect("a timestamp");
        assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
    }

    // A password sign-in of a user with a verified factor starts at aal1.
    let again = sign_in(&app, BOB.0, BOB.1).await;
    assert_eq!(claims(&access(&again))["aal"], "aal1");
    assert_eq!(methods(&access(&again)), ["password"]);

    // Recovery and magic-link sessions are aal1 with GoTrue's `otp` method.
    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/recover",
            None,
            Some(json!({"email": BOB.0})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = newest_code(&app, BOB.0).await;
    let (status, recovered) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "recovery", "email": BOB.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{recovered}");
    assert_eq!(claims(&access(&recovered))["aal"], "aal1");
    assert_eq!(methods(&access(&recovered)), ["otp"]);

    let (status, _) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/otp",
            None,
            Some(json!({"email": BOB.0, "create_user": false})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = newest_code(&app, BOB.0).await;
    let (status, magic) = send_json(
        &app,
        request(
            "POST",
            "/auth/v1/verify",
            None,
            Some(json!({"type": "magiclink", "email": BOB.0, "token": code})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{magic}");
    assert_eq!(claims(&access(&magic))["aal"], "aal1");
    assert_eq!(methods(&access(&magic)), ["otp"]);
}
