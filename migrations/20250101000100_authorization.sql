-- Authorization: RLS on every table, explicit grants, and the helpers policies use.
--
-- Supabase's default privileges grant everything on new tables to anon and authenticated.
-- We revoke all of it and grant back exactly what each role needs; RLS then filters rows.
-- Anonymous visitors get nothing: the landing page needs no data.

-- ---------------------------------------------------------------------------------------
-- Helpers. SECURITY DEFINER with an empty search_path: they read profiles without going
-- through profiles' own policies (which is what avoids "infinite recursion detected in
-- policy").
-- ---------------------------------------------------------------------------------------
create or replace function public.is_admin() returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.profiles p
    where p.id = (select auth.uid()) and p.role = 'admin' and p.is_active
  )
$$;
comment on function public.is_admin() is 'True when the caller is an active administrator.';

-- Whether the caller may create or change work: an active account that is not a guest
-- (guests only read). Deactivated accounts keep a valid JWT until it expires; this is what
-- stops them in the meantime.
create or replace function private.can_write() returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.profiles p
    where p.id = (select auth.uid()) and p.is_active and p.role in ('admin', 'business_user')
  )
$$;

revoke all on function public.is_admin() from public, anon;
revoke all on function private.can_write() from public, anon;
grant execute on function public.is_admin() to authenticated, service_role;
grant execute on function private.can_write() to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Grants: start from nothing.
-- ---------------------------------------------------------------------------------------
revoke all on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;

-- The service key (and the worker's direct connection as postgres) keep full access.
grant all on all tables in schema public to service_role;
grant all on all sequences in schema public to service_role;
-- The audit trail is append-only, even for the service key (triggers write it).
revoke update, delete, truncate on public.audit_logs from service_role;

-- profiles: read (RLS: own row, or all for admins); update only the personal columns.
-- role and is_active change only through the admin functions.
grant select on public.profiles to authenticated;
grant update (name, avatar_url, preferences) on public.profiles to authenticated;

-- tasks: users create and edit only what a user decides; status, progress, results and the
-- worker's bookkeeping are written by the worker (and by cancel_task / retry_task).
grant select, delete on public.tasks to authenticated;
grant insert (title, description, type, parameters, priority, scheduled_at, max_attempts, recurrence)
  on public.tasks to authenticated;
grant update (title, description, parameters, priority, scheduled_at, max_attempts, recurrence)
  on public.tasks to authenticated;

-- Execution state: read-only for users.
grant select on public.task_executions to authenticated;
grant select on public.execution_logs to authenticated;
grant select, delete on public.analytics_reports to authenticated;
grant select on public.audit_logs to authenticated;

-- business_events: a user's own data, which they may add to and correct.
grant select, delete on public.business_events to authenticated;
grant insert (event_type, amount, occurred_at, metadata) on public.business_events to authenticated;
grant update (event_type, amount, occurred_at, metadata) on public.business_events to authenticated;

-- workers: admins watch them (RLS); only workers write.
grant select on public.workers to authenticated;

-- system_settings: everyone signed in reads (RLS), admins write (RLS).
grant select, insert, update, delete on public.system_settings to authenticated;

-- ---------------------------------------------------------------------------------------
-- Row level security, on every table.
-- ---------------------------------------------------------------------------------------
alter table public.profiles enable row level security;
alter table public.tasks enable row level security;
alter table public.task_executions enable row level security;
alter table public.execution_logs enable row level security;
alter table public.analytics_reports enable row level security;
alter table public.business_events enable row level security;
alter table public.audit_logs enable row level security;
alter table public.workers enable row level security;
alter table public.system_settings enable row level security;

-- profiles
create policy "profiles: read own" on public.profiles
  for select to authenticated using (id = (select auth.uid()));
create policy "profiles: admins read all" on public.profiles
  for select to authenticated using ((select public.is_admin()));
create policy "profiles: update own" on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

-- tasks
create policy "tasks: read own" on public.tasks
  for select to authenticated using (user_id = (select auth.uid()));
create policy "tasks: admins read all" on public.tasks
  for select to authenticated using ((select public.is_admin()));
create policy "tasks: create own" on public.tasks
  for insert to authenticated
  with check (user_id = (select auth.uid()) and (select private.can_write()));
create policy "tasks: edit own pending" on public.tasks
  for update to authenticated
  using (user_id = (select auth.uid()) and status = 'pending' and (select private.can_write()))
  with check (user_id = (select auth.uid()) and status = 'pending' and (select private.can_write()));
create policy "tasks: delete own unless running" on public.tasks
  for delete to authenticated
  using (user_id = (select auth.uid()) and status <> 'running');
create policy "tasks: admins delete unless running" on public.tasks
  for delete to authenticated
  using ((select public.is_admin()) and status <> 'running');

-- task_executions / execution_logs: through the owning task
create policy "task_executions: read own tasks'" on public.task_executions
  for select to authenticated using (
    task_id in (select t.id from public.tasks t where t.user_id = (select auth.uid()))
    or (select public.is_admin())
  );
create policy "execution_logs: read own tasks'" on public.execution_logs
  for select to authenticated using (
    task_id in (select t.id from public.tasks t where t.user_id = (select auth.uid()))
    or (select public.is_admin())
  );

-- analytics_reports
create policy "analytics_reports: read own" on public.analytics_reports
  for select to authenticated using (user_id = (select auth.uid()) or (select public.is_admin()));
create policy "analytics_reports: delete own" on public.analytics_reports
  for delete to authenticated using (user_id = (select auth.uid()));

-- business_events
create policy "business_events: read own" on public.business_events
  for select to authenticated using (user_id = (select auth.uid()) or (select public.is_admin()));
create policy "business_events: add own" on public.business_events
  for insert to authenticated
  with check (user_id = (select auth.uid()) and (select private.can_write()));
create policy "business_events: edit own" on public.business_events
  for update to authenticated
  using (user_id = (select auth.uid()) and (select private.can_write()))
  with check (user_id = (select auth.uid()) and (select private.can_write()));
create policy "business_events: delete own" on public.business_events
  for delete to authenticated using (user_id = (select auth.uid()) and (select private.can_write()));

-- audit_logs: own trail (as actor or as subject), admins all; no insert/update/delete policy
create policy "audit_logs: read own" on public.audit_logs
  for select to authenticated
  using (actor_id = (select auth.uid()) or subject_user_id = (select auth.uid()));
create policy "audit_logs: admins read all" on public.audit_logs
  for select to authenticated using ((select public.is_admin()));

-- workers
create policy "workers: admins read" on public.workers
  for select to authenticated using ((select public.is_admin()));

-- system_settings
create policy "system_settings: signed-in users read" on public.system_settings
  for select to authenticated using (true);
create policy "system_settings: admins insert" on public.system_settings
  for insert to authenticated with check ((select public.is_admin()));
create policy "system_settings: admins update" on public.system_settings
  for update to authenticated using ((select public.is_admin())) with check ((select public.is_admin()));
create policy "system_settings: admins delete" on public.system_settings
  for delete to authenticated using ((select public.is_admin()));
