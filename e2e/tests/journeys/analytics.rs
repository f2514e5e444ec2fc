//! Analytics: the range and the totals.

use super::*;

/// Alice's zone in the seed: her days, on the page and in the database, are Paris days.
const ALICE_ZONE: &str = "Europe/Paris";

/// The range the page's From and To fields show.
async fn shown_range(b: &Browser) -> Result<(String, String)> {
    let from = b
        .field("From")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    let to = b
        .field("To")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    Ok((from, to))
}

/// Waits until the page shows the last `days` days in Alice's zone, today included, and
/// returns that range. The zone's today is read before (`before`) and while the page is
/// looked at, so a run across Paris's midnight accepts either day.
async fn ensure_last_days(
    b: &Browser,
    days: i32,
    before: &(String, String),
) -> Result<(String, String)> {
    let until = std::time::Instant::now() + DEADLINE;
    loop {
        let shown = shown_range(b).await?;
        let (today, first) = helpers::date_in_zone(ALICE_ZONE, days - 1).await?;
        if (shown.1 == before.0 && shown.0 == before.1) || (shown.1 == today && shown.0 == first) {
            return Ok(shown);
        }
        ensure!(
            std::time::Instant::now() < until,
            "the last {days} days are shown as {} to {}, but in {ALICE_ZONE} they are {first} to {today}",
            shown.0,
            shown.1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 5c. Changing the analytics range changes the totals, to what the database computes; the
/// presets are the last days in the reader's zone (Alice's profile says Paris; the browser is
/// in UTC), even in the hours when Paris is already a day ahead.
#[tokio::test]
async fn j5c_analytics_range_changes_the_totals() -> Result<()> {
    let api = Api::new()?;
    let alice = api.sign_in(ALICE.0, ALICE.1).await?;
    with_browser(|b| async move {
        let r = async {
            let (month_before, week_before) = (helpers::date_in_zone(ALICE_ZONE, 29).await?, helpers::date_in_zone(ALICE_ZONE, 6).await?);
            b.sign_in(ALICE.0, ALICE.1).await?;
            b.click_link("Analytics").await?;
            b.wait_for(Find::Heading("Analytics")).await?;
            b.wait_for(Find::Css(".cards .metric")).await?;
            b.wait_for(Find::Css("svg")).await?;
            b.screenshot("analytics").await?;
            let revenue_30 = card_total(&b, "revenue").await?;
            let (start, end) = ensure_last_days(&b, 30, &month_before).await?;
            let m30 = api.rpc(&alice, "analytics_metrics", json!({ "start_date": start, "end_date": end })).await?;
            ensure!((revenue_30 - m30["metrics"]["revenue"]["total"].as_f64().unwrap_or(-1.0)).abs() < 0.01, "30 days: page {revenue_30}, database {}", m30["metrics"]["revenue"]["total"]);

            b.click_button("Last 7 days").await?;
            b.wait_for(Find::Css(".cards .metric")).await?;
            let (start, end) = ensure_last_days(&b, 7, &week_before).await?;
            let m7 = api.rpc(&alice, "analytics_metrics", json!({ "start_date": start, "end_date": end })).await?;
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
