//! The details step's fields for the chosen task type: date range and metrics, export
//! dataset and format, the CSV to import ([`super::upload`]), the web call, the cleanup.

use domain::params::{CleanupParams, HttpRequestParams};
use domain::{ExportDataset, ExportFormat, HttpMethod, Metric, ReportFormat, TaskType};
use yew::prelude::*;

use super::upload::CsvUpload;
use super::Wizard;
use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::ui::field::event_checked;
use crate::ui::field::{SelectField, TextField};

/// The fields of `wizard.form`'s task type.
pub(crate) fn parameter_fields(wizard: &Wizard) -> Html {
    let (form, user_id) = (wizard.form, wizard.user_id);
    let err = |key: &str| wizard.err(key);
    let edit = |apply| wizard.edit(apply);
    let opts = |values: &[&'static str], labels: &[&'static str]| -> Vec<(AttrValue, AttrValue)> {
        values
            .iter()
            .zip(labels)
            .map(|(v, l)| (AttrValue::from(*v), AttrValue::from(*l)))
            .collect()
    };
    let range = html! {
        <div class="row">
            <TextField id="start" label={t(Msg::WizardFrom)} kind="date" value={form.start.clone()} oninput={edit(|f, v| f.start = v)} error={err("start")} />
            <TextField id="end" label={t(Msg::WizardTo)} kind="date" value={form.end.clone()} oninput={edit(|f, v| f.end = v)} error={err("end")} />
        </div>
    };
    match form.task_type {
        TaskType::AnalyticsReport => html! {
            <>
                { range }
                <fieldset class={classes!("field", err("metrics").map(|_| "has-error"))}>
                    <legend>{ th(Msg::WizardMetrics) }</legend>
                    { for Metric::ALL.iter().map(|m| {
                        let handle = form.clone();
                        let m = *m;
                        let onchange = Callback::from(move |e: Event| {
                            let mut next = (*handle).clone();
                            let on = event_checked(&e);
                            next.metrics = Metric::ALL.iter().copied()
                                .filter(|x| if *x == m { on } else { next.metrics.contains(x) })
                                .collect();
                            handle.set(next);
                        });
                        html! {
                            <label class="checkbox">
                                <input type="checkbox" checked={form.metrics.contains(&m)} {onchange} />{ label(m) }
                            </label>
                        }
                    }) }
                    if let Some(e) = err("metrics") { <p class="field-error">{ e }</p> }
                </fieldset>
                <SelectField id="format" label={t(Msg::WizardFileFormat)} value={form.report_format.clone()}
                    options={opts(ReportFormat::VALUES, &ReportFormat::ALL.iter().map(|f| label(*f)).collect::<Vec<_>>())}
                    onchange={edit(|f, v| f.report_format = v)} error={err("format")} />
            </>
        },
        TaskType::DataExport => {
            let toggle = {
                let form = form.clone();
                Callback::from(move |e: Event| {
                    let mut next = (*form).clone();
                    next.export_range = event_checked(&e);
                    form.set(next);
                })
            };
            html! {
                <>
                    <SelectField id="dataset" label={t(Msg::WizardWhatToExport)} value={form.dataset.clone()}
                        options={opts(ExportDataset::VALUES, &ExportDataset::ALL.iter().map(|f| label(*f)).collect::<Vec<_>>())}
                        onchange={edit(|f, v| f.dataset = v)} error={err("dataset")} />
                    <SelectField id="format" label={t(Msg::WizardFileFormat)} value={form.export_format.clone()}
                        options={opts(ExportFormat::VALUES, &ExportFormat::ALL.iter().map(|f| label(*f)).collect::<Vec<_>>())}
                        onchange={edit(|f, v| f.export_format = v)} error={err("format")} />
                    <label class="checkbox"><input type="checkbox" checked={form.export_range} onchange={toggle} />{ th(Msg::WizardOnlyRange) }</label>
                    if form.export_range { { range } }
                </>
            }
        }
        TaskType::DataImport => html! {
            <>
                <CsvUpload form={form.clone()} {user_id} />
                <TextField id="import_file" label={t(Msg::WizardImportFile)} value={form.import_file.clone()}
                    oninput={edit(|f, v| f.import_file = v)} error={err("import_file")}
                    hint={AttrValue::from(tf(Msg::WizardImportHint, &[("user", &user_id.to_string())]))} />
            </>
        },
        TaskType::HttpRequest => html! {
            <>
                <SelectField id="method" label={t(Msg::WizardMethod)} value={form.method.clone()}
                    options={opts(HttpMethod::VALUES, HttpMethod::VALUES)}
                    onchange={edit(|f, v| f.method = v)} error={err("method")} />
                <TextField id="url" label="URL" kind="url" value={form.url.clone()} oninput={edit(|f, v| f.url = v)}
                    error={err("url")} placeholder="https://example.com/hook" required=true />
                <TextField id="headers" label={t(Msg::WizardHeaders)} kind="textarea" value={form.headers.clone()}
                    oninput={edit(|f, v| f.headers = v)} error={err("headers")} hint={t(Msg::WizardHeadersHint)} />
                <TextField id="body" label={t(Msg::WizardBody)} kind="textarea" value={form.body.clone()}
                    oninput={edit(|f, v| f.body = v)} error={err("body")} hint={t(Msg::WizardBodyHint)} />
                <TextField id="timeoutSecs" label={t(Msg::WizardTimeout)} kind="number" value={form.timeout.clone()}
                    oninput={edit(|f, v| f.timeout = v)} error={err("timeoutSecs")} hint={range_hint(HttpRequestParams::MAX_TIMEOUT_SECS.into(), HttpRequestParams::DEFAULT_TIMEOUT_SECS.into())} />
            </>
        },
        TaskType::Cleanup => html! {
            <TextField id="retentionDays" label={t(Msg::WizardRetention)} kind="number" value={form.retention_days.clone()}
                oninput={edit(|f, v| f.retention_days = v)} error={err("retentionDays")} hint={range_hint(CleanupParams::MAX_RETENTION_DAYS.into(), CleanupParams::DEFAULT_RETENTION_DAYS.into())} />
        },
    }
}

/// `1 to {max}; {default} when empty.`
fn range_hint(max: u64, default: u64) -> String {
    tf(
        Msg::WizardRangeHint,
        &[("max", &max.to_string()), ("default", &default.to_string())],
    )
}
