//! A metric's total, trend arrow and change against the previous period.

use domain::{Metric, MetricSeries, Trend};
use yew::prelude::*;

use crate::i18n::th;
use crate::i18n::{label, tf, Msg};
use crate::ui::format::{money, number, percent};

/// Props of [`MetricCard`].
#[derive(Properties, PartialEq)]
pub struct MetricCardProps {
    /// Which metric.
    pub metric: Metric,
    /// Its series.
    pub series: MetricSeries,
}

/// The total as people read it, in the reader's locale and the system's currency:
/// `Rp12.345`, `4,2%`, `1.234` / `$12,345.60`, `4.2%`, `1,234`.
pub fn format_total(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Revenue => money(value),
        Metric::Conversion => percent(value),
        _ => number(value, 0),
    }
}

/// `▲ +12.3%`, `▼ -4%`, `→ 0%`.
pub fn format_change(trend: Trend, change: f64) -> String {
    let arrow = match trend {
        Trend::Up => "▲",
        Trend::Down => "▼",
        Trend::Flat => "→",
    };
    format!(
        "{arrow} {}{}",
        if change > 0.0 { "+" } else { "" },
        percent(change)
    )
}

/// A card with a metric's total and trend.
#[function_component(MetricCard)]
pub fn metric_card(props: &MetricCardProps) -> Html {
    metric_series_view(props.metric, &props.series)
}

/// The markup of [`MetricCard`] without the component (smaller wasm at each use).
pub fn metric_series_view(metric: Metric, series: &MetricSeries) -> Html {
    let trend = series.trend;
    let change = html! {
        <p class={classes!("metric-change", format!("trend-{}", trend.as_str()))}
           aria-label={tf(Msg::MetricVersus, &[("trend", label(trend)), ("change", &number(series.change, 1))])}>
            { format_change(trend, series.change) }
            <span class="muted">{ " " }{ th(Msg::MetricVsPrevious) }</span>
        </p>
    };
    metric_view(
        metric.as_str(),
        label(metric),
        format_total(metric, series.total),
        series.total,
        change,
    )
}

/// A metric card: `data-metric` names the metric (its key), the total shows as people read
/// it and carries its plain value in `data-total` (for tests and tools), `footer` below.
pub fn metric_view(key: &str, name: &str, total: String, value: f64, footer: Html) -> Html {
    html! {
        <div class="card metric" data-metric={key.to_owned()}>
            <p class="metric-name">{ name.to_owned() }</p>
            <p class="metric-total" data-total={crate::ui::format::decimal(value, 4)}>{ total }</p>
            { footer }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn totals_and_changes_read_well() {
        crate::i18n::set(crate::i18n::Locale {
            lang: crate::i18n::Lang::En,
            time_zone: "UTC".into(),
            currency: "USD".into(),
        });
        assert_eq!(format_total(Metric::Revenue, 12345.6), "$12,345.60");
        assert_eq!(format_total(Metric::Conversion, 4.26), "4.3%");
        assert_eq!(format_total(Metric::Users, 1234.0), "1,234");
        assert_eq!(format_change(Trend::Up, 12.3), "▲ +12.3%");
        assert_eq!(format_change(Trend::Down, -4.0), "▼ -4%");
        assert_eq!(format_change(Trend::Flat, 0.0), "→ 0%");
        crate::i18n::set(crate::i18n::Locale {
            lang: crate::i18n::Lang::Id,
            time_zone: "Asia/Jakarta".into(),
            currency: "IDR".into(),
        });
        let plain = |text: String| text.replace('\u{a0}', " ");
        assert_eq!(plain(format_total(Metric::Revenue, 12345.6)), "Rp 12.346");
        assert_eq!(format_total(Metric::Conversion, 4.26), "4,3%");
        assert_eq!(format_total(Metric::Users, 1234.0), "1.234");
        assert_eq!(format_change(Trend::Up, 12.3), "▲ +12,3%");
        // The tests after this one read English.
        crate::i18n::set(crate::i18n::Locale::default());
    }
}
