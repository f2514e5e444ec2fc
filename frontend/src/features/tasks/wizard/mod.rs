//! `/tasks/new`: type → parameters → schedule → review → create. Every step is checked
//! with `domain/`'s parsers, so the messages are the ones the database would give; the
//! form keeps its input whatever goes wrong. `?from=<task id>` prefills it (clone).
//!
//! - [`form`]: the form as typed, its checks and the task it builds (pure, tested);
//! - [`steps`]: the four steps' views; [`fields`]: the parameters of each task type;
//!   [`upload`]: the CSV upload of an import;
//! - here: the wizard component, which holds the state, and [`Wizard`], what the views read.

mod fields;
pub mod form;
mod steps;
mod upload;

pub use form::{FieldErrors, Step, WizardForm};

use chrono::Utc;
use uuid::Uuid;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::tasks;
use crate::i18n::th;
use crate::i18n::{t, tf, Msg};
use crate::state::{use_app, use_session};
use crate::ui::feedback::{error_view, loading_view};
use crate::ui::hooks::{use_action, use_effect_on, Errors};
use crate::ui::router::{self, use_location};
use form::{build, check_step};

/// The creation wizard.
#[function_component(NewTaskWizard)]
pub fn new_task_wizard() -> Html {
    let ctx = use_app();
    let session = use_session();
    let location = use_location();
    let today = crate::ui::format::today();
    let form = use_state(|| WizardForm::new(today));
    let step = use_state(|| Step::Type);
    let errors = use_state(FieldErrors::new);
    let creating = use_action(Errors::Kept);
    let user_id = session.user_id().unwrap_or_default();
    let is_admin = session.is_admin();
    let from =
        crate::api::query::param(&location.query, "from").and_then(|id| id.parse::<Uuid>().ok());
    let prefilling = use_state(|| from.is_some());

    // Clone: prefill from an existing task.
    {
        let (api, form, step, prefilling, creating) = (
            ctx.api.clone(),
            form.clone(),
            step.clone(),
            prefilling.clone(),
            creating.clone(),
        );
        use_effect_on(from, move |from| {
            if let Some(id) = *from {
                spawn_local(async move {
                    match tasks::get(&api, id).await {
                        Ok(task) => {
                            form.set(WizardForm::from_task(&task, crate::ui::format::today()));
                            step.set(Step::Details);
                        }
                        Err(e) => creating.fail(e),
                    }
                    prefilling.set(false);
                });
            }
        });
    }

    let go_next = {
        let (form, step, errors) = (form.clone(), step.clone(), errors.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let found = check_step(*step, &form, user_id, Utc::now());
            let ok = found.is_empty();
            errors.set(found);
            if ok {
                step.set(step.next());
            }
        })
    };
    let go_back = {
        let (step, errors) = (step.clone(), errors.clone());
        Callback::from(move |_| {
            errors.set(FieldErrors::new());
            step.set(step.previous());
        })
    };
    let create = {
        let (form, errors, creating, ctx) =
            (form.clone(), errors.clone(), creating.clone(), ctx.clone());
        Callback::from(move |_| {
            if creating.busy() {
                return;
            }
            let (task, attempts) = match build(&form, user_id, Utc::now()) {
                Ok(built) => built,
                Err(found) => {
                    errors.set(found);
                    return;
                }
            };
            let ctx = ctx.clone();
            creating.run(async move {
                let created = tasks::create(&ctx.api, &task, attempts).await?;
                ctx.notify(tf(Msg::WizardCreated, &[("title", &created.title)]));
                router::push(&format!("/tasks/{}", created.id));
                Ok(())
            });
        })
    };

    if *prefilling {
        return html! { <section class="page narrow">{ loading_view(t(Msg::WizardCopying)) }</section> };
    }
    let steps = html! {
        <ol class="steps">
            { for Step::ALL.iter().map(|s| html! {
                <li class={classes!((*s == *step).then_some("current"), (*s < *step).then_some("done"))}
                    aria-current={(*s == *step).then_some("step")}>{ s.label() }</li>
            }) }
        </ol>
    };
    let wizard = Wizard {
        form: &form,
        errors: &errors,
        step: *step,
        user_id,
        go_next: &go_next,
        go_back: &go_back,
    };
    let content = match *step {
        Step::Type => steps::type_step(&wizard, is_admin),
        Step::Details => steps::details_step(&wizard),
        Step::Schedule => steps::schedule_step(&wizard),
        Step::Review => steps::review_step(&wizard, create, &creating),
    };
    html! {
        <section class="page narrow">
            <h1>{ if from.is_some() { th(Msg::WizardCopy) } else { th(Msg::TasksNew) } }</h1>
            { steps }
            if *step != Step::Review {
                if let Some(e) = creating.error() { { error_view(e.clone(), None) } }
            }
            { content }
        </section>
    }
}

/// What every step's view reads: the form, its messages, the step and the navigation.
pub struct Wizard<'a> {
    form: &'a UseStateHandle<WizardForm>,
    errors: &'a UseStateHandle<FieldErrors>,
    step: Step,
    user_id: Uuid,
    go_next: &'a Callback<SubmitEvent>,
    go_back: &'a Callback<MouseEvent>,
}

impl Wizard<'_> {
    /// The message under the field `key`, if any.
    fn err(&self, key: &str) -> Option<String> {
        self.errors.get(key).cloned()
    }

    /// The input callback of a field: `apply` puts the text into the form.
    fn edit(&self, apply: fn(&mut WizardForm, String)) -> Callback<String> {
        let (form, errors, step, user_id) = (
            self.form.clone(),
            self.errors.clone(),
            self.step,
            self.user_id,
        );
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            follow_input(&errors, step, &next, user_id);
            form.set(next);
        })
    }

    /// Back (after the first step) and next.
    fn nav(&self, next_label: &'static str) -> Html {
        html! {
            <div class="wizard-nav">
                if self.step != Step::Type {
                    { crate::ui::button("button secondary", t(Msg::CommonBack), false, self.go_back.clone()) }
                }
                { crate::ui::submit("button", next_label, false) }
            </div>
        }
    }
}

/// Once a step's messages are showing, they follow the input: a field that is fixed loses
/// its message as it is typed (before the first "Next", nothing is shown).
fn follow_input(
    errors: &UseStateHandle<FieldErrors>,
    step: Step,
    form: &WizardForm,
    user_id: Uuid,
) {
    if !errors.is_empty() {
        errors.set(check_step(step, form, user_id, Utc::now()));
    }
}
