//! Labelled form fields with their error message (linked by `aria-describedby`).

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The value of the input, select or textarea that fired `event`.
pub fn event_value(event: &Event) -> String {
    let Some(target) = event.target() else {
        return String::new();
    };
    if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
        return input.value();
    }
    if let Some(select) = target.dyn_ref::<HtmlSelectElement>() {
        return select.value();
    }
    if let Some(area) = target.dyn_ref::<HtmlTextAreaElement>() {
        return area.value();
    }
    String::new()
}

/// `checked` of the checkbox that fired `event`.
pub fn event_checked(event: &Event) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|input| input.checked())
}

/// The first file chosen in the file input that fired `event`, if any.
pub fn event_file(event: &Event) -> Option<web_sys::File> {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
}

/// Props of [`TextField`].
#[derive(Properties, PartialEq)]
pub struct TextFieldProps {
    /// The element id (and label `for`).
    pub id: AttrValue,
    /// The label.
    pub label: AttrValue,
    /// The value.
    pub value: AttrValue,
    /// New value on each keystroke.
    pub oninput: Callback<String>,
    /// `text`, `email`, `password`, `date`, `number`, `datetime-local`, `textarea`.
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    /// The error under the field.
    #[prop_or_default]
    pub error: Option<String>,
    /// Help under the field.
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// `autocomplete`.
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    /// `placeholder`.
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    /// `required`.
    #[prop_or_default]
    pub required: bool,
    /// `disabled`.
    #[prop_or_default]
    pub disabled: bool,
}

/// A labelled input (or textarea) with its error.
#[function_component(TextField)]
pub fn text_field(props: &TextFieldProps) -> Html {
    let error_id = format!("{}-error", props.id);
    let hint_id = format!("{}-hint", props.id);
    let described = match (&props.error, &props.hint) {
        (Some(_), _) => Some(error_id.clone()),
        (None, Some(_)) => Some(hint_id.clone()),
        _ => None,
    };
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| cb.emit(event_value(&e)))
    };
    let invalid = props.error.is_some().then_some("true");
    let control = if props.kind == "textarea" {
        html! {
            <textarea id={props.id.clone()} value={props.value.clone()} {oninput} rows="4"
                aria-invalid={invalid} aria-describedby={described}
                placeholder={props.placeholder.clone()} required={props.required} disabled={props.disabled} />
        }
    } else {
        html! {
            <input id={props.id.clone()} type={props.kind.clone()} value={props.value.clone()} {oninput}
                aria-invalid={invalid} aria-describedby={described}
                autocomplete={props.autocomplete.clone()} placeholder={props.placeholder.clone()}
                required={props.required} disabled={props.disabled} />
        }
    };
    html! {
        <div class={classes!("field", props.error.is_some().then_some("has-error"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            { control }
            if let Some(error) = &props.error {
                <p class="field-error" id={error_id}>{ error.clone() }</p>
            } else if let Some(hint) = &props.hint {
                <p class="field-hint" id={hint_id}>{ hint.clone() }</p>
            }
        </div>
    }
}

/// Props of [`SelectField`].
#[derive(Properties, PartialEq)]
pub struct SelectFieldProps {
    /// The element id.
    pub id: AttrValue,
    /// The label.
    pub label: AttrValue,
    /// The selected value.
    pub value: AttrValue,
    /// `(value, label)` pairs.
    pub options: Vec<(AttrValue, AttrValue)>,
    /// New value.
    pub onchange: Callback<String>,
    /// The error under the field.
    #[prop_or_default]
    pub error: Option<String>,
}

/// A labelled select box.
#[function_component(SelectField)]
pub fn select_field(props: &SelectFieldProps) -> Html {
    let onchange = {
        let cb = props.onchange.clone();
        Callback::from(move |e: Event| cb.emit(event_value(&e)))
    };
    let error_id = format!("{}-error", props.id);
    html! {
        <div class={classes!("field", props.error.is_some().then_some("has-error"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <select id={props.id.clone()} {onchange}
                aria-describedby={props.error.as_ref().map(|_| error_id.clone())}>
                { for props.options.iter().map(|(value, label)| html! {
                    <option value={value.clone()} selected={*value == props.value}>{ label.clone() }</option>
                }) }
            </select>
            if let Some(error) = &props.error {
                <p class="field-error" id={error_id}>{ error.clone() }</p>
            }
        </div>
    }
}

/// Props of [`CheckboxField`].
#[derive(Properties, PartialEq)]
pub struct CheckboxFieldProps {
    /// The element id.
    pub id: AttrValue,
    /// The label.
    pub label: AttrValue,
    /// Checked.
    pub checked: bool,
    /// New state.
    pub onchange: Callback<bool>,
}

/// A labelled checkbox.
#[function_component(CheckboxField)]
pub fn checkbox_field(props: &CheckboxFieldProps) -> Html {
    let onchange = {
        let cb = props.onchange.clone();
        Callback::from(move |e: Event| cb.emit(event_checked(&e)))
    };
    html! {
        <label class="checkbox" for={props.id.clone()}>
            <input type="checkbox" id={props.id.clone()} checked={props.checked} {onchange} />
            { props.label.clone() }
        </label>
    }
}
