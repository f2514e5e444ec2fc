-- Two-step verification enforced in the database (issue #9, items 1 and 4).
--
-- 1. A user who enrolled and verified a TOTP factor must use an `aal2` session: with a
--    password-only (`aal1`) JWT they read and write nothing, through PostgREST or Storage.
--    This is Supabase's "Enforce MFA for users who have opted in" (a RESTRICTIVE policy on
--    every table, comparing the JWT's `aal` claim with the caller's verified factors), plus
--    the same check at the top of every SECURITY DEFINER RPC (those bypass RLS), and in
--    is_admin(), so admin powers need `aal2` too. The setting `require_mfa_for_admins`
--    makes two-step verification compulsory for administrators, enrolled or not.
-- 2. Users may name their own user_id when they insert a task or a business event
--    (`insert({user_id: auth.uid(), …})`, what the official clients send): the existing
--    policies (`with check (user_id = (select auth.uid()))`) refuse anyone else's id.
--
-- The worker connects as a role with BYPASSRLS and calls none of these RPCs: nothing here
-- adds a trigger or a check to its writes.

-- ---------------------------------------------------------------------------------------
-- The setting
-- ---------------------------------------------------------------------------------------
insert into public.system_settings (key, value, description) values
  ('require_mfa_for_admins', 'false',
   'When true, administrators must sign in with two-step verification (an authenticator app): '
   'until they set one up and sign in with its code they can read and change nothing and have '
   'no admin powers. Anyone who has set up two-step verification always needs it, whatever this says.')
on conflict (key) do nothing;

-- ---------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------
-- Whether the caller's session is strong enough. True without a signed-in user (service
-- key, worker, anon: other rules decide for them), or with an `aal2` JWT; at `aal1` only
-- for a user who has no verified factor, unless that user is an administrator and
-- `require_mfa_for_admins` is on. Policies call it as `(select private.mfa_ok())`: once per
-- statement, and a single index lookup in auth.mfa_factors when the session is `aal1`.
create or replace function private.mfa_ok() returns boolean
language sql stable security definer set search_path = ''
as $$
  select case
    when (select auth.uid()) is null then true
    when (select auth.jwt()) ->> 'aal' = 'aal2' then true
    else not exists (
           select 1 from auth.mfa_factors f
            where f.user_id = (select auth.uid()) and f.status = 'verified')
         and not (
           coalesce((select s.value = 'true'::jsonb from public.system_settings s
                      where s.key = 'require_mfa_for_admins'), false)
           and exists (select 1 from public.profiles p
                        where p.id = (select auth.uid()) and p.role = 'admin'))
  end
$$;
comment on function private.mfa_ok() is
  'False when the caller must use two-step verification (a verified factor, or an admin under '
  'require_mfa_for_admins) and the JWT is not aal2.';

-- For the RPCs: refuse with 42501 (PostgREST: 403) and the stable code `mfa_required` in
-- `details`, so the SPA can send the user to the code prompt.
create or replace function private.require_mfa() returns void
language plpgsql stable security definer set search_path = ''
as $$
begin
  if private.mfa_ok() then
    return;
  end if;
  if exists (select 1 from auth.mfa_factors f where f.user_id = auth.uid() and f.status = 'verified') then
    raise exception 'Two-step verification required: enter the code from your authenticator app'
      using errcode = '42501', detail = 'mfa_required',
            hint = 'Sign in again and finish with the 6-digit code your app shows.';
  end if;
  raise exception 'Two-step verification required: administrators must set up an authenticator app'
    using errcode = '42501', detail = 'mfa_required',
          hint = 'Set one up under Settings, Security, then sign in again with its code.';
end
$$;

-- An active administrator whose session is not strong enough is not an administrator.
create or replace function public.is_admin() returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (
    select 1 from public.profiles p
    where p.id = (select auth.uid()) and p.role = 'admin' and p.is_active
  ) and private.mfa_ok()
$$;
comment on function public.is_admin() is
  'True when the caller is an active administrator whose session meets two-step verification.';

-- The admin RPCs start with this. An administrator refused only for want of two-step
-- verification is told so, rather than "Only administrators can do this"; anyone else
-- whose session is not strong enough gets require_mfa()'s refusal, and then the role check.
create or replace function private.require_admin() returns void
language plpgsql stable security definer set search_path = ''
as $$
begin
  if not private.mfa_ok() then
    if exists (select 1 from public.profiles p where p.id = auth.uid() and p.role = 'admin' and p.is_active) then
      raise exception 'Administrators must complete two-step verification to use admin functions'
        using errcode = '42501', detail = 'mfa_required',
              hint = case
                when exists (select 1 from auth.mfa_factors f where f.user_id = auth.uid() and f.status = 'verified')
                  then 'Sign in again and finish with the 6-digit code your app shows.'
                else 'Set up an authenticator app under Settings, Security, then sign in again with its code.'
              end;
    end if;
    perform private.require_mfa();
  end if;
  if not public.is_admin() then
    raise exception 'Only administrators can do this' using errcode = '42501';
  end if;
end
$$;

revoke all on function private.mfa_ok() from public, anon;
revoke all on function private.require_mfa() from public, anon, authenticated, service_role;
-- Policies run as the querying role: it must be able to call mfa_ok(). require_mfa() and
-- require_admin() are called from SECURITY DEFINER RPCs, as their owner.
grant execute on function private.mfa_ok() to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Restrictive policies: AND-ed with every permissive policy of the table, for every
-- command. `to authenticated`: anon is refused by grants already, the service key bypasses RLS.
-- ---------------------------------------------------------------------------------------
create policy "profiles: two-step verification" on public.profiles
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "tasks: two-step verification" on public.tasks
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "task_executions: two-step verification" on public.task_executions
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "execution_logs: two-step verification" on public.execution_logs
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "analytics_reports: two-step verification" on public.analytics_reports
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "business_events: two-step verification" on public.business_events
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "audit_logs: two-step verification" on public.audit_logs
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "workers: two-step verification" on public.workers
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "system_settings: two-step verification" on public.system_settings
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "objects: two-step verification" on storage.objects
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));
create policy "buckets: two-step verification" on storage.buckets
  as restrictive for all to authenticated
  using ((select private.mfa_ok())) with check ((select private.mfa_ok()));

-- ---------------------------------------------------------------------------------------
-- The SECURITY DEFINER RPCs bypass RLS: each checks first. The bodies are otherwise those
-- of 20250101000200 (cancel_task, retry_task) and 20250101000400 (my_sessions,
-- revoke_my_session). The admin_* RPCs already begin with private.require_admin(), which
-- now checks two-step verification first (above).
-- ---------------------------------------------------------------------------------------
create or replace function public.cancel_task(task_id uuid) returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  t public.tasks;
begin
  perform private.require_mfa();
  select * into t from public.tasks where id = cancel_task.task_id for update;
  if not found or (t.user_id is distinct from auth.uid() and not public.is_admin()) then
    raise exception 'Task not found' using errcode = 'PT404', hint = 'It may have been deleted, or it is not yours.';
  end if;
  if t.status not in ('pending', 'running') then
    raise exception 'Only a pending or running task can be cancelled; this one is %', t.status
      using errcode = 'P0001';
  end if;
  -- A running task keeps its lease: its worker sees the status at its next heartbeat,
  -- stops the handler and records the cancelled execution.
  update public.tasks
     set status = 'cancelled', completed_at = now(),
         error_message = 'Cancelled by ' || case when t.user_id = auth.uid() then 'you' else 'an administrator' end
   where id = t.id
   returning * into t;
  return t;
end
$$;

create or replace function public.retry_task(task_id uuid) returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  t public.tasks;
begin
  perform private.require_mfa();
  select * into t from public.tasks where id = retry_task.task_id for update;
  if not found or (t.user_id is distinct from auth.uid() and not public.is_admin()) then
    raise exception 'Task not found' using errcode = 'PT404', hint = 'It may have been deleted, or it is not yours.';
  end if;
  if auth.uid() is not null and not private.can_write() then
    raise exception 'Your account cannot change tasks (it is deactivated or read-only)' using errcode = '42501';
  end if;
  if t.status not in ('failed', 'cancelled') then
    raise exception 'Only a failed or cancelled task can be retried; this one is %', t.status
      using errcode = 'P0001';
  end if;
  if t.locked_by is not null and t.locked_until > now() then
    raise exception 'This task is still stopping; try again in a few seconds' using errcode = 'P0001';
  end if;
  update public.tasks
     set status = 'pending', progress = 0, attempts = 0, run_after = now(),
         error_message = null, result = null, started_at = null, completed_at = null,
         locked_by = null, locked_until = null
   where id = t.id
   returning * into t;
  return t;
end
$$;

create or replace function public.my_sessions()
returns table (
  id uuid,
  created_at timestamptz,
  updated_at timestamptz,
  refreshed_at timestamptz,
  user_agent text,
  ip text,
  aal text,
  is_current boolean
)
language sql stable security definer set search_path = ''
as $$
  select private.require_mfa();
  select s.id, s.created_at, s.updated_at, s.refreshed_at::timestamptz, s.user_agent,
         host(s.ip), s.aal::text,
         s.id::text = (auth.jwt() ->> 'session_id')
    from auth.sessions s
   where s.user_id = auth.uid()
     and (s.not_after is null or s.not_after > now())
   order by coalesce(s.refreshed_at::timestamptz, s.updated_at, s.created_at) desc
$$;

create or replace function public.revoke_my_session(session_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  perform private.require_mfa();
  if auth.uid() is null then
    raise exception 'Sign in first' using errcode = '42501';
  end if;
  delete from auth.sessions s where s.id = revoke_my_session.session_id and s.user_id = auth.uid();
  if not found then
    raise exception 'Session not found' using errcode = 'PT404',
      hint = 'It may have ended already.';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Item 4: a user may name their own user_id on insert. The column keeps its default
-- (auth.uid()), the insert policies still demand `user_id = (select auth.uid())`, and it
-- stays out of the UPDATE grants (a row never moves to another owner).
-- ---------------------------------------------------------------------------------------
grant insert (user_id) on public.tasks to authenticated;
grant insert (user_id) on public.business_events to authenticated;
