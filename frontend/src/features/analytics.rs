//! `/analytics` (charts over a date range) and `/analytics/reports` (generated files).

use std::rc::Rc;

use domain::{
    AnalyticsReport, AnalyticsReportParams, AnalyticsResult, DateRange, Metric, NewTask,
    TaskParameters, TaskTitle,
};
use yew::prelude::*;

use crate::api::error::AppError;
use crate::api::{analytics, reports, tasks};
use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::state::use_app;
use crate::ui::chart::{chart_view, ChartProps};
use crate::ui::column_titles;
use crate::ui::datetime_view;
use crate::ui::feedback::empty_view;
use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::event_value;
use crate::ui::format;
use crate::ui::hooks::{use_action, use_load, Errors, Remote};
use crate::ui::metric_card::metric_series_view;
use crate::ui::pager::pager_view;
use crate::ui::remote_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router;
use crate::ui::{ChartKind, DownloadLink};

/// Preset ranges offered next to the date pickers.
pub const PRESETS: [(u32, Msg); 4] = [
    (7, Msg::AnalyticsDays7),
    (30, Msg::AnalyticsDays30),
    (90, Msg::AnalyticsDays90),
    (365, Msg::AnalyticsMonths12),
];

/// The range typed in the two date fields, checked by the domain's rules.
pub fn parse_range(start: &str, end: &str) -> Result<DateRange, String> {
    let parse = |text: &str, which: Msg| {
        crate::api::time::parse_date(text.trim()).ok_or_else(|| t(which).to_owned())
    };
    DateRange::new(
        parse(start, Msg::AnalyticsBadStart)?,
        parse(end, Msg::AnalyticsBadEnd)?,
    )
    .map_err(|e| match e.field() {
        Some("dateRange.start") => t(Msg::AnalyticsStartAfterEnd).to_owned(),
        _ => tf(
            Msg::AnalyticsTooLong,
            &[("days", &DateRange::MAX_DAYS.to_string())],
        ),
    })
}

/// The analytics page: date range, metric choice, line and bar charts, totals.
#[function_component(Analytics)]
pub fn analytics_page() -> Html {
    let today = format::today();
    let initial = DateRange::last_days(today, 30);
    let start = use_state(|| initial.start.to_string());
    let end = use_state(|| initial.end.to_string());
    let range = use_state(|| initial);
    let range_error = use_state(Option::<String>::default);
    let metric = use_state(|| Metric::Revenue);
    let kind = use_state(|| ChartKind::Line);
    let loader = use_load(*range, |api, range| async move {
        analytics::metrics(&api, range, Metric::ALL).await
    });

    let apply = {
        let (start, end, range, range_error) = (
            start.clone(),
            end.clone(),
            range.clone(),
            range_error.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match parse_range(&start, &end) {
                Ok(r) => {
                    range_error.set(None);
                    range.set(r);
                }
                Err(message) => range_error.set(Some(message)),
            }
        })
    };
    let preset = |days: u32| {
        let (start, end, range, range_error) = (
            start.clone(),
            end.clone(),
            range.clone(),
            range_error.clone(),
        );
        Callback::from(move |_| {
            let r = DateRange::last_days(format::today(), days);
            start.set(r.start.to_string());
            end.set(r.end.to_string());
            range_error.set(None);
            range.set(r);
        })
    };
    let set_text = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(event_value(&e)))
    };
    let on_metric = {
        let metric = metric.clone();
        Callback::from(move |e: Event| {
            metric.set(event_value(&e).parse().unwrap_or(Metric::Revenue))
        })
    };
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| {
            kind.set(if event_value(&e) == "bar" {
                ChartKind::Bar
            } else {
                ChartKind::Line
            })
        })
    };
    let chosen = *metric;
    let chart_kind = *kind;
    let view = Callback::from(move |result: Rc<AnalyticsResult>| {
        let Some(series) = result.series(chosen) else {
            return empty_view(t(Msg::AnalyticsNoData), Html::default());
        };
        let points = Rc::new(series.data_points.clone());
        html! {
            <>
                <div class="cards">
                    { for Metric::ALL.iter().filter_map(|m| result.series(*m).map(|s| html! {
                        { metric_series_view(*m, s) }
                    })) }
                </div>
                <h2>{ tf(Msg::AnalyticsPerDay, &[("metric", label(chosen))]) }</h2>
                { chart_view(&ChartProps {
                    title: tf(Msg::AnalyticsPerDay, &[("metric", label(chosen))]).into(),
                    points,
                    kind: chart_kind,
                    metric: Some(chosen),
                }) }
            </>
        }
    });
    html! {
        <section class="page">
            <header class="page-head">
                <h1>{ th(Msg::NavAnalytics) }</h1>
                { route_link(Route::Reports, "button secondary", t(Msg::AnalyticsGenerated)) }
            </header>
            <form class="card filters" onsubmit={apply}>
                <div class="field">
                    <label for="a-start">{ th(Msg::WizardFrom) }</label>
                    <input id="a-start" type="date" value={(*start).clone()} oninput={set_text(&start)} />
                </div>
                <div class="field">
                    <label for="a-end">{ th(Msg::WizardTo) }</label>
                    <input id="a-end" type="date" value={(*end).clone()} oninput={set_text(&end)} />
                </div>
                <div class="field">
                    <label for="a-metric">{ th(Msg::AnalyticsMetric) }</label>
                    <select id="a-metric" onchange={on_metric}>
                        { for Metric::ALL.iter().map(|m| html! { <option value={m.as_str()} selected={*m == *metric}>{ label(m) }</option> }) }
                    </select>
                </div>
                <div class="field">
                    <label for="a-kind">{ th(Msg::AnalyticsChart) }</label>
                    <select id="a-kind" onchange={on_kind}>
                        <option value="line" selected={*kind == ChartKind::Line}>{ th(Msg::AnalyticsLine) }</option>
                        <option value="bar" selected={*kind == ChartKind::Bar}>{ th(Msg::AnalyticsBars) }</option>
                    </select>
                </div>
                <div class="field">{ crate::ui::submit("button", t(Msg::TaskShow), false) }</div>
            </form>
            <div class="examples" aria-label={t(Msg::AnalyticsQuick)}>
                { for PRESETS.iter().map(|(days, label)| html! {
                    <button type="button" class="chip" onclick={preset(*days)}>{ tf(Msg::AnalyticsLast, &[("range", t(*label))]) }</button>
                }) }
            </div>
            if let Some(message) = &*range_error { <p class="alert error" role="alert">{ message.clone() }</p> }
            { remote_view(loader.state, view, loader.reload, t(Msg::AnalyticsComputing)) }
        </section>
    }
}

/// A new analytics report task with the same parameters as `report`.
pub fn regenerate_task(report: &AnalyticsReport) -> Result<NewTask, AppError> {
    let params = AnalyticsReportParams {
        date_range: DateRange::new(report.date_range_start, report.date_range_end)?,
        metrics: report.metrics.clone(),
        format: report.format,
    };
    params.validate()?;
    let title = TaskTitle::parse(&report.title)?;
    Ok(NewTask::new(title, TaskParameters::AnalyticsReport(params)))
}

/// The generated reports.
#[function_component(Reports)]
pub fn reports_page() -> Html {
    let ctx = use_app();
    let page = use_state(u64::default);
    let again_action = use_action(Errors::Notified);
    let loader = use_load(*page, |api, page| async move {
        reports::list(&api, page, 20).await
    });
    // A report appears when its task finishes.
    let feed = crate::ui::hooks::use_live_reload(
        ctx.state
            .session
            .as_ref()
            .map(|s| s.user.id)
            .map(|uid| {
                crate::api::realtime::Binding::new("analytics_reports", format!("user_id=eq.{uid}"))
            })
            .into_iter()
            .collect(),
        loader.reload.clone(),
        150,
        5000,
    );
    let again = |report: &AnalyticsReport| {
        let (ctx, again_action) = (ctx.clone(), again_action.clone());
        let report = report.clone();
        Callback::from(move |_| {
            let task = match regenerate_task(&report) {
                Ok(task) => task,
                Err(e) => return again_action.fail(e),
            };
            let ctx = ctx.clone();
            again_action.run_for(report.id, async move {
                let created = tasks::create(&ctx.api, &task, 3).await?;
                ctx.notify(t(Msg::ReportsGenerating));
                router::push(&format!("/tasks/{}", created.id));
                Ok(())
            });
        })
    };
    let on_page = {
        let page = page.clone();
        Callback::from(move |p| page.set(p))
    };
    let body = match &loader.state {
        Remote::Loading => loading_view(t(Msg::ReportsLoading)),
        Remote::Failed(error) => error_view(error.clone(), Some(loader.reload.clone())),
        Remote::Ready(result) if result.rows.is_empty() => html! {
            { empty_view(t(Msg::ReportsEmpty), html! { <>
                <p>{ th(Msg::ReportsEmptyText) }</p>
                { route_link(Route::NewTask, "button", t(Msg::ReportsCreate)) }
            </> }) }
        },
        Remote::Ready(result) => html! {
            <>
                <div class="table-wrap"><table class="table">
                    <thead><tr>
                        { column_titles(&[t(Msg::CommonTitle), t(Msg::ReportsFormat), t(Msg::ReportsPeriod), t(Msg::ReportsSize), t(Msg::CommonCreated), t(Msg::CommonActions)]) }
                    </tr></thead>
                    <tbody>{ for result.rows.iter().map(|r| html! {
                        <tr key={r.id.to_string()}>
                            <td>
                                if let Some(task_id) = r.task_id {
                                    { route_link(Route::TaskDetail { id: task_id.to_string() }, "", r.title.clone()) }
                                } else { { r.title.clone() } }
                            </td>
                            <td>{ label(r.format) }</td>
                            <td>{ format!("{} → {}", format::date(r.date_range_start), format::date(r.date_range_end)) }</td>
                            <td>{ format::human_size(r.size_bytes) }</td>
                            <td>{ datetime_view(&r.created_at) }</td>
                            <td class="actions">
                                if let Some(path) = r.storage_path.clone() {
                                    <DownloadLink bucket="reports" {path} label={t(Msg::CommonDownload)} class="button secondary"
                                        name={format!("{}.{}", r.title, r.format.extension())}
                                        aria_label={tf(Msg::ReportsDownloadOne, &[("title", &r.title)])} />
                                } else {
                                    <button type="button" class="button secondary" disabled=true
                                        aria-label={tf(Msg::ReportsDownloadOne, &[("title", &r.title)])}>{ th(Msg::CommonDownload) }</button>
                                }
                                <button type="button" class="button secondary" disabled={again_action.busy_for(r.id)}
                                    onclick={again(r)} aria-label={tf(Msg::ReportsAgainOne, &[("title", &r.title)])}>{ th(Msg::ReportsAgain) }</button>
                            </td>
                        </tr>
                    }) }</tbody>
                </table></div>
                { pager_view(*page, 20, result.total, false, &on_page) }
            </>
        },
    };
    html! {
        <section class="page">
            <header class="page-head">
                <h1>{ th(Msg::NavReports) }</h1>
                { route_link(Route::Analytics, "button secondary", t(Msg::ReportsBack)) }
            </header>
            { crate::ui::hooks::paused_note_view(feed) }
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn range_fields_are_checked() {
        assert!(parse_range("2024-01-01", "2024-01-31").is_ok());
        assert_eq!(
            parse_range("2024-02-01", "2024-01-31"),
            Err("The start date must not be after the end date.".into())
        );
        assert_eq!(
            parse_range("yesterday", "2024-01-31"),
            Err("The start date must be a date (YYYY-MM-DD).".into())
        );
        assert!(parse_range("2022-01-01", "2024-01-31").is_err());
    }

    #[wasm_bindgen_test]
    fn generate_again_keeps_the_parameters() {
        let report: AnalyticsReport = serde_json::from_value(json!({
            "id": "7d6f1c2e-8f0a-4b1e-9c3d-2a5b6c7d8e9f", "task_id": null,
            "user_id": "22222222-2222-4222-8222-222222222222", "title": "Q1", "format": "csv",
            "date_range_start": "2024-01-01", "date_range_end": "2024-03-31",
            "metrics": ["revenue", "orders"], "created_at": "2024-04-01T06:00:00Z"
        }))
        .expect("report");
        let task = regenerate_task(&report).expect("valid");
        assert_eq!(
            task.parameters.to_json(),
            json!({"dateRange": {"start": "2024-01-01", "end": "2024-03-31"}, "metrics": ["revenue", "orders"], "format": "csv"})
        );
        assert_eq!(task.title.as_str(), "Q1");
    }
}
