//! The CSV upload of the import parameters: the file goes to the user's folder of the
//! `imports` bucket, its name into the form.

use crate::i18n::th;
use crate::i18n::{tf, Msg};
use uuid::Uuid;
use yew::prelude::*;

use super::form::{field_error, WizardForm};
use crate::api::error::AppError;
use crate::state::use_app;
use crate::ui::field::event_file;
use crate::ui::hooks::{use_action, Errors};

#[derive(Properties, PartialEq)]
pub(crate) struct CsvUploadProps {
    pub(crate) form: UseStateHandle<WizardForm>,
    pub(crate) user_id: Uuid,
}

/// Uploads a CSV file to `imports/<user id>/<file name>` and puts its name in the form.
#[function_component(CsvUpload)]
pub(crate) fn csv_upload(props: &CsvUploadProps) -> Html {
    let ctx = use_app();
    // The upload's answer stays on show during the next upload: the action only says
    // whether one is under way.
    let status = use_state(|| None::<Result<String, AppError>>);
    let uploading = use_action(Errors::Kept);
    let onchange = {
        let (ctx, status, uploading, form, user_id) = (
            ctx.clone(),
            status.clone(),
            uploading.clone(),
            props.form.clone(),
            props.user_id,
        );
        Callback::from(move |e: Event| {
            let Some(file) = event_file(&e) else {
                return;
            };
            let name: String = file
                .name()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Err(error) = domain::DataImportParams::for_user(user_id, &name) {
                let (_, message) = field_error(&error);
                status.set(Some(Err(AppError::Invalid(message))));
                return;
            }
            let (ctx, status, form) = (ctx.clone(), status.clone(), form.clone());
            uploading.run(async move {
                let path = format!("{user_id}/{name}");
                match crate::api::storage::upload(&ctx.api, "imports", &path, &file, true).await {
                    Ok(()) => {
                        let mut next = (*form).clone();
                        next.import_file = name.clone();
                        form.set(next);
                        status.set(Some(Ok(tf(Msg::UploadDone, &[("name", &name)]))));
                    }
                    Err(e) => status.set(Some(Err(e))),
                }
                Ok(())
            });
        })
    };
    html! {
        <div class="field">
            <label for="csv-file">{ th(Msg::UploadLabel) }</label>
            <input id="csv-file" type="file" accept=".csv,text/csv" {onchange} disabled={uploading.busy()} />
            { match &*status {
                Some(Ok(text)) => html! { <p class="field-hint" role="status">{ text.clone() }</p> },
                Some(Err(e)) => html! { <p class="field-error" role="alert">{ e.to_string() }</p> },
                None if uploading.busy() => html! { <p class="field-hint">{ th(Msg::UploadUploading) }</p> },
                None => html! {},
            } }
        </div>
    }
}
