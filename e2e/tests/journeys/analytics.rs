//! Analytics: the range and the totals.

use super::*;

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
