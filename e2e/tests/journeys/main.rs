//! End-to-end journeys through the built SPA, localbase and the worker, in Chromium.
//!
//! Needs `cargo build -p localbase -p worker` and `trunk build --release` first; run with
//! `cargo test -p e2e -- --test-threads=1`. Screenshots of every page visited go to
//! `target/screenshots/<name>-desktop.png` and `-phone.png`; localbase's and
//! chromedriver's logs to `target/e2e/`.

mod helpers;
mod live;

mod account;
mod admin;
mod analytics;
mod languages;
mod measure;
mod tasks;

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
