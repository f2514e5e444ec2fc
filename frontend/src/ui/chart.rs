//! SVG line and bar charts of our own: the geometry is pure functions (scales, ticks,
//! paths, bars), the components only draw what they compute.

use std::rc::Rc;

use domain::DataPoint;
use yew::prelude::*;

use crate::i18n::th;
use crate::i18n::Msg;
use crate::ui::format::compact;

/// A linear map from a domain of values to a range of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Domain start.
    pub d0: f64,
    /// Domain end.
    pub d1: f64,
    /// Range start (pixels).
    pub r0: f64,
    /// Range end (pixels).
    pub r1: f64,
}

impl Scale {
    /// Maps `value`; a degenerate domain maps everything to the middle of the range.
    pub fn map(&self, value: f64) -> f64 {
        if (self.d1 - self.d0).abs() < f64::EPSILON {
            (self.r0 + self.r1) / 2.0
        } else {
            self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
        }
    }
}

/// About `count` round tick values covering `[min, max]` (the axis starts at 0 for
/// non-negative data).
pub fn ticks(min: f64, max: f64, count: usize) -> Vec<f64> {
    let low = min.min(0.0);
    let high = if max <= low { low + 1.0 } else { max };
    let step = domain::metrics::nice_step((high - low) / count.max(1) as f64);
    let start = (low / step).floor() * step;
    let end = (high / step).ceil() * step;
    let n = ((end - start) / step).round() as usize;
    (0..=n).map(|i| start + step * i as f64).collect()
}

/// The drawing area of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// viewBox width.
    pub width: f64,
    /// viewBox height.
    pub height: f64,
    /// Space for the y labels.
    pub left: f64,
    /// Right margin.
    pub right: f64,
    /// Top margin.
    pub top: f64,
    /// Space for the x labels.
    pub bottom: f64,
}

impl Default for Frame {
    fn default() -> Self {
        Self {
            width: 640.0,
            height: 260.0,
            left: 52.0,
            right: 16.0,
            top: 12.0,
            bottom: 32.0,
        }
    }
}

impl Frame {
    /// The x scale of `n` evenly spaced points (the middle for one point).
    pub fn x_scale(&self, n: usize) -> Scale {
        Scale {
            d0: 0.0,
            d1: n.saturating_sub(1) as f64,
            r0: self.left,
            r1: self.width - self.right,
        }
    }

    /// The y scale of the ticks (first tick at the bottom).
    pub fn y_scale(&self, ticks: &[f64]) -> Scale {
        Scale {
            d0: ticks.first().copied().unwrap_or(0.0),
            d1: ticks.last().copied().unwrap_or(1.0),
            r0: self.height - self.bottom,
            r1: self.top,
        }
    }

    /// The width of one slot of `n` bars.
    pub fn slot(&self, n: usize) -> f64 {
        (self.width - self.left - self.right) / n.max(1) as f64
    }
}

/// Pixel positions of `values` as a line.
pub fn line_points(frame: &Frame, values: &[f64], ticks: &[f64]) -> Vec<(f64, f64)> {
    let x = frame.x_scale(values.len());
    let y = frame.y_scale(ticks);
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (round(x.map(i as f64)), round(y.map(*v))))
        .collect()
}

/// The SVG path `M x,y L x,y …` through `points`.
pub fn line_path(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{},{}", if i == 0 { "M" } else { "L" }, px(*x), px(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A bar: x, y, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// One bar per value, from the zero line (or the bottom) to the value.
pub fn bars(frame: &Frame, values: &[f64], ticks: &[f64]) -> Vec<Bar> {
    let y = frame.y_scale(ticks);
    let slot = frame.slot(values.len());
    let width = (slot * 0.7).max(1.0);
    let base = y.map(0.0_f64.max(ticks.first().copied().unwrap_or(0.0)));
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let top = y.map(*v);
            Bar {
                x: round(frame.left + slot * i as f64 + (slot - width) / 2.0),
                y: round(top.min(base)),
                width: round(width),
                height: round((base - top).abs()),
            }
        })
        .collect()
}

/// Which of `n` labels to show so that at most `max` appear, first and last included.
pub fn label_indices(n: usize, max: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    if n <= max || max < 2 {
        return (0..n).collect();
    }
    let step = (n - 1) as f64 / (max - 1) as f64;
    let mut indices: Vec<usize> = (0..max)
        .map(|i| (i as f64 * step).round() as usize)
        .collect();
    indices.dedup();
    indices
}

/// A coordinate as SVG reads it: `12`, `12.5` (no float formatting in the wasm).
fn px(value: f64) -> String {
    crate::ui::format::decimal(value, 1)
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Chart kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// A line with dots.
    Line,
    /// Bars.
    Bar,
}

/// Props of [`Chart`].
#[derive(Properties, PartialEq)]
pub struct ChartProps {
    /// What is drawn (for screen readers and the caption).
    pub title: AttrValue,
    /// The values by day.
    pub points: Rc<Vec<DataPoint>>,
    /// Line or bars.
    #[prop_or(ChartKind::Line)]
    pub kind: ChartKind,
    /// The metric drawn: tooltips show its values as its cards do (money, percent,
    /// counts); plain numbers when `None`.
    #[prop_or_default]
    pub metric: Option<domain::Metric>,
}

/// A line or bar chart with axes, grid and labels.
#[function_component(Chart)]
pub fn chart(props: &ChartProps) -> Html {
    chart_view(props)
}

/// The markup of [`Chart`] without the component (one component less in the wasm).
pub fn chart_view(props: &ChartProps) -> Html {
    let frame = Frame::default();
    let values: Vec<f64> = props.points.iter().map(|p| p.value).collect();
    if values.is_empty() {
        return html! { <p class="empty-inline">{ th(Msg::ChartNoData) }</p> };
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ticks = ticks(min, max, 4);
    let y = frame.y_scale(&ticks);
    let x = frame.x_scale(values.len());
    let labels = label_indices(values.len(), 6);
    let metric = props.metric;
    let tooltip = |point: &DataPoint| {
        let value = match metric {
            Some(metric) => crate::ui::metric_card::format_total(metric, point.value),
            None => crate::ui::format::number(point.value, 2),
        };
        format!("{}: {value}", crate::ui::format::month_day(point.date))
    };
    let grid = ticks.iter().map(|t| {
        let ty = round(y.map(*t));
        html! {
            <g class="tick">
                <line x1={px(frame.left)} x2={px(frame.width - frame.right)}
                      y1={px(ty)} y2={px(ty)} />
                <text x={px(frame.left - 6.0)} y={px(ty + 4.0)} text-anchor="end">
                    { compact(*t) }
                </text>
            </g>
        }
    });
    let slot = frame.slot(values.len());
    let x_labels = labels.iter().filter_map(|&i| {
        let point = props.points.get(i)?;
        let lx = match props.kind {
            ChartKind::Line => x.map(i as f64),
            ChartKind::Bar => frame.left + slot * (i as f64 + 0.5),
        };
        // The last point of a line sits on the right edge: its label ends there instead of
        // spilling out of the picture.
        let anchor = if matches!(props.kind, ChartKind::Line) && i + 1 == values.len() && i > 0 {
            "end"
        } else {
            "middle"
        };
        Some(html! {
            <text class="x-label" x={px(round(lx))} y={px(frame.height - 10.0)} text-anchor={anchor}>
                { crate::ui::format::month_day(point.date) }
            </text>
        })
    });
    let marks = match props.kind {
        ChartKind::Line => {
            let points = line_points(&frame, &values, &ticks);
            let dots = points
                .iter()
                .zip(props.points.iter())
                .map(|((cx, cy), point)| {
                    html! {
                        <circle class="dot" cx={px(*cx)} cy={px(*cy)} r="3">
                            <title>{ tooltip(point) }</title>
                        </circle>
                    }
                });
            html! {
                <>
                    <path class="line" d={line_path(&points)} />
                    { for dots }
                </>
            }
        }
        ChartKind::Bar => {
            let rects = bars(&frame, &values, &ticks);
            let rects = rects.iter().zip(props.points.iter()).map(|(bar, point)| {
                html! {
                    <rect class="bar" x={px(bar.x)} y={px(bar.y)}
                          width={px(bar.width)} height={px(bar.height)}>
                        <title>{ tooltip(point) }</title>
                    </rect>
                }
            });
            html! { <>{ for rects }</> }
        }
    };
    html! {
        <figure class="chart">
            <svg viewBox={format!("0 0 {} {}", px(frame.width), px(frame.height))} role="img"
                 aria-label={props.title.clone()} preserveAspectRatio="xMidYMid meet">
                <title>{ props.title.clone() }</title>
                <g class="grid">{ for grid }</g>
                <line class="axis" x1={px(frame.left)} x2={px(frame.left)}
                      y1={px(frame.top)} y2={px(frame.height - frame.bottom)} />
                <line class="axis" x1={px(frame.left)} x2={px(frame.width - frame.right)}
                      y1={px(frame.height - frame.bottom)} y2={px(frame.height - frame.bottom)} />
                { marks }
                <g class="x-labels">{ for x_labels }</g>
            </svg>
            <figcaption>{ props.title.clone() }</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn scale_maps_linearly_and_handles_flat_domains() {
        let scale = Scale {
            d0: 0.0,
            d1: 10.0,
            r0: 100.0,
            r1: 0.0,
        };
        assert_eq!(scale.map(0.0), 100.0);
        assert_eq!(scale.map(10.0), 0.0);
        assert_eq!(scale.map(2.5), 75.0);
        let flat = Scale {
            d0: 3.0,
            d1: 3.0,
            r0: 0.0,
            r1: 50.0,
        };
        assert_eq!(flat.map(3.0), 25.0);
    }

    #[wasm_bindgen_test]
    fn ticks_are_round_and_cover_the_data() {
        assert_eq!(
            ticks(3.0, 87.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(3.0, 87.0, 4), vec![0.0, 50.0, 100.0]);
        assert_eq!(ticks(0.0, 0.0, 4), vec![0.0, 0.5, 1.0]);
        let negative = ticks(-15.0, 30.0, 4);
        assert!(negative.first().copied().unwrap_or(0.0) <= -15.0);
        assert!(negative.last().copied().unwrap_or(0.0) >= 30.0);
    }

    #[wasm_bindgen_test]
    fn line_goes_left_to_right_bottom_up() {
        let frame = Frame::default();
        let points = line_points(&frame, &[0.0, 50.0, 100.0], &[0.0, 50.0, 100.0]);
        assert_eq!(points, vec![(52.0, 228.0), (338.0, 120.0), (624.0, 12.0)]);
        assert_eq!(line_path(&points), "M52,228 L338,120 L624,12");
        let single = line_points(&frame, &[5.0], &[0.0, 10.0]);
        assert_eq!(single, vec![(338.0, 120.0)]);
    }

    #[wasm_bindgen_test]
    fn bars_stand_on_zero() {
        let frame = Frame::default();
        let bars = bars(&frame, &[0.0, 100.0], &[0.0, 100.0]);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].height, 0.0);
        assert_eq!(bars[1].y, 12.0);
        assert_eq!(bars[1].height, 216.0);
        assert!(bars[0].x + bars[0].width < bars[1].x);
    }

    #[wasm_bindgen_test]
    fn labels_are_thinned_out() {
        assert_eq!(label_indices(3, 6), vec![0, 1, 2]);
        assert_eq!(label_indices(31, 6), vec![0, 6, 12, 18, 24, 30]);
        assert!(label_indices(0, 6).is_empty());
    }

    fn series(n: u32) -> Rc<Vec<DataPoint>> {
        Rc::new(
            (0..n)
                .map(|i| DataPoint {
                    date: NaiveDate::from_ymd_opt(2024, 1, 1 + i).expect("date"),
                    value: f64::from(i * 10),
                })
                .collect(),
        )
    }

    async fn render(kind: ChartKind, n: u32) -> web_sys::Element {
        let document = gloo::utils::document();
        let root = document.create_element("div").expect("div");
        document
            .body()
            .expect("body")
            .append_child(&root)
            .expect("append");
        yew::Renderer::<Chart>::with_root_and_props(
            root.clone(),
            ChartProps {
                title: "Revenue".into(),
                points: series(n),
                kind,
                metric: None,
            },
        )
        .render();
        gloo::timers::future::TimeoutFuture::new(50).await;
        root
    }

    #[wasm_bindgen_test]
    async fn line_chart_renders_one_dot_per_point() {
        let root = render(ChartKind::Line, 7).await;
        let dots = root.query_selector_all("svg circle.dot").expect("query");
        assert_eq!(dots.length(), 7);
        let path = root
            .query_selector("svg path.line")
            .expect("query")
            .expect("path");
        assert_eq!(path.get_attribute("d").expect("d").matches('L').count(), 6);
        assert_eq!(
            root.query_selector("svg")
                .expect("query")
                .expect("svg")
                .get_attribute("aria-label")
                .as_deref(),
            Some("Revenue")
        );
    }

    #[wasm_bindgen_test]
    async fn bar_chart_renders_one_bar_per_point() {
        let root = render(ChartKind::Bar, 5).await;
        assert_eq!(
            root.query_selector_all("svg rect.bar")
                .expect("query")
                .length(),
            5
        );
        assert!(
            root.query_selector_all("svg .x-label")
                .expect("query")
                .length()
                >= 2
        );
    }
}
