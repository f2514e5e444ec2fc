//! End-to-end journeys through the built SPA, localbase and the worker, in Chromium.
//!
//! Needs `cargo build -p localbase -p worker` and `trunk build --release` first; run with
//! `cargo test -p e2e -- --test-threads=1`. Screenshots of every page visited go to
//! `target/screenshots/<name>-desktop.png` and `-phone.png`; localbase's and
//! chromedriver's logs to `target/e2e/`.

mod helpers;
mod live;

use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

use helpers::{fresh_email, utc_date, utc_datetime_ahead, Api, ApiUser, Browser, Find, DEADLINE};

const ADMIN: (&str, &str) = ("admin@taskdeck.dev", "Admin-pass-123");
const ALICE: (&str, &str) = ("alice@taskdeck.dev", "Alice-pass-123");
const BOB: (&str, &str) = ("bob@taskdeck.dev", "Bob-pass-123");
const FRESH_PASSWORD: &str = "Fresh-pass-123";

/// Runs a journey in a fresh browser, closing it whatever happens.
async fn with_browser<F, Fut>(journey: F) -> Result<()>
where
    F: FnOnce(Browser) -> Fut,
    Fut: std::future::Future<Output = (Browser, Result<()>)>,
{
    let browser = Browser::open().await?;
    let started = std::time::Instant::now();
    let (browser, result) = journey(browser).await;
    let closed = browser.close().await;
    let name = std::thread::current()
        .name()
        .unwrap_or("journey")
        .to_owned();
    eprintln!(
        "e2e: {name}: {:.1} s in the browser",
        started.elapsed().as_secs_f64()
    );
    result.and(closed)
}

/// Records, in the page, every status badge text and progress value the task page shows
/// (an SPA: the recorder survives client-side navigation). Read with [`recorded`].
const RECORDER: &str = r#"
window.__seen = [];
const record = () => {
  const badge = document.querySelector('.status-line [data-status]');
  const bar = document.querySelector('.card [role=progressbar]');
  if (!badge) return;
  const logs = document.querySelectorAll('ol.log li').length;
  const entry = badge.dataset.status + (bar ? ' ' + bar.getAttribute('aria-valuenow') + '%' : '') + ' ' + logs + ' logs';
  if (window.__seen[window.__seen.length - 1] !== entry) window.__seen.push(entry);
};
new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
"#;

async fn recorded(browser: &Browser) -> Result<Vec<String>> {
    let value = browser
        .client
        .execute("return window.__seen || [];", vec![])
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// The task id in `/tasks/<id>`, once the wizard has navigated there.
async fn task_id_from_url(browser: &Browser) -> Result<String> {
    let value = browser
        .wait_js(
            "(location.pathname.match(/^\\/tasks\\/([0-9a-f-]{36})$/) || [])[1]",
            DEADLINE,
        )
        .await?;
    Ok(value.as_str().context("task id")?.to_owned())
}

/// Walks the wizard's first step with `task_type` (the radio's value).
async fn wizard_type(browser: &Browser, task_type: &str, shot: Option<&str>) -> Result<()> {
    browser.goto("/tasks/new").await?;
    browser.wait_for(Find::Heading("New task")).await?;
    browser
        .wait_for(Find::Css(&format!(
            "input[name=task-type][value={task_type}]"
        )))
        .await?
        .click()
        .await?;
    if let Some(name) = shot {
        browser.screenshot(name).await?;
    }
    browser.click_button("Next →").await?;
    browser.wait_for(Find::Css("#title")).await?;
    Ok(())
}

/// Fetches one task of `user` by id.
async fn task_row(api: &Api, user: &ApiUser, id: &str) -> Result<Value> {
    let rows = api.get(user, &format!("tasks?id=eq.{id}&select=*")).await?;
    rows.get(0)
        .cloned()
        .with_context(|| format!("task {id} not visible to {}", user.email))
}

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

/// Events in the last 14 days for a business with a large history: enough rows that a
/// report over them takes a few seconds, so its run can be watched.
const LARGE_HISTORY_EVENTS: i32 = 1_500_000;

/// Gives `user_id` a large history of business events (the last 14 days).
async fn insert_large_history(user_id: &str) -> Result<()> {
    use sqlx::Connection;
    let url = &helpers::stack()?.database_url;
    let mut db = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let started = std::time::Instant::now();
    sqlx::query(
        "insert into public.business_events (user_id, event_type, amount, occurred_at) \
         select $1::uuid, (array['visit', 'visit', 'visit', 'order', 'signup', 'conversion'])[1 + g % 6], \
                case when g % 6 = 3 then 10 + g % 90 else 0 end, \
                now() - (g % 1209600) * interval '1 second' \
         from generate_series(1, $2) g",
    )
    .bind(user_id)
    .bind(LARGE_HISTORY_EVENTS)
    .execute(&mut db)
    .await
    .context("inserting the business events")?;
    sqlx::query("analyze public.business_events")
        .execute(&mut db)
        .await?;
    eprintln!(
        "j2: {LARGE_HISTORY_EVENTS} events inserted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// 2. A business user with a large history creates a CSV analytics report in the wizard,
/// to run a few seconds later, and watches it go pending → running (progress and log lines
/// appearing) → completed; the file's rows are what `analytics_metrics` gives for the same
/// range; the page's download link gives the same file.
#[tokio::test]
async fn j2_a_user_watches_an_analytics_report_run() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("reporter");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Rhea Reporter").await?;
    insert_large_history(&user.id).await?;
    with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            b.wait_for(Find::Css(".cards .metric")).await?;
            b.screenshot("dashboard").await?;

            wizard_type(&b, "analytics_report", Some("wizard-type")).await?;
            let title = format!("E2E report {}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            let (start, end) = (utc_date(13), utc_date(0));
            // Details: nothing typed yet → the title is required.
            b.click_button("Next →").await?;
            b.wait_for(Find::Css("#title-error")).await?;
            b.fill("Title", &title).await?;
            // The message follows the input: typing a title clears it before the next "Next".
            b.wait_js("document.querySelector('#title-error') === null", helpers::DEADLINE)
                .await?;
            b.fill("Description (optional)", "Made by the end-to-end journey").await?;
            b.fill("From", &start).await?;
            b.fill("To", &end).await?;
            b.select("File format", "csv").await?;
            b.screenshot("wizard-details").await?;
            b.click_button("Next →").await?;
            b.wait_for(Find::Css("#run_at")).await?;
            // A few seconds ahead, so the task is seen waiting before it runs.
            let run_at = utc_datetime_ahead(5);
            b.fill("Run at (optional)", &run_at).await?;
            b.screenshot("wizard-schedule").await?;
            b.click_button("Review →").await?;
            b.wait_for(Find::Button("Create task")).await?;
            b.wait_for(Find::Text("\"csv\"")).await?;
            b.screenshot("wizard-review").await?;

            b.client.execute(RECORDER, vec![]).await?;
            b.click_button("Create task").await?;
            let id = task_id_from_url(&b).await?;
            b.wait_for(Find::Heading(&title)).await?;
            b.wait_for_within(Find::Css(".status-line [data-status=completed]"), Duration::from_secs(60))
                .await?;
            b.wait_for(Find::Text("Uploaded to reports/")).await?;
            b.wait_for(Find::Text("Saved the report")).await?;
            b.wait_for(Find::Css("a[download]")).await?;
            let bar = b.wait_for(Find::Css(".card [role=progressbar]")).await?;
            ensure!(bar.attr("aria-valuenow").await?.as_deref() == Some("100"), "progress is not 100%");
            b.screenshot("task-completed").await?;

            // What the page showed over time ("running 10% 1 logs", …): pending, then running
            // with its progress between 0 and 100 and log lines, then completed; never back.
            let seen = recorded(&b).await?;
            eprintln!("j2: the task page showed {seen:?}");
            let order = ["pending", "running", "completed"];
            let mut last = 0;
            for entry in &seen {
                let status = entry.split(' ').next().unwrap_or_default();
                let Some(at) = order.iter().position(|s| *s == status) else {
                    bail!("unexpected status {entry:?} in {seen:?}");
                };
                ensure!(at >= last, "status went backwards: {seen:?}");
                last = at;
            }
            ensure!(seen.first().is_some_and(|s| s.starts_with("pending 0%")), "{seen:?}");
            let running: Vec<(u32, usize)> = seen
                .iter()
                .filter_map(|entry| {
                    let parts: Vec<&str> = entry.split(' ').collect();
                    match parts[..] {
                        ["running", progress, logs, "logs"] => Some((
                            progress.trim_end_matches('%').parse().ok()?,
                            logs.parse().ok()?,
                        )),
                        _ => None,
                    }
                })
                .collect();
            ensure!(
                running.iter().any(|&(progress, logs)| progress > 0 && progress < 100 && logs > 0),
                "never seen running with progress and log lines: {seen:?}"
            );
            ensure!(seen.last().is_some_and(|s| s.starts_with("completed 100%")), "{seen:?}");

            // The database agrees, and the file matches analytics_metrics.
            let task = task_row(&api, &user, &id).await?;
            ensure!(task["status"] == "completed" && task["progress"] == 100, "task: {task}");
            let executions = api.get(&user, &format!("task_executions?task_id=eq.{id}&select=status,started_at,completed_at")).await?;
            ensure!(
                executions.as_array().is_some_and(|e| e.len() == 1 && e[0]["status"] == "completed"),
                "executions: {executions}"
            );
            let logs = api.get(&user, &format!("execution_logs?task_id=eq.{id}&select=message")).await?;
            let shown = b.client.find_all(fantoccini::Locator::Css("ol.log li")).await?.len();
            ensure!(logs.as_array().map(Vec::len) == Some(shown), "{shown} log lines shown, database has {logs}");
            let path = task["result"]["path"].as_str().context("no result.path")?;
            ensure!(path == format!("{}/{id}/report.csv", user.id), "path {path}");
            let csv = String::from_utf8(api.download_signed(&user, "reports", path).await?)?;
            let metrics = api
                .rpc(&user, "analytics_metrics", json!({ "start_date": start, "end_date": end, "metrics": ["revenue", "users", "conversion"] }))
                .await?;
            check_csv(&csv, &metrics["metrics"], &start, &end)?;
            let reports = api.get(&user, &format!("analytics_reports?task_id=eq.{id}&select=format,storage_path,date_range_start,date_range_end")).await?;
            ensure!(
                reports[0]["format"] == "csv" && reports[0]["storage_path"] == json!(path) && reports[0]["date_range_start"] == json!(start),
                "reports: {reports}"
            );

            // The page's own download: a real link to a signed URL, which gives the same file.
            let link = b.wait_for(Find::Link("Download the file")).await?;
            ensure!(link.attr("download").await?.as_deref() == Some("report.csv"), "download name");
            let href = link.attr("href").await?.context("download href")?;
            let via_page = reqwest::get(&href).await?.error_for_status()?.text().await?;
            ensure!(via_page == csv, "the page's download differs from the stored file");

            // The task list has it, completed, and its search finds it.
            b.click_link("← Tasks").await?;
            b.wait_for(Find::Heading("Tasks")).await?;
            b.fill("Title contains", &title).await?;
            b.click_button("Search").await?;
            b.wait_for(Find::Text("1–1 of 1")).await?;
            b.wait_for(Find::Link(&title)).await?;
            let rows = b.client.find_all(fantoccini::Locator::Css("table tbody tr")).await?;
            ensure!(rows.len() == 1, "{} rows found for {title:?}", rows.len());
            rows[0]
                .find(fantoccini::Locator::Css("[data-status=completed]"))
                .await
                .with_context(|| "the row's status is not completed")?;
            b.screenshot("tasks").await?;

            // The report is listed with the others.
            b.goto("/analytics/reports").await?;
            b.wait_for(Find::Link(&title)).await?;
            let link = b
                .wait_for(Find::Css(&format!("a[download][aria-label={}]", serde_json::to_string(&format!("Download {title}"))?)))
                .await?;
            let href = link.attr("href").await?.context("report link href")?;
            ensure!(reqwest::get(&href).await?.error_for_status()?.text().await? == csv, "the reports page's link gives another file");
            b.screenshot("reports").await?;
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// The report's rows (`date,metric,value`) equal the RPC's data points, every day and
/// metric, and its totals section the RPC's totals.
fn check_csv(csv: &str, metrics: &Value, start: &str, end: &str) -> Result<()> {
    let (rows, totals) = csv
        .split_once("\n\n")
        .context("the CSV has no totals section")?;
    let mut lines = rows.lines();
    ensure!(lines.next() == Some("date,metric,value"), "header: {csv}");
    let mut count = 0;
    for line in lines {
        let parts: Vec<&str> = line.split(',').collect();
        let [date, metric, value] = parts[..] else {
            bail!("bad row {line:?}");
        };
        ensure!(date >= start && date <= end, "row out of range: {line}");
        let points = metrics[metric]["dataPoints"]
            .as_array()
            .with_context(|| format!("no {metric} in the RPC"))?;
        let expected = points
            .iter()
            .find(|p| p["date"] == date)
            .and_then(|p| p["value"].as_f64())
            .with_context(|| format!("no {metric} point for {date}"))?;
        let got: f64 = value.parse()?;
        ensure!(
            (got - expected).abs() < 0.005,
            "{date} {metric}: file {got}, database {expected}"
        );
        count += 1;
    }
    let days = metrics["revenue"]["dataPoints"]
        .as_array()
        .map_or(0, Vec::len);
    ensure!(
        days == 14 && count == 3 * days,
        "{count} rows for {days} days"
    );
    let (totals, zone) = totals
        .split_once("\n\n")
        .context("the CSV has no time zone section")?;
    ensure!(
        zone.starts_with(
            "time_zone,generated_at,utc_offset,generated_at_local,language,currency,title\n"
        ),
        "zone section: {zone}"
    );
    let mut totals_lines = totals.lines();
    ensure!(totals_lines.next() == Some("metric,total,change_percent,trend,label"));
    for line in totals_lines.filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split(',').collect();
        let expected = metrics[parts[0]]["total"].as_f64().context("total")?;
        let got: f64 = parts[1].parse()?;
        ensure!(
            (got - expected).abs() < 0.005,
            "{} total: file {got}, database {expected}",
            parts[0]
        );
    }
    Ok(())
}

/// 3. Bob opens one of Alice's tasks by its address and is told it does not exist.
#[tokio::test]
async fn j3_bob_cannot_see_alices_task() -> Result<()> {
    let api = Api::new()?;
    let alice = api.sign_in(ALICE.0, ALICE.1).await?;
    let tasks = api
        .get(
            &alice,
            "tasks?select=id,title&order=created_at.desc&limit=1",
        )
        .await?;
    let id = tasks[0]["id"]
        .as_str()
        .context("alice has no task")?
        .to_owned();
    let title = tasks[0]["title"].as_str().unwrap_or_default().to_owned();
    let bob = api.sign_in(BOB.0, BOB.1).await?;
    ensure!(
        api.get(&bob, &format!("tasks?id=eq.{id}")).await? == json!([]),
        "bob reads alice's task over the API"
    );

    with_browser(|b| async move {
        let r = async {
            b.sign_in(BOB.0, BOB.1).await?;
            b.goto(&format!("/tasks/{id}")).await?;
            let alert = b.wait_for(Find::Css(".alert.error[role=alert]")).await?;
            ensure!(
                alert.text().await?.contains("Not found"),
                "alert: {}",
                alert.text().await?
            );
            b.screenshot("task-not-found").await?;
            let text = b.page_text().await?;
            ensure!(
                !text.contains(&title),
                "alice's title {title:?} is on bob's page"
            );
            ensure!(
                !text.contains("Parameters"),
                "task fields are on bob's page"
            );
            // A malformed id is not found either.
            b.goto("/tasks/not-a-task").await?;
            b.wait_for(Find::Heading("Task not found")).await?;
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

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
            let secs: u64 = heartbeat.strip_suffix(" s ago").and_then(|s| s.parse().ok()).with_context(|| format!("last heartbeat {heartbeat:?} is not seconds ago"))?;
            ensure!(secs < 60, "heartbeat {secs} s ago");
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

/// 5a. A task scheduled a few seconds ahead waits, then runs, while its page is open.
#[tokio::test]
async fn j5a_a_scheduled_task_waits_then_runs() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("scheduler");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Sky Scheduler").await?;
    with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            wizard_type(&b, "analytics_report", None).await?;
            b.fill("Title", "Scheduled report").await?;
            b.select("File format", "json").await?;
            b.click_button("Next →").await?;
            let run_at = utc_datetime_ahead(8);
            b.fill("Run at (optional)", &run_at).await?;
            b.click_button("Review →").await?;
            // Chromium drops ":00" seconds from the value: compare up to the minute.
            b.wait_for(Find::Text(&run_at[..16].replace('T', " ")))
                .await?;
            b.client.execute(RECORDER, vec![]).await?;
            b.click_button("Create task").await?;
            let id = task_id_from_url(&b).await?;
            b.wait_for(Find::Css(".status-line [data-status=pending]"))
                .await?;
            b.wait_for(Find::Text("Scheduled")).await?;
            b.screenshot("task-scheduled").await?;
            b.wait_for_within(
                Find::Css(".status-line [data-status=completed]"),
                Duration::from_secs(45),
            )
            .await?;
            let seen = recorded(&b).await?;
            eprintln!("j5a: the task page showed {seen:?}");
            ensure!(
                seen.first().is_some_and(|s| s.starts_with("pending")),
                "{seen:?}"
            );
            let task = task_row(&api, &user, &id).await?;
            let (scheduled, started) = (
                task["scheduled_at"].as_str().unwrap_or_default(),
                task["started_at"].as_str().unwrap_or_default(),
            );
            ensure!(
                !scheduled.is_empty() && started >= scheduled,
                "started {started} before scheduled {scheduled}"
            );
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}

/// A web server that accepts connections and never answers: a task calling it keeps
/// running until its timeout.
async fn silent_server() -> Result<(u16, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let handle = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Ok((port, handle))
}

/// 5b. A running task is cancelled from its page; the worker stops it.
#[tokio::test]
async fn j5b_cancel_a_running_task() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("canceller");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Cal Canceller").await?;
    let (port, server) = silent_server().await?;
    let result = with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            wizard_type(&b, "http_request", None).await?;
            b.fill("Title", "Slow call").await?;
            b.fill("URL", &format!("http://127.0.0.1:{port}/slow"))
                .await?;
            b.fill("Timeout in seconds (optional)", "60").await?;
            b.click_button("Next →").await?;
            b.wait_for(Find::Css("#run_at")).await?;
            b.fill("Attempts before giving up", "1").await?;
            b.click_button("Review →").await?;
            b.click_button("Create task").await?;
            let id = task_id_from_url(&b).await?;
            b.wait_for(Find::Css(".status-line [data-status=running]"))
                .await?;
            b.wait_for(Find::Text("Live")).await?;
            b.screenshot("task-running").await?;
            b.click_button("Cancel").await?;
            b.wait_for(Find::Text("The task was cancelled.")).await?;
            b.wait_for(Find::Css(".status-line [data-status=cancelled]"))
                .await?;
            b.wait_for(Find::Button("Retry")).await?;
            b.screenshot("task-cancelled").await?;
            // The worker sees the cancellation within a heartbeat and ends the attempt.
            let until = std::time::Instant::now() + Duration::from_secs(30);
            let ended = loop {
                let executions = api
                    .get(
                        &user,
                        &format!("task_executions?task_id=eq.{id}&select=status"),
                    )
                    .await?;
                if executions
                    .as_array()
                    .is_some_and(|e| !e.is_empty() && e.iter().all(|x| x["status"] != "running"))
                {
                    break executions[0]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                }
                ensure!(
                    std::time::Instant::now() < until,
                    "the attempt is still running: {executions}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            };
            let task = task_row(&api, &user, &id).await?;
            ensure!(task["status"] == "cancelled", "task: {task}");
            // The page keeps polling after the cancel until the worker has closed the attempt:
            // the ended attempt appears without a reload.
            b.wait_for(Find::Css(&format!("table [data-status={ended}]")))
                .await?;
            Ok(())
        }
        .await;
        (b, r)
    })
    .await;
    server.abort();
    result
}

/// A metric card's total as a number (`$12,345.60`, `4.2%`, `1,234`).
async fn card_total(b: &Browser, metric: &str) -> Result<f64> {
    let total = b
        .client
        .find(fantoccini::Locator::Css(&format!(
            "[data-metric={metric}] [data-total]"
        )))
        .await?
        .attr("data-total")
        .await?
        .with_context(|| format!("no data-total on the {metric} card"))?;
    total
        .parse()
        .with_context(|| format!("{metric} total {total:?}"))
}

/// 5c. Changing the analytics range changes the totals, to what the database computes.
#[tokio::test]
async fn j5c_analytics_range_changes_the_totals() -> Result<()> {
    let api = Api::new()?;
    let alice = api.sign_in(ALICE.0, ALICE.1).await?;
    with_browser(|b| async move {
        let r = async {
            b.sign_in(ALICE.0, ALICE.1).await?;
            b.click_link("Analytics").await?;
            b.wait_for(Find::Heading("Analytics")).await?;
            b.wait_for(Find::Css(".cards .metric")).await?;
            b.wait_for(Find::Css("svg")).await?;
            b.screenshot("analytics").await?;
            let revenue_30 = card_total(&b, "revenue").await?;
            let m30 = api.rpc(&alice, "analytics_metrics", json!({ "start_date": utc_date(29), "end_date": utc_date(0) })).await?;
            ensure!((revenue_30 - m30["metrics"]["revenue"]["total"].as_f64().unwrap_or(-1.0)).abs() < 0.01, "30 days: page {revenue_30}, database {}", m30["metrics"]["revenue"]["total"]);

            b.click_button("Last 7 days").await?;
            b.wait_for(Find::Css(".cards .metric")).await?;
            let m7 = api.rpc(&alice, "analytics_metrics", json!({ "start_date": utc_date(6), "end_date": utc_date(0) })).await?;
            let expected = m7["metrics"]["revenue"]["total"].as_f64().context("7-day revenue")?;
            ensure!((expected - revenue_30).abs() > 0.01, "seed gives the same revenue for 7 and 30 days");
            let until = std::time::Instant::now() + DEADLINE;
            loop {
                if let Ok(now) = card_total(&b, "revenue").await {
                    if (now - expected).abs() < 0.01 {
                        break;
                    }
                    ensure!(std::time::Instant::now() < until, "7 days: page {now}, database {expected}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let orders = card_total(&b, "orders").await?;
            ensure!((orders - m7["metrics"]["orders"]["total"].as_f64().unwrap_or(-1.0)).abs() < 0.5, "orders {orders} vs {}", m7["metrics"]["orders"]["total"]);

            // A range typed by hand, with the bar chart.
            b.fill("From", &utc_date(59)).await?;
            b.fill("To", &utc_date(30)).await?;
            b.select("Chart", "bar").await?;
            b.click_button("Show").await?;
            let m = api.rpc(&alice, "analytics_metrics", json!({ "start_date": utc_date(59), "end_date": utc_date(30) })).await?;
            let expected = m["metrics"]["revenue"]["total"].as_f64().context("revenue")?;
            b.wait_js(
                &format!("Math.abs(parseFloat(document.querySelector('[data-metric=revenue] [data-total]')?.dataset.total) - {expected}) < 0.01"),
                DEADLINE,
            )
            .await
            .with_context(|| format!("revenue {expected} not shown"))?;
            b.screenshot("analytics-custom-range").await?;
            // An impossible range is refused in words.
            b.fill("From", &utc_date(0)).await?;
            b.fill("To", &utc_date(5)).await?;
            b.click_button("Show").await?;
            b.wait_for(Find::Text("The start date must not be after the end date.")).await?;
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

/// The current TOTP code for a base32 secret (SHA-1, 6 digits, 30 s).
fn totp_code(secret: &str) -> Result<String> {
    let bytes = totp_rs::Secret::Encoded(secret.trim().to_owned())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("secret {secret:?}: {e:?}"))?;
    Ok(
        totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
            .generate_current()?,
    )
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

/// Turns on TOTP for `user` through Auth, as the security page does (enrol, challenge,
/// verify the current code); returns the secret, the authenticator app's copy.
async fn turn_on_totp(api: &Api, user: &ApiUser, name: &str) -> Result<String> {
    let factor = api
        .auth_post(
            Some(user),
            "factors",
            json!({ "factor_type": "totp", "friendly_name": name, "issuer": "Taskdeck" }),
        )
        .await?;
    let id = factor["id"].as_str().context("factor without id")?;
    let secret = factor["totp"]["secret"]
        .as_str()
        .context("factor without secret")?
        .to_owned();
    let challenge = api
        .auth_post(Some(user), &format!("factors/{id}/challenge"), json!({}))
        .await?;
    api.auth_post(
        Some(user),
        &format!("factors/{id}/verify"),
        json!({ "challenge_id": challenge["id"], "code": totp_code(&secret)? }),
    )
    .await?;
    Ok(secret)
}

/// The data requests (PostgREST, Storage) the page has made since it was loaded.
async fn data_requests(b: &Browser) -> Result<Vec<String>> {
    let urls = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/rest/v1/') || n.includes('/storage/v1/'));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(urls)?)
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

/// Not a test but a measurement, run by `scripts/bench-spa`: how soon the SPA first paints
/// (First Contentful Paint: `index.html` has no content of its own, so this is the first
/// render of the wasm app) and its largest element (Largest Contentful Paint), in ms after
/// navigation start, over fresh browser sessions (nothing cached) on `/` and `/auth/login`.
#[tokio::test]
#[ignore = "a measurement: scripts/bench-spa runs it"]
async fn measure_first_render() -> Result<()> {
    const LOADS: usize = 9;
    const PAINTS: &str = r#"
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return fcp && window.__lcp && document.querySelector('h1')
            ? [fcp.startTime, window.__lcp]
            : null;
    "#;
    for path in ["/", "/auth/login"] {
        let mut fcp = Vec::new();
        let mut lcp = Vec::new();
        for _ in 0..LOADS {
            let b = Browser::open().await?;
            let measured = async {
                // LCP entries reach observers only; `buffered` hands over the earlier ones.
                b.goto(path).await?;
                b.client
                    .execute(
                        "new PerformanceObserver(l => { const e = l.getEntries(); window.__lcp = e[e.length - 1].startTime; }).observe({type: 'largest-contentful-paint', buffered: true}); return 1;",
                        vec![],
                    )
                    .await?;
                let until = std::time::Instant::now() + DEADLINE;
                loop {
                    let value = b.client.execute(PAINTS, vec![]).await?;
                    if let Some([f, l]) = value.as_array().map(Vec::as_slice) {
                        return Ok::<_, anyhow::Error>((
                            f.as_f64().unwrap_or_default(),
                            l.as_f64().unwrap_or_default(),
                        ));
                    }
                    ensure!(std::time::Instant::now() < until, "{path}: no paint entries");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            .await;
            b.close().await?;
            let (f, l) = measured?;
            fcp.push(f);
            lcp.push(l);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "first render {path}: FCP median {:.0} ms (best {:.0}), LCP median {:.0} ms over {LOADS} cold loads",
            median(&mut fcp),
            fcp[0],
            median(&mut lcp),
        );
    }
    Ok(())
}
