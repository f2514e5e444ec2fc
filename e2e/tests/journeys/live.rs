//! Journey 6, Realtime (issue #12): a task page shows the worker's first log line within a
//! second of its commit, and the task list flips a row to Completed, both without reload
//! and through the socket (the tab's socket is open and the "paused" note never shows).

use std::time::Duration;

use anyhow::{ensure, Result};
use serde_json::json;

use crate::helpers::{fresh_email, utc_datetime_ahead, Api, Find};
use crate::{task_id_from_url, wizard_type, FRESH_PASSWORD};

/// Records (in the page) when the first log line appears, and marks the window: a reload
/// would lose both.
const WATCH: &str = r#"
window.__marker = 'kept';
window.__firstLog = null;
window.__paused = false;
new MutationObserver(() => {
  if (document.querySelector('[data-realtime=paused]')) window.__paused = true;
  if (window.__firstLog === null && document.querySelector('ol.log li')) window.__firstLog = Date.now();
}).observe(document.body, { subtree: true, childList: true });
"#;

#[tokio::test]
async fn j6_live_updates_arrive_through_the_socket() -> Result<()> {
    let api = Api::new()?;
    let email = fresh_email("watcher");
    let user = api.sign_up(&email, FRESH_PASSWORD, "Wes Watcher").await?;
    crate::with_browser(|b| async move {
        let r = async {
            b.sign_in(&email, FRESH_PASSWORD).await?;
            wizard_type(&b, "analytics_report", None).await?;
            b.fill("Title", "Watched report").await?;
            b.select("File format", "json").await?;
            b.click_button("Next →").await?;
            b.fill("Run at (optional)", &utc_datetime_ahead(6)).await?;
            b.click_button("Review →").await?;
            b.click_button("Create task").await?;
            let id = task_id_from_url(&b).await?;
            b.wait_for(Find::Css(".status-line [data-status=pending]")).await?;
            b.wait_js(
                "document.documentElement.dataset.realtime === 'open' || null",
                Duration::from_secs(10),
            )
            .await?;
            b.client.execute(WATCH, vec![]).await?;
            b.wait_for_within(
                Find::Css(".status-line [data-status=completed]"),
                Duration::from_secs(45),
            )
            .await?;
            let first = api
                .get(
                    &user,
                    &format!("execution_logs?task_id=eq.{id}&order=id.asc&limit=1&select=created_at"),
                )
                .await?;
            let created_at = first[0]["created_at"].as_str().unwrap_or_default().to_owned();
            let delay = b
                .client
                .execute(
                    "return window.__firstLog === null ? null : window.__firstLog - Date.parse(arguments[0]);",
                    vec![json!(created_at)],
                )
                .await?;
            eprintln!("j6: first log line ({created_at}) shown after {delay} ms");
            let delay = delay.as_f64().unwrap_or(f64::MAX);
            ensure!(delay <= 1000.0, "the first log line took {delay} ms");

            // The list, reached in the app: a new task appears on top and flips to Completed.
            b.click_link("← Tasks").await?;
            b.wait_for(Find::Css("[data-status=completed]")).await?;
            api.insert(
                &user,
                "tasks",
                json!({"user_id": user.id, "title": "Live row", "type": "data_export",
                       "parameters": {"dataset": "tasks", "format": "csv"},
                       "scheduled_at": utc_datetime_ahead(2)}),
            )
            .await?;
            b.wait_for(Find::Text("Live row")).await?;
            b.wait_js(
                "[...document.querySelectorAll('tr')].some(tr => tr.textContent.includes('Live row') && tr.querySelector('[data-status=completed]')) || null",
                Duration::from_secs(45),
            )
            .await?;
            let state = b
                .client
                .execute(
                    "return [window.__marker, window.__paused, document.documentElement.dataset.realtime];",
                    vec![],
                )
                .await?;
            ensure!(state == json!(["kept", false, "open"]), "{state}");
            Ok(())
        }
        .await;
        (b, r)
    })
    .await
}
