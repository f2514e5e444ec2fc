//! Accounts: registering, the profile, two-step sign-in, password recovery.

use super::*;

/// 1. A visitor is sent to sign in, registers, and lands on the dashboard with their name.
#[tokio::test]
async fn j1_visitor_registers_and_lands_on_the_dashboard() -> Result<()> {
    with_browser(|b| async move {
        let r = async {
            b.goto("/").await?;
            b.wait_for(Find::Link("Create account")).await?;
            b.screenshot("landing").await?;

            b.goto("/dashboard").await?;
            b.wait_for(Find::Heading("Sign in")).await?;
            let path = b.path().await?;
            ensure!(
                path.starts_with("/auth/login")
                    && (path.contains("next=%2Fdashboard") || path.contains("next=/dashboard")),
                "expected the login page with next=/dashboard, got {path}"
            );
            b.screenshot("login").await?;

            b.click_link("Create an account").await?;
            b.wait_for(Find::Heading("Create your account")).await?;
            ensure!(b.path().await? == "/auth/register");
            // The form's own checks first.
            b.click_button("Create account").await?;
            b.wait_for(Find::Css(".field.has-error")).await?;
            b.screenshot("register-errors").await?;

            let email = fresh_email("visitor");
            let name = "Vera Visitor";
            b.fill("Your name", name).await?;
            b.fill("Email", &email).await?;
            b.fill("Password", FRESH_PASSWORD).await?;
            b.screenshot("register").await?;
            b.click_button("Create account").await?;
            b.wait_for(Find::Heading(&format!("Welcome back, {name}")))
                .await?;
            ensure!(b.path().await? == "/dashboard", "not on /dashboard");
            b.wait_for(Find::Css(".topbar .user[title=\"Vera Visitor\"]"))
                .await?;
            b.wait_for(Find::Text("No tasks yet")).await?;
            b.screenshot("dashboard-new-user").await?;

            // The database has the account and its profile with that name.
            let api = Api::new()?;
            let user = api.sign_in(&email, FRESH_PASSWORD).await?;
            let profile = api
                .get(
                    &user,
                    &format!("profiles?id=eq.{}&select=name,role,email", user.id),
                )
                .await?;
            ensure!(profile[0]["name"] == json!(name), "profile: {profile}");
            ensure!(
                profile[0]["role"] == json!("business_user"),
                "profile: {profile}"
            );
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// 5d. A user renames themselves; the header and the database follow.
#[tokio::test]
async fn j5d_profile_name_update() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("renamer");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Rita Before").await?;
    with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            b.click_link("Settings").await?;
            b.wait_for(Find::Heading("Settings")).await?;
            b.screenshot("settings").await?;
            b.click_link("Profile").await?;
            b.wait_for(Find::Heading("Profile")).await?;
            b.fill("Name", "").await?;
            b.click_button("Save").await?;
            b.wait_for(Find::Css("#name-error")).await?;
            b.fill("Name", "Rita After").await?;
            b.click_button("Save").await?;
            b.wait_for(Find::Text("Your profile has been saved."))
                .await?;
            b.wait_for(Find::Css(".topbar .user[title=\"Rita After\"]"))
                .await?;
            b.screenshot("settings-profile").await?;
            let profile = api
                .get(&user, &format!("profiles?id=eq.{}&select=name", user.id))
                .await?;
            ensure!(profile[0]["name"] == "Rita After", "profile: {profile}");
            b.click_link("Dashboard").await?;
            b.wait_for(Find::Heading("Welcome back, Rita After"))
                .await?;
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// 5e. A user turns on TOTP, signs out, and signs in again through the code step.
#[tokio::test]
async fn j5e_totp_enrolment_and_sign_in() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("totp");
    api.sign_up(&email, FRESH_PASSWORD, "Tom Totp").await?;
    with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            b.goto("/settings/security").await?;
            b.wait_for(Find::Heading("Security")).await?;
            b.wait_for(Find::Text("Two-step sign-in is off.")).await?;
            b.screenshot("settings-security").await?;
            b.click_button("Set up an authenticator app").await?;
            let secret = b
                .wait_for(Find::Css("#totp-secret"))
                .await?
                .text()
                .await?;
            b.wait_for(Find::Css("img.qr")).await?;
            b.screenshot("settings-totp-enrol").await?;
            b.fill("Code", &totp_code(&secret)?).await?;
            b.click_button("Verify and turn on").await?;
            b.wait_for(Find::Text("Two-step sign-in is on.")).await?;
            b.wait_for(Find::Text("Active")).await?;
            b.sign_out().await?;

            b.goto("/auth/login").await?;
            b.fill("Email", &email).await?;
            b.fill("Password", FRESH_PASSWORD).await?;
            b.click_button("Sign in").await?;
            b.wait_for(Find::Heading("Two-step verification")).await?;
            b.screenshot("login-totp").await?;
            b.fill("Authentication code", "000000").await?;
            b.click_button("Verify and continue").await?;
            b.wait_for(Find::Css(".alert.error")).await?;
            b.fill("Authentication code", &totp_code(&secret)?).await?;
            b.click_button("Verify and continue").await?;
            b.wait_for(Find::Heading("Welcome back, Tom Totp")).await?;
            let aal = b
                .client
                .execute(
                    "for (const k of Object.keys(localStorage)) { const v = localStorage.getItem(k); const m = v && v.match(/\"access_token\":\"([^\"]+)\"/); if (m) { return JSON.parse(atob(m[1].split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).aal; } } return null;",
                    vec![],
                )
                .await?;
            ensure!(aal == json!("aal2"), "the stored session is at {aal}, not aal2");
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// 5f. A user who forgot their password gets the mail, follows its link, chooses a new
/// password and is signed in; the old password no longer works.
#[tokio::test]
async fn j5f_password_recovery() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("forgetful");
    api.sign_up(&email, FRESH_PASSWORD, "Fay Forgetful").await?;
    let new_password = "Remembered-456";
    with_browser(|b| async move {
        let r = async {
            b.goto("/auth/login").await?;
            b.click_link("Forgot your password?").await?;
            b.wait_for(Find::Heading("Forgot your password?")).await?;
            b.fill("Email", &email).await?;
            b.click_button("Send the link").await?;
            b.wait_for(Find::Text("we sent it a link")).await?;
            b.screenshot("forgot-password").await?;

            let mails = api.mailbox(&email).await?;
            let mail = mails
                .iter()
                .rev()
                .find(|m| m["type"] == "recovery")
                .with_context(|| format!("no recovery mail: {mails:?}"))?;
            let link = mail["link"].as_str().context("mail without link")?;
            b.client.goto(link).await?;
            b.wait_for(Find::Heading("Choose a new password")).await?;
            b.fill("New password", new_password).await?;
            b.screenshot("reset-password").await?;
            b.click_button("Save the new password").await?;
            b.wait_for(Find::Heading("Welcome back, Fay Forgetful"))
                .await?;
            b.wait_for(Find::Text("Your password has been changed."))
                .await?;
            ensure!(
                !b.client
                    .current_url()
                    .await?
                    .as_str()
                    .contains("access_token"),
                "tokens left in the address bar"
            );
            api.sign_in(&email, new_password).await?;
            ensure!(
                api.sign_in(&email, FRESH_PASSWORD).await.is_err(),
                "the old password still works"
            );
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// 5g. With two-step sign-in on, a password, a kept session or a recovery link is not
/// enough: each way in stops at the code step, and no page shows or asks for the user's
/// data until the code is entered; then the user goes where they were heading.
#[tokio::test]
async fn j5g_two_step_sign_in_guards_every_way_in() -> Result<()> {
    const TITLE: &str = "Mia's weekly export";
    let api = Api::new()?;
    let email = fresh_email("twostep");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Mia Mfa").await?;
    api.insert(
        &user,
        "tasks",
        json!({ "title": TITLE, "type": "data_export", "parameters": { "dataset": "tasks", "format": "csv" } }),
    )
    .await?;
    let secret = turn_on_totp(&api, &user, "Mia's phone").await?;
    // The database agrees: a password-only (aal1) token of hers sees no task.
    let aal1 = api.sign_in(&email, FRESH_PASSWORD).await?;
    let seen = api.get(&aal1, "tasks?select=title").await?;
    ensure!(seen == json!([]), "an aal1 token reads {seen}");
    let new_password = "Two-steps-789";
    with_browser(|b| async move {
        let r = async {
            // The password alone: the code step.
            b.goto("/auth/login").await?;
            b.fill("Email", &email).await?;
            b.fill("Password", FRESH_PASSWORD).await?;
            b.click_button("Sign in").await?;
            b.wait_for(Find::Heading("Two-step verification")).await?;
            ensure!(
                b.path().await?.starts_with("/auth/login"),
                "left the sign-in page"
            );
            b.screenshot("login-two-step").await?;

            // Straight to a page, with that session kept: the code step, nothing of hers.
            for (path, next) in [("/tasks", "%2Ftasks"), ("/dashboard", "%2Fdashboard")] {
                b.goto(path).await?;
                b.wait_for(Find::Heading("Two-step verification")).await?;
                let here = b.path().await?;
                ensure!(
                    here == format!("/auth/login?next={next}"),
                    "{path} led to {here}"
                );
                let text = b.page_text().await?;
                ensure!(!text.contains(TITLE), "{path} shows her task:\n{text}");
                let asked = data_requests(&b).await?;
                ensure!(
                    asked.is_empty(),
                    "{path} asked for data before the code: {asked:?}"
                );
            }
            b.screenshot("dashboard-needs-code").await?;

            // The code: on to the dashboard, with her data.
            b.fill("Authentication code", &totp_code(&secret)?).await?;
            b.click_button("Verify and continue").await?;
            b.wait_for(Find::Heading("Welcome back, Mia Mfa")).await?;
            b.wait_for(Find::Text(TITLE)).await?;
            ensure!(b.path().await? == "/dashboard", "not on the dashboard");
            b.screenshot("dashboard-after-code").await?;

            // The security page says so, with the factor's name and date.
            b.goto("/settings/security").await?;
            b.wait_for(Find::Text("Two-step sign-in is on")).await?;
            b.wait_for(Find::Text("Mia's phone")).await?;
            b.wait_for(Find::Css("li[data-factor=verified] time[datetime]"))
                .await?;
            b.wait_for(Find::Button("Turn off")).await?;
            b.screenshot("settings-security-two-step-on").await?;
            b.sign_out().await?;

            // A recovery link is only aal1: the code first, then the new password.
            b.goto("/auth/forgot-password").await?;
            b.fill("Email", &email).await?;
            b.click_button("Send the link").await?;
            b.wait_for(Find::Text("we sent it a link")).await?;
            let mails = api.mailbox(&email).await?;
            let link = mails
                .iter()
                .rev()
                .find(|m| m["type"] == "recovery")
                .and_then(|m| m["link"].as_str())
                .with_context(|| format!("no recovery link: {mails:?}"))?
                .to_owned();
            b.client.goto(&link).await?;
            b.wait_for(Find::Heading("Two-step verification")).await?;
            ensure!(
                b.client
                    .find(fantoccini::Locator::Id("password"))
                    .await
                    .is_err(),
                "the new-password form shows before the code"
            );
            ensure!(
                b.path().await? == "/auth/reset-password",
                "tokens left in the address bar"
            );
            let asked = data_requests(&b).await?;
            ensure!(
                asked.is_empty(),
                "the recovery link asked for data before the code: {asked:?}"
            );
            b.screenshot("reset-password-two-step").await?;
            b.fill("Authentication code", &totp_code(&secret)?).await?;
            b.click_button("Verify and continue").await?;
            b.wait_for(Find::Heading("Choose a new password")).await?;
            b.fill("New password", new_password).await?;
            b.click_button("Save the new password").await?;
            b.wait_for(Find::Heading("Welcome back, Mia Mfa")).await?;
            b.wait_for(Find::Text(TITLE)).await?;
            api.sign_in(&email, new_password).await?;
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}
