-- ---------------------------------------------------------------------------------------
-- Lists that use an index under RLS (issue #11, item 3).
--
-- Supabase's RLS performance guidance: policies say who may see a row, the query says which
-- rows the page shows. The SPA now asks for `user_id=eq.<me>` on every "my …" list, so the
-- planner can walk one user's slice of an index in the page's order and stop after the page;
-- the policies (`user_id = (select auth.uid()) or (select public.is_admin())`) stay as they
-- were and only filter the rows already found. Without the filter, `(user_id = $0) OR $1`
-- matches no index and every page read every user's rows.
--
-- Each list has the index of its order, with the row id as the tie-breaker in the same
-- direction, so one index serves newest-first (backward) and oldest-first (forward):
--   tasks of one user ............ (user_id, created_at, id)
--   every task (the admin's view)  (created_at, id)
--   recent failures (admin) ...... (completed_at) where status = 'failed'
--   reports of one user .......... (user_id, created_at, id)
-- Executions (task_id, attempt) and log lines (task_id, id) have theirs already.
--
-- None of these holds `status` in its key, so the worker's status changes (claim, finish)
-- write no more index entries than before, except the failed one's entry in its partial
-- index and one entry in (created_at, id).
-- ---------------------------------------------------------------------------------------

drop index public.tasks_user_id_created_idx;
create index tasks_user_created_idx on public.tasks (user_id, created_at, id);
create index tasks_created_idx on public.tasks (created_at, id);
create index tasks_failed_idx on public.tasks (completed_at) where status = 'failed';

drop index public.analytics_reports_user_created_idx;
create index analytics_reports_user_created_idx on public.analytics_reports (user_id, created_at, id);

-- The attempts and log lines of a task are readable through the task. The policies asked
-- `task_id in (select id from tasks where user_id = me)`, which PostgreSQL answers with a
-- hashed list of all the user's task ids, built on every query: its cost grew with the
-- user's whole history, not with the task on screen (an `exists` gets the same hashed plan).
-- A scalar subquery is never hashed: each row looks up its one task by primary key, so a
-- page of 500 log lines costs 500 probes whatever the user's history. The admin test comes
-- first, so an admin's rows skip the lookup. Same rows allowed, same rows denied (a task the
-- user cannot see gives null, which is not their id).
drop policy "task_executions: read own tasks'" on public.task_executions;
create policy "task_executions: read own tasks'" on public.task_executions
  for select to authenticated using (
    (select public.is_admin())
    or (select t.user_id from public.tasks t where t.id = task_id) = (select auth.uid())
  );
drop policy "execution_logs: read own tasks'" on public.execution_logs;
create policy "execution_logs: read own tasks'" on public.execution_logs
  for select to authenticated using (
    (select public.is_admin())
    or (select t.user_id from public.tasks t where t.id = task_id) = (select auth.uid())
  );

-- The admin's user list counted every listed user's tasks before paging (the window count
-- and the per-user counts ran for all matching profiles). It now pages the profiles first and
-- counts tasks for the page's users only, each through (user_id, created_at, id).
create or replace function public.admin_list_users(
  search text default null,
  result_limit integer default 50,
  result_offset integer default 0
) returns table (
  id uuid,
  email text,
  name text,
  role text,
  is_active boolean,
  avatar_url text,
  last_login timestamptz,
  created_at timestamptz,
  task_count bigint,
  failed_task_count bigint,
  total_count bigint
)
language plpgsql stable security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_admin();
  return query
    with matching as (
      select p.*
        from public.profiles p
       where search is null or search = ''
          or p.email ilike '%' || search || '%'
          or p.name ilike '%' || search || '%'
    ), page as (
      select m.*, count(*) over () as total
        from matching m
       order by m.created_at, m.id
       limit least(greatest(coalesce(result_limit, 50), 1), 500)
      offset greatest(coalesce(result_offset, 0), 0)
    )
    select pg.id, pg.email, pg.name, pg.role, pg.is_active, pg.avatar_url, pg.last_login, pg.created_at,
           (select count(*) from public.tasks t where t.user_id = pg.id),
           (select count(*) from public.tasks t where t.user_id = pg.id and t.status = 'failed'),
           pg.total
      from page pg
     order by pg.created_at, pg.id;
end
$$;
