//! Tasks: the wizard, a report run watched live, scheduling, cancelling, and who may see a task.

use super::*;

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
            // The review says it as English pages write a moment in UTC (up to the minute).
            b.wait_for(Find::Text(&helpers::english_utc_minute(&run_at)?))
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
