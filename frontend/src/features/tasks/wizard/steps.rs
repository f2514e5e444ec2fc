//! The four steps' views: the type, the details (title, description and the type's
//! parameters, in [`super::fields`]), the schedule, and the review with the create button.

use domain::{TaskPriority, TaskType};
use yew::prelude::*;

use super::fields;
use super::form::{parameters, CRON_EXAMPLES};
use super::Wizard;
use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::ui::feedback::error_view;
use crate::ui::field::{SelectField, TextField};
use crate::ui::hooks::ActionHandle;
use crate::ui::term;

/// Choose the task type (the cleanup only for administrators).
pub(crate) fn type_step(wizard: &Wizard, is_admin: bool) -> Html {
    let (form, go_next) = (wizard.form, wizard.go_next);
    let nav = |label| wizard.nav(label);
    let types: Vec<TaskType> = TaskType::ALL
        .iter()
        .copied()
        .filter(|kind| *kind != TaskType::Cleanup || is_admin)
        .collect();
    let describe = |kind: TaskType| match kind {
        TaskType::AnalyticsReport => t(Msg::WizardDescribeReport),
        TaskType::DataExport => t(Msg::WizardDescribeExport),
        TaskType::DataImport => t(Msg::WizardDescribeImport),
        TaskType::HttpRequest => t(Msg::WizardDescribeHttp),
        TaskType::Cleanup => t(Msg::WizardDescribeCleanup),
    };
    html! {
        <form onsubmit={go_next.clone()}>
            <fieldset class="type-choices">
                <legend>{ th(Msg::WizardWhat) }</legend>
                { for types.iter().map(|kind| {
                    let handle = form.clone();
                    let kind = *kind;
                    let onchange = Callback::from(move |_| {
                        let mut next = (*handle).clone();
                        next.task_type = kind;
                        handle.set(next);
                    });
                    html! {
                        <label class={classes!("choice", (form.task_type == kind).then_some("selected"))}>
                            <input type="radio" name="task-type" value={kind.as_str()} checked={form.task_type == kind} {onchange} />
                            <strong>{ label(kind) }</strong>
                            <span class="muted">{ describe(kind) }</span>
                        </label>
                    }
                }) }
            </fieldset>
            { nav(t(Msg::PagerNext)) }
        </form>
    }
}

/// Title, description and the type's parameters.
pub(crate) fn details_step(wizard: &Wizard) -> Html {
    let (form, go_next) = (wizard.form, wizard.go_next);
    let (err, edit, nav) = (
        |key| wizard.err(key),
        |apply| wizard.edit(apply),
        |label| wizard.nav(label),
    );
    html! {
        <form onsubmit={go_next.clone()} novalidate=true>
            <TextField id="title" label={t(Msg::CommonTitle)} value={form.title.clone()} oninput={edit(|f, v| f.title = v)}
                error={err("title")} required=true />
            <TextField id="description" label={t(Msg::WizardDescription)} kind="textarea" value={form.description.clone()}
                oninput={edit(|f, v| f.description = v)} error={err("description")} />
            { fields::parameter_fields(wizard) }
            if let Some(general) = err("general") { <p class="alert error" role="alert">{ general }</p> }
            { nav(t(Msg::PagerNext)) }
        </form>
    }
}

/// When, how often, how urgent, how many attempts.
pub(crate) fn schedule_step(wizard: &Wizard) -> Html {
    let (form, go_next) = (wizard.form, wizard.go_next);
    let (err, edit, nav) = (
        |key| wizard.err(key),
        |apply| wizard.edit(apply),
        |label| wizard.nav(label),
    );
    html! {
        <form onsubmit={go_next.clone()} novalidate=true>
            <TextField id="run_at" label={t(Msg::WizardRunAt)} kind="datetime-local" value={form.run_at.clone()}
                oninput={edit(|f, v| f.run_at = v)} error={err("run_at")}
                hint={tf(Msg::WizardRunAtHint, &[("zone", &crate::ui::format::zone_name())])} />
            <TextField id="recurrence" label={t(Msg::WizardRepeat)} value={form.recurrence.clone()}
                oninput={edit(|f, v| f.recurrence = v)} error={err("recurrence")} placeholder="0 6 * * 1"
                hint={tf(Msg::WizardRepeatHint, &[("zone", &crate::ui::format::zone_name())])} />
            <div class="examples" aria-label={t(Msg::WizardExamples)}>
                { for CRON_EXAMPLES.iter().map(|(expr, text)| {
                    let form = form.clone();
                    let expr = *expr;
                    let onclick = Callback::from(move |_| {
                        let mut next = (*form).clone();
                        next.recurrence = expr.to_owned();
                        form.set(next);
                    });
                    html! { <button type="button" class="chip" {onclick}><code>{ expr }</code>{ " — " }{ t(*text) }</button> }
                }) }
            </div>
            <SelectField id="priority" label={t(Msg::CommonPriority)} value={form.priority.as_str()}
                options={TaskPriority::ALL.iter().map(|p| (AttrValue::from(p.as_str()), AttrValue::from(label(p)))).collect::<Vec<_>>()}
                onchange={edit(|f, v| f.priority = v.parse().unwrap_or_default())} />
            <TextField id="max_attempts" label={t(Msg::WizardMaxAttempts)} kind="number" value={form.max_attempts.clone()}
                oninput={edit(|f, v| f.max_attempts = v)} error={err("max_attempts")} hint={t(Msg::WizardMaxAttemptsHint)} />
            { nav(t(Msg::WizardToReview)) }
        </form>
    }
}

/// Everything at a glance, every remaining message, and the create button.
pub(crate) fn review_step(wizard: &Wizard, create: Callback<()>, creating: &ActionHandle) -> Html {
    let (form, errors, go_back, user_id) =
        (wizard.form, wizard.errors, wizard.go_back, wizard.user_id);
    let params = parameters(form, user_id)
        .map(|p| serde_json::to_string_pretty(&p.to_json()).unwrap_or_default())
        .unwrap_or_default();
    html! {
        <form onsubmit={Callback::from(move |e: SubmitEvent| { e.prevent_default(); create.emit(()); })}>
            <dl class="review">
                { term(t(Msg::CommonType), html! { { label(form.task_type) } }) }
                { term(t(Msg::CommonTitle), html! { { form.title.trim() } }) }
                if !form.description.trim().is_empty() { { term(t(Msg::TaskDescription), html! { { form.description.trim() } }) } }
                { term(t(Msg::TaskParameters), html! { <pre>{ params }</pre> }) }
                { term(t(Msg::WizardRuns), html! { { match super::form::parse_local_datetime(&form.run_at) { None => t(Msg::WizardAsap).to_owned(), Some(at) => crate::ui::format::datetime(&at) } } }) }
                { term(t(Msg::TaskRepeats), html! { { if form.recurrence.trim().is_empty() { t(Msg::CommonNo).to_owned() } else { form.recurrence.trim().to_owned() } } }) }
                { term(t(Msg::CommonPriority), html! { { label(form.priority) } }) }
                { term(t(Msg::TaskAttempts), html! { { form.max_attempts.clone() } }) }
            </dl>
            if !errors.is_empty() {
                <div class="alert error" role="alert">
                    <p>{ th(Msg::WizardAttention) }</p>
                    <ul>{ for errors.values().map(|m| html! { <li>{ m.clone() }</li> }) }</ul>
                </div>
            }
            if let Some(e) = creating.error() { { error_view(e.clone(), None) } }
            <div class="wizard-nav">
                { crate::ui::button("button secondary", t(Msg::CommonBack), false, go_back.clone()) }
                { crate::ui::submit("button", if creating.busy() { th(Msg::WizardCreating) } else { th(Msg::WizardCreate) }, creating.busy()) }
            </div>
        </form>
    }
}
