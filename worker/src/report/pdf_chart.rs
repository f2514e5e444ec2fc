//! The PDF's chart of one metric: a heading (`Revenue per day`), the total and its change
//! against the previous period, and the daily values drawn as vectors — bars up to two
//! months of days, a line with a shaded area beyond — over a grid with round steps
//! labelled in the report's language and currency.

use chrono::NaiveDate;
use domain::{Metric, MetricSeries};

use super::pdf::{Align, Canvas, ACCENT, INK, MARGIN, MUTED, PAGE_WIDTH, RULE};
use super::{number, Report};

/// Up to this many days, one bar per day; beyond, a line.
const MAX_BARS: usize = 62;
/// Horizontal grid lines above zero.
const STEPS: usize = 4;

/// Draws the chart of `metric` with its heading at `top`; it takes about 330 points.
pub(super) fn draw(
    canvas: &mut Canvas<'_, '_>,
    report: &Report,
    metric: Metric,
    series: &MetricSeries,
    top: f32,
) {
    let words = report.words();
    let lang = report.locale.lang;
    let name = words.metric_name(metric);
    canvas.text(
        (MARGIN, top + 16.0),
        14.0,
        true,
        INK,
        Align::Left,
        &format!("{name} {}", words.per_day),
    );
    let summary = format!(
        "{}: {} · {} {}",
        words.total,
        report.show(metric, series.total),
        number::change(series.change, lang),
        words.against_previous_period
    );
    canvas.text(
        (MARGIN, top + 34.0),
        10.0,
        false,
        MUTED,
        Align::Left,
        &summary,
    );

    let (left, right) = (MARGIN + 70.0, PAGE_WIDTH - MARGIN);
    let (chart_top, bottom) = (top + 56.0, top + 290.0);
    let points = &series.data_points;
    if points.is_empty() {
        canvas.text(
            ((left + right) / 2.0, (chart_top + bottom) / 2.0),
            11.0,
            false,
            MUTED,
            Align::Center,
            words.no_data,
        );
        return;
    }

    let (low, high) = points.iter().fold((0.0_f64, 0.0_f64), |(lo, hi), p| {
        (lo.min(p.value), hi.max(p.value))
    });
    let step = domain::metrics::nice_step((high - low) / STEPS as f64);
    let floor = (low / step).floor() * step;
    let ceiling = ((high / step).ceil() * step).max(floor + step);
    let y_of = |value: f64| -> f32 {
        bottom - ((value - floor) / (ceiling - floor)) as f32 * (bottom - chart_top)
    };

    // The grid and its labels.
    let mut tick = floor;
    while tick <= ceiling + step / 2.0 {
        let y = y_of(tick);
        let color = if tick == 0.0 { MUTED } else { RULE };
        canvas.line((left, y), (right, y), 0.5, color);
        let label = axis_label(report, metric, tick, step);
        canvas.text(
            (left - 6.0, y + 3.0),
            8.0,
            false,
            MUTED,
            Align::Right,
            &label,
        );
        tick += step;
    }

    let count = points.len();
    let slot = (right - left) / count as f32;
    let x_of = |index: usize| left + slot * (index as f32 + 0.5);
    if count <= MAX_BARS {
        let width = (slot * 0.7).max(0.5);
        let zero = y_of(0.0_f64.clamp(floor, ceiling));
        for (i, point) in points.iter().enumerate() {
            let y = y_of(point.value);
            let (top, height) = if y < zero {
                (y, zero - y)
            } else {
                (zero, y - zero)
            };
            canvas.rect((x_of(i) - width / 2.0, top, width, height), ACCENT);
        }
    } else {
        let line: Vec<(f32, f32)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (x_of(i), y_of(p.value)))
            .collect();
        let base = y_of(0.0_f64.clamp(floor, ceiling));
        let mut area = Vec::with_capacity(line.len() + 2);
        area.push((x_of(0), base));
        area.extend_from_slice(&line);
        area.push((x_of(count - 1), base));
        canvas.shape(&area, ACCENT, 0.15);
        canvas.polyline(&line, 1.2, ACCENT);
    }

    // Dates under the axis: at most six, evenly spread, first and last included.
    for index in date_ticks(count, 6) {
        let date: NaiveDate = points[index].date;
        canvas.text(
            (x_of(index), bottom + 14.0),
            8.0,
            false,
            MUTED,
            Align::Center,
            &date.format("%Y-%m-%d").to_string(),
        );
    }
}

/// A grid label: as many decimals as the step needs, money with its symbol.
fn axis_label(report: &Report, metric: Metric, value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let lang = report.locale.lang;
    let text = number::fixed(value, decimals.min(4), lang);
    match metric {
        Metric::Revenue => {
            let currency = &report.locale.currency;
            format!("{}{}{text}", currency.symbol, currency.gap())
        }
        Metric::Conversion => format!("{text} %"),
        _ => text,
    }
}

/// `n` indices from 0 to `count - 1`, evenly spread, without repeats.
fn date_ticks(count: usize, n: usize) -> Vec<usize> {
    match count {
        0 => Vec::new(),
        1 => vec![0],
        _ => {
            let n = n.clamp(2, count);
            let mut ticks: Vec<usize> = (0..n).map(|i| i * (count - 1) / (n - 1)).collect();
            ticks.dedup();
            ticks
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_ticks_span_the_range() {
        assert_eq!(date_ticks(1, 6), vec![0]);
        assert_eq!(date_ticks(3, 6), vec![0, 1, 2]);
        assert_eq!(date_ticks(366, 6), vec![0, 73, 146, 219, 292, 365]);
    }

    #[test]
    fn axis_labels_are_local() {
        let report = crate::report::tests::sample_in(crate::report::Lang::Id);
        assert_eq!(
            axis_label(&report, Metric::Revenue, 500_000.0, 100_000.0),
            "Rp 500.000"
        );
        assert_eq!(axis_label(&report, Metric::Conversion, 2.5, 0.5), "2,5 %");
    }
}
