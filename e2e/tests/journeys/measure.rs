//! Measurements (ignored by default; `scripts/bench-spa` runs them).

use super::*;

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
