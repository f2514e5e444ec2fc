//! Administration: roles, the audit trail, the workers.

use super::*;

/// 4. A business user is refused the admin pages; the admin changes a fresh user's role,
/// sees it in the audit trail, and sees the worker alive on the system page.
#[tokio::test]
async fn j4_admin_changes_a_role_and_watches_the_worker() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("subject");
    let subject = api.sign_up(&email, FRESH_PASSWORD, "Sam Subject").await?;

    with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            ensure!(b.client.find_all(fantoccini::Locator::XPath("//nav//a[normalize-space(.)='Admin']")).await?.is_empty(), "admin link shown to a business user");
            for path in ["/admin", "/admin/users", "/admin/system"] {
                b.goto(path).await?;
                b.wait_for(Find::Heading("Administrators only")).await?;
            }
            b.screenshot("admin-refused").await?;
            b.sign_out().await?;

            b.sign_in(ADMIN.0, ADMIN.1).await?;
            b.click_link("Admin").await?;
            b.wait_for(Find::Heading("Administration")).await?;
            b.wait_for(Find::Text("Live workers")).await?;
            b.screenshot("admin-overview").await?;

            b.click_link("Users").await?;
            b.wait_for(Find::Heading("Users")).await?;
            b.wait_for(Find::Css("table.table tbody tr")).await?;
            b.screenshot("admin-users").await?;
            b.fill("Email or name contains", &email).await?;
            b.click_button("Search").await?;
            b.wait_for(Find::Text(&email)).await?;
            let rows = b.client.find_all(fantoccini::Locator::Css("table.table tbody tr")).await?;
            ensure!(rows.len() == 1, "{} rows for {email}", rows.len());
            b.select(&format!("Role of {email}"), "guest").await?;
            b.wait_for(Find::Text("Role changed to")).await?;
            b.click_button(&format!("Audit trail of {email}")).await?;
            b.wait_for(Find::Heading(&format!("Audit trail of {email}"))).await?;
            b.wait_for(Find::Text("role: \"business_user\" → \"guest\"")).await?;
            // Who did it, by name and email, and from where (the gateway's X-Forwarded-For).
            b.wait_for(Find::Text("Ada Admin <admin@taskdeck.dev>")).await?;
            b.wait_for(Find::Text("127.0.0.1")).await?;
            b.screenshot("admin-audit").await?;

            let admin = Api::new()?.sign_in(ADMIN.0, ADMIN.1).await?;
            let profile = Api::new()?.get(&admin, &format!("profiles?id=eq.{}&select=role", subject.id)).await?;
            ensure!(profile[0]["role"] == "guest", "profile: {profile}");
            let audit = Api::new()?
                .get(&admin, &format!("audit_logs?subject_user_id=eq.{}&table_name=eq.profiles&select=action,actor_id,old_data,new_data&order=created_at.desc", subject.id))
                .await?;
            ensure!(
                audit.as_array().is_some_and(|rows| rows.iter().any(|e| e["new_data"]["role"] == "guest"
                    && e["old_data"]["role"] == "business_user"
                    && e["actor_id"] == json!(admin.id))),
                "audit: {audit}"
            );

            b.click_link("System").await?;
            b.wait_for(Find::Heading("System")).await?;
            let state = b.wait_for(Find::Css("table.table tbody tr td span.online")).await?;
            let row = state.find(fantoccini::Locator::XPath("./ancestor::tr")).await?;
            let cells = row.find_all(fantoccini::Locator::Css("td")).await?;
            let last = cells.last().context("no cells")?;
            let heartbeat = last.text().await?;
            // Intl.RelativeTimeFormat's words: "now", "1 second ago", "12 seconds ago".
            let secs: u64 = if heartbeat == "now" {
                0
            } else {
                heartbeat
                    .strip_suffix(" seconds ago")
                    .or_else(|| heartbeat.strip_suffix(" second ago"))
                    .and_then(|s| s.parse().ok())
                    .with_context(|| format!("last heartbeat {heartbeat:?} is not seconds ago"))?
            };
            ensure!(secs < 60, "heartbeat {secs} seconds ago");
            // The exact time is in the cell's <time datetime>, in UTC.
            let since = format!("{}Z", utc_datetime_ahead(-60));
            let at = last
                .find(fantoccini::Locator::Css("time[datetime]"))
                .await?
                .attr("datetime")
                .await?
                .context("no datetime on the heartbeat")?;
            ensure!(at.ends_with('Z') && at[..19] >= since[..19], "heartbeat at {at}, before {since}");
            b.screenshot("admin-system").await?;
            let workers = Api::new()?.get(&admin, &format!("workers?select=id,status,last_heartbeat_at&last_heartbeat_at=gte.{since}")).await?;
            ensure!(workers.as_array().is_some_and(|w| !w.is_empty()), "no recent heartbeat in the database: {workers}");
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}
