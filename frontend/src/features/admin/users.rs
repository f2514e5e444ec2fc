use std::rc::Rc;

use domain::{AuditLog, UserRole};
use yew::prelude::*;

use super::AdminNav;
use crate::api::admin::{self, AdminUser};
use crate::i18n::th;
use crate::i18n::{label, t, tf, Msg};
use crate::state::{use_app, use_session};
use crate::ui::column_titles;
use crate::ui::datetime_view;
use crate::ui::feedback::empty_view;
use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::event_value;
use crate::ui::hooks::{use_action, use_load, Errors, Remote};
use crate::ui::pager::pager_view;
use crate::ui::remote_view;

const PAGE_SIZE: u64 = 20;

/// `/admin/users`: search, roles, (de)activation, audit trail.
#[function_component(AdminUsers)]
pub fn admin_users() -> Html {
    let ctx = use_app();
    let me = use_session().user_id();
    let search = use_state(String::new);
    let query = use_state(|| (String::new(), 0u64));
    let audit_of = use_state(|| None::<AdminUser>);
    let saving = use_action(Errors::Notified);
    let loader = use_load((*query).clone(), |api, (search, page)| async move {
        admin::list_users(&api, &search, PAGE_SIZE, page * PAGE_SIZE).await
    });
    let on_search = {
        let (search, query) = (search.clone(), query.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            query.set(((*search).clone(), 0));
        })
    };
    let on_page = {
        let query = query.clone();
        Callback::from(move |page| query.set((query.0.clone(), page)))
    };
    let set_role = |user: &AdminUser| {
        let (ctx, saving, reload, id) =
            (ctx.clone(), saving.clone(), loader.reload.clone(), user.id);
        Callback::from(move |e: Event| {
            let Ok(role) = event_value(&e).parse::<UserRole>() else {
                return;
            };
            let (ctx, reload) = (ctx.clone(), reload.clone());
            saving.run_for(id, async move {
                let result = admin::set_role(&ctx.api, id, role).await;
                reload.emit(());
                result?;
                ctx.notify(tf(Msg::AdminRoleChanged, &[("role", label(role))]));
                Ok(())
            });
        })
    };
    let set_active = |user: &AdminUser| {
        let (ctx, saving, reload, id, active, email) = (
            ctx.clone(),
            saving.clone(),
            loader.reload.clone(),
            user.id,
            !user.is_active,
            user.email.clone(),
        );
        Callback::from(move |_| {
            if !active
                && !gloo::dialogs::confirm(&tf(Msg::AdminConfirmDeactivate, &[("email", &email)]))
            {
                return;
            }
            let (ctx, reload) = (ctx.clone(), reload.clone());
            saving.run_for(id, async move {
                let result = admin::set_active(&ctx.api, id, active).await;
                reload.emit(());
                result?;
                ctx.notify(if active {
                    t(Msg::AdminReactivated)
                } else {
                    t(Msg::AdminDeactivatedDone)
                });
                Ok(())
            });
        })
    };
    let show_audit = |user: &AdminUser| {
        let (audit_of, user) = (audit_of.clone(), user.clone());
        Callback::from(move |_| audit_of.set(Some(user.clone())))
    };
    let body = match &loader.state {
        Remote::Loading => loading_view(t(Msg::AdminLoadingUsers)),
        Remote::Failed(error) => error_view(error.clone(), Some(loader.reload.clone())),
        Remote::Ready(page) if page.rows.is_empty() => {
            empty_view(t(Msg::AdminNoUser), Html::default())
        }
        Remote::Ready(page) => html! {
            <>
                <div class="table-wrap"><table class="table">
                    <thead><tr>
                        { column_titles(&[t(Msg::AdminUser), t(Msg::AdminRole), t(Msg::CommonStatus), t(Msg::NavTasks), t(Msg::AdminLastSignIn), t(Msg::CommonActions)]) }
                    </tr></thead>
                    <tbody>{ for page.rows.iter().map(|u| {
                        let myself = Some(u.id) == me;
                        let role_id = format!("role-{}", u.id);
                        html! {
                            <tr key={u.id.to_string()}>
                                <td><strong>{ u.name.clone().unwrap_or_default() }</strong><br /><span class="muted">{ u.email.clone() }</span></td>
                                <td>
                                    <label class="visually-hidden" for={role_id.clone()}>{ tf(Msg::AdminRoleOf, &[("email", &u.email)]) }</label>
                                    <select id={role_id} onchange={set_role(u)} disabled={myself || saving.busy_for(u.id)}>
                                        { for UserRole::ALL.iter().map(|r| html! { <option value={r.as_str()} selected={*r == u.role}>{ label(r) }</option> }) }
                                    </select>
                                </td>
                                <td>{ if u.is_active { html! { <span class="online">{ th(Msg::CommonActive) }</span> } } else { html! { <span class="offline">{ th(Msg::AdminDeactivated) }</span> } } }</td>
                                <td>{ tf(Msg::AdminTaskCounts, &[("n", &u.task_count.to_string()), ("failed", &u.failed_task_count.to_string())]) }</td>
                                <td>{ u.last_login.as_ref().map(datetime_view).unwrap_or_else(|| html! { th(Msg::AdminNever) }) }</td>
                                <td class="actions">
                                    if !myself {
                                        <button type="button" class={classes!("button", if u.is_active { "danger" } else { "secondary" })}
                                            disabled={saving.busy_for(u.id)} onclick={set_active(u)}>
                                            { if u.is_active { th(Msg::AdminDeactivate) } else { th(Msg::AdminReactivate) } }
                                        </button>
                                    }
                                    <button type="button" class="button secondary" onclick={show_audit(u)}
                                        aria-label={tf(Msg::AdminAuditOf, &[("email", &u.email)])}>{ th(Msg::AdminAudit) }</button>
                                </td>
                            </tr>
                        }
                    }) }</tbody>
                </table></div>
                { pager_view(query.1, PAGE_SIZE, page.total, false, &on_page) }
            </>
        },
    };
    html! {
        <section class="page">
            <h1>{ th(Msg::TitleUsers) }</h1>
            <AdminNav />
            <form class="filters" onsubmit={on_search} role="search">
                <div class="field">
                    <label for="u-search">{ th(Msg::AdminSearch) }</label>
                    <div class="inline">
                        <input id="u-search" type="search" value={(*search).clone()}
                            oninput={{ let s = search.clone(); Callback::from(move |e: InputEvent| s.set(event_value(&e))) }} />
                        { crate::ui::submit("button secondary", t(Msg::CommonSearch), false) }
                    </div>
                </div>
            </form>
            { body }
            if let Some(user) = &*audit_of {
                <AuditTrail user={user.clone()} on_close={{ let a = audit_of.clone(); Callback::from(move |_| a.set(None)) }} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct AuditTrailProps {
    user: AdminUser,
    on_close: Callback<()>,
}

/// Describes an audit entry's change: `role: business_user → admin`.
pub(crate) fn describe_change(entry: &AuditLog) -> String {
    let (Some(old), Some(new)) = (
        entry.old_data.as_ref().and_then(|v| v.as_object()),
        entry.new_data.as_ref().and_then(|v| v.as_object()),
    ) else {
        return String::new();
    };
    new.iter()
        .map(|(key, value)| {
            let before = old
                .get(key)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".into());
            format!("{key}: {before} → {value}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[function_component(AuditTrail)]
fn audit_trail(props: &AuditTrailProps) -> Html {
    let loader = use_load(props.user.id, |api, id| async move {
        admin::audit_with_actors(&api, id, 50).await
    });
    let view = Callback::from(|trail: Rc<(Vec<AuditLog>, Vec<admin::Actor>)>| {
        let (rows, actors) = (&trail.0, &trail.1);
        if rows.is_empty() {
            return empty_view(t(Msg::AdminNothingRecorded), Html::default());
        }
        html! {
            <div class="table-wrap"><table class="table">
                <thead><tr>{ column_titles(&[t(Msg::AdminWhen), t(Msg::AdminAction), t(Msg::AdminChange), t(Msg::AdminBy), t(Msg::WizardFrom)]) }</tr></thead>
                <tbody>{ for rows.iter().map(|e| html! {
                    <tr key={e.id}>
                        <td>{ datetime_view(&e.created_at) }</td>
                        <td>{ format!("{} {}", e.action, e.table_name) }</td>
                        <td>{ describe_change(e) }</td>
                        <td>{ admin::actor_label(e.actor_id, actors) }</td>
                        <td>{ e.ip_address.clone().unwrap_or_default() }</td>
                    </tr>
                }) }</tbody>
            </table></div>
        }
    });
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <section class="card" aria-labelledby="audit-title">
            <div class="section-head">
                <h2 id="audit-title">{ tf(Msg::AdminAuditOf, &[("email", &props.user.email)]) }</h2>
                { crate::ui::button("button secondary", t(Msg::CommonClose), false, close) }
            </div>
            { remote_view(loader.state, view, loader.reload, t(Msg::CommonLoading)) }
        </section>
    }
}
