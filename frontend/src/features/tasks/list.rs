use std::rc::Rc;

use domain::{Task, TaskPriority, TaskStatus, TaskType};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::tasks::{self, TaskFilter, TaskSort};
use crate::api::Page;
use crate::i18n::th;
use crate::i18n::{label, t, tf, tn, Msg};
use crate::state::use_app;
use crate::ui::badge::priority_badge_view;
use crate::ui::badge::progress_cell_view;
use crate::ui::badge::status_badge_view;
use crate::ui::column_titles;
use crate::ui::feedback::empty_view;
use crate::ui::feedback::error_view;
use crate::ui::feedback::loading_view;
use crate::ui::field::event_value;
use crate::ui::format;
use crate::ui::hooks::use_effect_on;
use crate::ui::hooks::{use_action, use_load, Errors, Remote};
use crate::ui::pager::pager_view;
use crate::ui::route::Route;
use crate::ui::route_link;
use crate::ui::router::{self, use_location};
use crate::ui::time_view;

fn options<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    current: &str,
) -> Html {
    html! {
        <>
            <option value="" selected={current.is_empty()}>{ th(Msg::CommonAny) }</option>
            { for all.iter().map(|v| html! {
                <option value={value(*v)} selected={value(*v) == current}>{ label(*v) }</option>
            }) }
        </>
    }
}

/// The filters as they appear in the address (`/tasks?status=failed&q=report&page=2`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TaskQuery {
    status: Option<String>,
    task_type: Option<String>,
    priority: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    page: Option<u64>,
    who: Option<String>,
}

impl TaskQuery {
    /// The filters in a query string (`?status=failed&q=report&page=2`).
    pub(crate) fn from_query(query: &str) -> Self {
        let param = |name: &str| crate::api::query::param(query, name);
        TaskQuery {
            status: param("status"),
            task_type: param("type"),
            priority: param("priority"),
            q: param("q"),
            sort: param("sort"),
            page: param("page").and_then(|page| page.parse().ok()),
            who: param("who"),
        }
    }
}

/// The filter an address asks for (unknown values are ignored).
pub(crate) fn filter_from_query(query: &TaskQuery) -> TaskFilter {
    TaskFilter {
        status: query.status.as_deref().and_then(|s| s.parse().ok()),
        task_type: query.task_type.as_deref().and_then(|s| s.parse().ok()),
        priority: query.priority.as_deref().and_then(|s| s.parse().ok()),
        search: query.q.clone().unwrap_or_default(),
        sort: TaskSort::parse(query.sort.as_deref().unwrap_or_default()),
        page: query.page.unwrap_or(0),
        everyone: query.who.as_deref() == Some("all"),
        ..TaskFilter::default()
    }
}

/// The address's query for a filter (defaults left out).
pub(crate) fn query_pairs(filter: &TaskFilter) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if let Some(status) = filter.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    if let Some(task_type) = filter.task_type {
        pairs.push(("type", task_type.as_str().to_owned()));
    }
    if let Some(priority) = filter.priority {
        pairs.push(("priority", priority.as_str().to_owned()));
    }
    if !filter.search.trim().is_empty() {
        pairs.push(("q", filter.search.trim().to_owned()));
    }
    if filter.sort != TaskSort::default() {
        pairs.push(("sort", filter.sort.as_str().to_owned()));
    }
    if filter.everyone {
        pairs.push(("who", "all".to_owned()));
    }
    if filter.page > 0 {
        pairs.push(("page", filter.page.to_string()));
    }
    pairs
}

/// `/tasks` with the filter's query (`/tasks?status=failed&q=weekly%20report`).
pub(crate) fn tasks_address(filter: &TaskFilter) -> String {
    let mut address = String::from("/tasks");
    for (i, (key, value)) in query_pairs(filter).into_iter().enumerate() {
        address.push(if i == 0 { '?' } else { '&' });
        address.push_str(key);
        address.push('=');
        address.push_str(&crate::api::query::encode(&value));
    }
    address
}

/// The task list with filters, search, sort, paging and bulk cancel.
#[function_component(TaskList)]
pub fn task_list() -> Html {
    let ctx = use_app();
    let from_address = filter_from_query(&TaskQuery::from_query(&use_location().query));
    let filter = use_state(|| from_address.clone());
    let search = use_state(|| filter.search.clone());
    // The address changed under us (a link to /tasks, back/forward): follow it.
    {
        let (filter, search) = (filter.clone(), search.clone());
        use_effect_on(from_address, move |wanted| {
            if *wanted != *filter {
                search.set(wanted.search.clone());
                filter.set(wanted.clone());
            }
        });
    }
    // Keep the address in step, so a filtered list can be bookmarked and shared.
    use_effect_on((*filter).clone(), move |filter| {
        router::replace(&tasks_address(filter));
    });
    let is_admin = ctx.state.is_admin();
    let selected = use_state(Vec::<Uuid>::new);
    let cancelling = use_action(Errors::Notified);
    let loader = use_load((*filter).clone(), |api, filter| async move {
        tasks::list(&api, &filter).await
    });
    // The user's tasks change in place as the worker runs them; a new one shows on top.
    let feed = crate::ui::hooks::use_live_reload(
        ctx.state
            .session
            .as_ref()
            .map(|s| s.user.id)
            .map(|uid| match filter.everyone {
                true => crate::api::realtime::Binding::all("tasks"),
                false => crate::api::realtime::Binding::new("tasks", format!("user_id=eq.{uid}")),
            })
            .into_iter()
            .collect(),
        loader.reload.clone(),
        150,
        5000,
    );

    let update = |change: fn(&mut TaskFilter, String)| {
        let filter = filter.clone();
        let selected = selected.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filter).clone();
            change(&mut next, event_value(&e));
            next.page = 0;
            selected.set(Vec::new());
            filter.set(next);
        })
    };
    let on_search = {
        let (filter, search) = (filter.clone(), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut next = (*filter).clone();
            next.search = search.trim().to_owned();
            next.page = 0;
            filter.set(next);
        })
    };
    let on_search_input = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| search.set(event_value(&e)))
    };
    let on_page = {
        let filter = filter.clone();
        Callback::from(move |page| {
            let mut next = (*filter).clone();
            next.page = page;
            filter.set(next);
        })
    };
    let cancel_selected = {
        let (selected, cancelling, reload, ctx) = (
            selected.clone(),
            cancelling.clone(),
            loader.reload.clone(),
            ctx.clone(),
        );
        Callback::from(move |_| {
            let ids: Vec<Uuid> = selected.iter().copied().collect();
            if ids.is_empty() || cancelling.busy() {
                return;
            }
            let (selected, reload, ctx) = (selected.clone(), reload.clone(), ctx.clone());
            cancelling.run(async move {
                let mut failures = Vec::new();
                for id in &ids {
                    if let Err(error) = tasks::cancel(&ctx.api, *id).await {
                        failures.push(error);
                    }
                }
                selected.set(Vec::new());
                reload.emit(());
                match failures.first() {
                    None => {
                        ctx.notify(tn(Msg::TasksCancelledN, ids.len() as i64, &[]));
                        Ok(())
                    }
                    Some(first) => Err(crate::api::error::AppError::Invalid(tn(
                        Msg::TasksCancelFailedN,
                        ids.len() as i64,
                        &[
                            ("failed", &failures.len().to_string()),
                            ("first", &first.to_string()),
                        ],
                    ))),
                }
            });
        })
    };

    let body = match &loader.state {
        Remote::Loading => loading_view(t(Msg::TasksLoading)),
        Remote::Failed(error) => error_view(error.clone(), Some(loader.reload.clone())),
        Remote::Ready(page) => view_page(page, &filter, &selected, on_page),
    };
    html! {
        <section class="page">
            <header class="page-head">
                <h1>{ th(Msg::NavTasks) }</h1>
                { route_link(Route::NewTask, "button", t(Msg::TasksNew)) }
            </header>
            { crate::ui::hooks::paused_note_view(feed) }
            <form class="filters" onsubmit={on_search} role="search">
                <div class="field">
                    <label for="f-search">{ th(Msg::TasksTitleContains) }</label>
                    <div class="inline">
                        <input id="f-search" type="search" value={(*search).clone()} oninput={on_search_input} />
                        { crate::ui::submit("button secondary", t(Msg::CommonSearch), false) }
                    </div>
                </div>
                if is_admin {
                    <div class="field">
                        <label for="f-who">{ th(Msg::TasksWhose) }</label>
                        <select id="f-who" onchange={update(|f, v| f.everyone = v == "all")}>
                            <option value="" selected={!filter.everyone}>{ th(Msg::TasksMine) }</option>
                            <option value="all" selected={filter.everyone}>{ th(Msg::TasksEveryones) }</option>
                        </select>
                    </div>
                }
                <div class="field">
                    <label for="f-status">{ th(Msg::CommonStatus) }</label>
                    <select id="f-status" ~value={filter.status.map(TaskStatus::as_str).unwrap_or("")} onchange={update(|f, v| f.status = v.parse().ok())}>
                        { options(TaskStatus::ALL, TaskStatus::as_str, TaskStatus::label, filter.status.map(TaskStatus::as_str).unwrap_or("")) }
                    </select>
                </div>
                <div class="field">
                    <label for="f-type">{ th(Msg::CommonType) }</label>
                    <select id="f-type" ~value={filter.task_type.map(TaskType::as_str).unwrap_or("")} onchange={update(|f, v| f.task_type = v.parse().ok())}>
                        { options(TaskType::ALL, TaskType::as_str, TaskType::label, filter.task_type.map(TaskType::as_str).unwrap_or("")) }
                    </select>
                </div>
                <div class="field">
                    <label for="f-priority">{ th(Msg::CommonPriority) }</label>
                    <select id="f-priority" ~value={filter.priority.map(TaskPriority::as_str).unwrap_or("")} onchange={update(|f, v| f.priority = v.parse().ok())}>
                        { options(TaskPriority::ALL, TaskPriority::as_str, TaskPriority::label, filter.priority.map(TaskPriority::as_str).unwrap_or("")) }
                    </select>
                </div>
                <div class="field">
                    <label for="f-sort">{ th(Msg::CommonSort) }</label>
                    <select id="f-sort" ~value={filter.sort.as_str()} onchange={update(|f, v| f.sort = TaskSort::parse(&v))}>
                        { for TaskSort::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={*s == filter.sort}>{ s.label() }</option>
                        }) }
                    </select>
                </div>
            </form>
            <div class="bulk" aria-live="polite">
                <span>{ tf(Msg::TasksSelectedN, &[("n", &selected.len().to_string())]) }</span>
                <button type="button" class="button danger" disabled={selected.is_empty() || cancelling.busy()} onclick={cancel_selected}>
                    { if cancelling.busy() { th(Msg::TasksCancelling) } else { th(Msg::TasksCancelSelected) } }
                </button>
            </div>
            { body }
        </section>
    }
}

fn cancellable(task: &Task) -> bool {
    matches!(task.status, TaskStatus::Pending | TaskStatus::Running)
}

fn view_page(
    page: &Rc<Page<Task>>,
    filter: &UseStateHandle<TaskFilter>,
    selected: &UseStateHandle<Vec<Uuid>>,
    on_page: Callback<u64>,
) -> Html {
    if page.rows.is_empty() {
        let filtered = **filter
            != TaskFilter {
                page: filter.page,
                everyone: filter.everyone,
                ..TaskFilter::default()
            };
        return html! {
            { empty_view(if filtered { t(Msg::TasksNoMatch) } else { t(Msg::DashboardEmptyTitle) }, html! { <>
                if filtered {
                    <p>{ th(Msg::TasksChangeFilters) }</p>
                } else {
                    <p>{ th(Msg::TasksAppearHere) }</p>
                    { route_link(Route::NewTask, "button", t(Msg::TasksCreate)) }
                }
            </> }) }
        };
    }
    let toggle = |id: Uuid| {
        let selected = selected.clone();
        Callback::from(move |_| {
            // A list, not a set: a page holds a few dozen rows (and no set code in the wasm).
            let mut next = (*selected).clone();
            match next.iter().position(|x| *x == id) {
                Some(at) => {
                    next.remove(at);
                }
                None => next.push(id),
            }
            selected.set(next);
        })
    };
    html! {
        <>
            <div class="table-wrap">
                <table class="table">
                    <thead><tr>
                        <th scope="col"><span class="visually-hidden">{ th(Msg::CommonSelect) }</span></th>
                        { column_titles(&[t(Msg::CommonTitle), t(Msg::CommonType), t(Msg::CommonStatus), t(Msg::CommonPriority), t(Msg::CommonCreated)]) }
                    </tr></thead>
                    <tbody>
                        { for page.rows.iter().map(|task| html! {
                            <tr key={task.id.to_string()}>
                                <td>
                                    if cancellable(task) {
                                        <input type="checkbox" aria-label={tf(Msg::TasksSelectOne, &[("title", &task.title)])}
                                            checked={selected.contains(&task.id)} onchange={toggle(task.id)} />
                                    }
                                </td>
                                <td>{ route_link(Route::TaskDetail { id: task.id.to_string() }, "", task.title.clone()) }</td>
                                <td>{ label(task.task_type) }</td>
                                <td>{ status_badge_view(task.status) }{ progress_cell_view(task) }</td>
                                <td>{ priority_badge_view(task.priority) }</td>
                                <td title={format::datetime(&task.created_at)}>{ time_view(&task.created_at, format::ago(&task.created_at, format::now())) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            { pager_view(filter.page, filter.page_size, page.total, page.lower_bound, &on_page) }
        </>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn filters_round_trip_through_the_address() {
        let query =
            TaskQuery::from_query("?status=failed&type=http_request&q=ping&sort=priority&page=2");
        let filter = filter_from_query(&query);
        assert_eq!(filter.status, Some(TaskStatus::Failed));
        assert_eq!(filter.task_type, Some(TaskType::HttpRequest));
        assert_eq!(filter.search, "ping");
        assert_eq!(filter.sort, TaskSort::Priority);
        assert_eq!(filter.page, 2);
        let pairs = query_pairs(&filter);
        assert_eq!(pairs.len(), 5);
        let address = tasks_address(&filter);
        assert_eq!(
            address,
            "/tasks?status=failed&type=http_request&q=ping&sort=priority&page=2"
        );
        let (_, query) = address.split_once('?').expect("a query");
        assert_eq!(filter_from_query(&TaskQuery::from_query(query)), filter);
        let search = TaskFilter {
            search: "weekly report & more".into(),
            ..TaskFilter::default()
        };
        assert_eq!(
            tasks_address(&search),
            "/tasks?q=weekly%20report%20%26%20more"
        );
        assert_eq!(tasks_address(&TaskFilter::default()), "/tasks");
        assert_eq!(
            filter_from_query(&TaskQuery {
                status: Some("nope".into()),
                ..TaskQuery::default()
            })
            .status,
            None
        );
    }

    #[wasm_bindgen_test]
    fn query_values_are_form_decoded() {
        use crate::api::query::{form_decode, param};
        assert_eq!(
            param("?q=weekly+report%21&page=2", "q").as_deref(),
            Some("weekly report!")
        );
        assert_eq!(
            param("next=%2Ftasks%3Fstatus%3Dfailed", "next").as_deref(),
            Some("/tasks?status=failed")
        );
        assert_eq!(param("?a=1&a=2&flag", "a").as_deref(), Some("1"));
        assert_eq!(param("?flag", "flag").as_deref(), Some(""));
        assert_eq!(param("?a=1", "b"), None);
        assert_eq!(form_decode("caf%C3%A9%2"), "café%2");
        assert_eq!(TaskQuery::from_query("?page=x").page, None);
    }
}
