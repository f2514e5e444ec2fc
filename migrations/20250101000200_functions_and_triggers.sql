-- Functions and triggers: profiles from auth.users, task guards and parameter validation,
-- the worker's wake-up notification, audit trail, and the RPC functions the SPA calls.

-- ---------------------------------------------------------------------------------------
-- updated_at
-- ---------------------------------------------------------------------------------------
create or replace function private.set_updated_at() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create trigger profiles_set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();
create trigger tasks_set_updated_at before update on public.tasks
  for each row execute function private.set_updated_at();
create trigger system_settings_set_updated_at before update on public.system_settings
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------
-- profiles follow auth.users
-- ---------------------------------------------------------------------------------------
create or replace function private.handle_new_user() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_role text := coalesce(new.raw_app_meta_data ->> 'role', 'business_user');
  v_name text := nullif(btrim(coalesce(new.raw_user_meta_data ->> 'name',
                                       new.raw_user_meta_data ->> 'full_name', '')), '');
begin
  -- The role comes from app_metadata, which only the service key can write; never from
  -- user_metadata, which the person signing up chooses.
  if v_role not in ('admin', 'business_user', 'guest') then
    v_role := 'business_user';
  end if;
  insert into public.profiles (id, email, name, role, avatar_url)
  values (new.id, coalesce(new.email, ''), left(v_name, 100), v_role,
          new.raw_user_meta_data ->> 'avatar_url');
  return new;
end
$$;

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

create or replace function private.handle_user_updated() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update public.profiles p
     set email = coalesce(new.email, p.email),
         last_login = coalesce(new.last_sign_in_at, p.last_login)
   where p.id = new.id
     and (p.email is distinct from new.email or p.last_login is distinct from new.last_sign_in_at);
  return new;
end
$$;

create trigger on_auth_user_updated after update of email, last_sign_in_at on auth.users
  for each row execute function private.handle_user_updated();

-- ---------------------------------------------------------------------------------------
-- Task parameters, validated per type. The messages are the ones `domain/` gives, so a
-- user sees the same words whether the SPA or the database caught the mistake.
-- Returns NULL when the parameters are valid, else the message.
-- ---------------------------------------------------------------------------------------
create or replace function private.task_parameters_error(p_type text, p jsonb) returns text
language plpgsql immutable set search_path = ''
as $$
declare
  k text;
  v jsonb;
  allowed text[];
  d_start date;
  d_end date;
  m text;
  seen text[] := '{}';
  url text;
  n numeric;
begin
  if p is null or jsonb_typeof(p) <> 'object' then
    return 'parameters must be an object';
  end if;

  allowed := case p_type
    when 'analytics_report' then array['dateRange', 'metrics', 'format']
    when 'http_request' then array['method', 'url', 'headers', 'body', 'timeoutSecs']
    when 'data_export' then array['dataset', 'format', 'dateRange']
    when 'data_import' then array['path']
    when 'cleanup' then array['retentionDays']
    else null end;
  if allowed is null then
    return format('type must be one of analytics_report, data_export, data_import, http_request, cleanup');
  end if;
  for k in select jsonb_object_keys(p) loop
    if not (k = any (allowed)) then
      return format('unknown field "%s"', k);
    end if;
  end loop;

  -- dateRange (required for reports, optional for exports)
  if p_type = 'analytics_report' or p ? 'dateRange' then
    v := p -> 'dateRange';
    if v is null or jsonb_typeof(v) = 'null' then
      return 'dateRange is required';
    end if;
    if jsonb_typeof(v) <> 'object' then
      return 'dateRange must be an object with a start and an end date';
    end if;
    for k in select jsonb_object_keys(v) loop
      if k not in ('start', 'end') then
        return format('unknown field "dateRange.%s"', k);
      end if;
    end loop;
    if jsonb_typeof(v -> 'start') is null or jsonb_typeof(v -> 'start') = 'null' then
      return 'dateRange.start is required';
    end if;
    if jsonb_typeof(v -> 'end') is null or jsonb_typeof(v -> 'end') = 'null' then
      return 'dateRange.end is required';
    end if;
    begin
      if jsonb_typeof(v -> 'start') <> 'string' or (v ->> 'start') !~ '^\d{4}-\d{2}-\d{2}$' then
        return 'dateRange.start must be a date (YYYY-MM-DD)';
      end if;
      d_start := (v ->> 'start')::date;
    exception when others then
      return 'dateRange.start must be a date (YYYY-MM-DD)';
    end;
    begin
      if jsonb_typeof(v -> 'end') <> 'string' or (v ->> 'end') !~ '^\d{4}-\d{2}-\d{2}$' then
        return 'dateRange.end must be a date (YYYY-MM-DD)';
      end if;
      d_end := (v ->> 'end')::date;
    exception when others then
      return 'dateRange.end must be a date (YYYY-MM-DD)';
    end;
    if d_start > d_end then
      return 'dateRange.start must not be after dateRange.end';
    end if;
    if d_end - d_start > 365 then
      return 'dateRange may span at most 366 days';
    end if;
  end if;

  if p_type = 'analytics_report' then
    v := p -> 'metrics';
    if v is null or jsonb_typeof(v) = 'null' then
      return 'metrics must list at least one metric';
    end if;
    if jsonb_typeof(v) <> 'array' then
      return 'metrics must be a list, like ["revenue", "users"]';
    end if;
    if jsonb_array_length(v) = 0 then
      return 'metrics must list at least one metric';
    end if;
    for v in select jsonb_array_elements(p -> 'metrics') loop
      if jsonb_typeof(v) <> 'string'
         or not ((v #>> '{}') = any (array['revenue', 'users', 'conversion', 'orders', 'visits'])) then
        return format('metrics has an unknown metric %s: expected one of revenue, users, conversion, orders, visits',
                      v::text);
      end if;
      m := v #>> '{}';
      if m = any (seen) then
        return format('metrics lists "%s" twice', m);
      end if;
      seen := seen || m;
    end loop;
    if jsonb_typeof(p -> 'format') is distinct from 'string'
       or not ((p ->> 'format') = any (array['json', 'csv', 'xlsx', 'pdf'])) then
      return 'format must be one of json, csv, xlsx, pdf';
    end if;

  elsif p_type = 'http_request' then
    if jsonb_typeof(p -> 'method') is distinct from 'string'
       or not ((p ->> 'method') = any (array['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'])) then
      return 'method must be one of GET, POST, PUT, PATCH, DELETE, HEAD';
    end if;
    url := p ->> 'url';
    if jsonb_typeof(p -> 'url') is null or jsonb_typeof(p -> 'url') = 'null'
       or (jsonb_typeof(p -> 'url') = 'string' and btrim(url) = '') then
      return 'url is required';
    end if;
    if jsonb_typeof(p -> 'url') = 'string' and char_length(url) > 2048 then
      return 'url must be at most 2048 characters';
    end if;
    if jsonb_typeof(p -> 'url') <> 'string'
       or url !~* '^https?://[^/?#\s:@]+(:\d{1,5})?([/?#]\S*)?$' then
      return 'url must be an absolute http:// or https:// URL';
    end if;
    if p ? 'headers' and jsonb_typeof(p -> 'headers') <> 'null' then
      if jsonb_typeof(p -> 'headers') <> 'object' then
        return 'headers must be an object of header names and values';
      end if;
      for k, v in select * from jsonb_each(p -> 'headers') loop
        if k !~ '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$' then
          return format('headers has an invalid header name "%s"', k);
        end if;
        if jsonb_typeof(v) <> 'string' or replace(v #>> '{}', E'\t', '') ~ '[[:cntrl:]]' then
          return format('headers.%s must be a single line of text', k);
        end if;
      end loop;
    end if;
    if p ? 'body' and jsonb_typeof(p -> 'body') <> 'null' and (p ->> 'method') in ('GET', 'HEAD') then
      return 'body is not allowed with GET or HEAD';
    end if;
    if p ? 'timeoutSecs' and jsonb_typeof(p -> 'timeoutSecs') <> 'null' then
      if jsonb_typeof(p -> 'timeoutSecs') <> 'number' then
        return 'timeoutSecs must be between 1 and 60';
      end if;
      n := (p ->> 'timeoutSecs')::numeric;
      if n <> trunc(n) or n < 1 or n > 60 then
        return 'timeoutSecs must be between 1 and 60';
      end if;
    end if;

  elsif p_type = 'data_export' then
    if jsonb_typeof(p -> 'dataset') is distinct from 'string'
       or not ((p ->> 'dataset') = any (array['tasks', 'events'])) then
      return 'dataset must be one of tasks, events';
    end if;
    if jsonb_typeof(p -> 'format') is distinct from 'string'
       or not ((p ->> 'format') = any (array['csv', 'json'])) then
      return 'format must be one of csv, json';
    end if;

  elsif p_type = 'data_import' then
    url := p ->> 'path';
    if jsonb_typeof(p -> 'path') is null or jsonb_typeof(p -> 'path') = 'null' then
      return 'path is required';
    end if;
    if jsonb_typeof(p -> 'path') <> 'string'
       or char_length(url) > 512
       or url !~* '\.csv$'
       or url ~ '(^/|//|(^|/)\.\.?(/|$))' then
      return 'path must be a .csv file in the imports bucket, like <your user id>/events.csv';
    end if;

  elsif p_type = 'cleanup' then
    if p ? 'retentionDays' and jsonb_typeof(p -> 'retentionDays') <> 'null' then
      if jsonb_typeof(p -> 'retentionDays') <> 'number' then
        return 'retentionDays must be between 1 and 3650';
      end if;
      n := (p ->> 'retentionDays')::numeric;
      if n <> trunc(n) or n < 1 or n > 3650 then
        return 'retentionDays must be between 1 and 3650';
      end if;
    end if;
  end if;

  return null;
end
$$;

-- Cron expression shape (the worker parses it for real): 5 or 6 fields of cron characters.
create or replace function private.recurrence_error(p text) returns text
language sql immutable set search_path = ''
as $$
  select case
    when p is null then null
    when char_length(p) > 100
      or array_length(regexp_split_to_array(btrim(p), '\s+'), 1) not between 5 and 6
      or btrim(p) !~ '^[0-9A-Za-z*/,?#LW-]+(\s+[0-9A-Za-z*/,?#LW-]+){4,5}$'
      then 'recurrence must be a cron expression with 5 or 6 fields, like "0 6 * * 1"'
  end
$$;

-- ---------------------------------------------------------------------------------------
-- Task guard: what a signed-in user may do to a task row. The worker and the service key
-- connect as other roles and are not limited here (grants and RLS already exclude users
-- from the worker's columns; this adds the rules that depend on values).
-- ---------------------------------------------------------------------------------------
create or replace function private.guard_task() returns trigger
language plpgsql set search_path = ''
as $$
declare
  v_error text;
  v_is_user boolean := current_user in ('authenticated', 'anon');
begin
  if tg_op = 'INSERT' or new.type is distinct from old.type or new.parameters is distinct from old.parameters then
    v_error := private.task_parameters_error(new.type, new.parameters);
    if v_error is not null then
      raise exception 'Invalid parameters for % task: %', replace(new.type, '_', ' '), v_error
        using errcode = '23514', hint = 'Correct the task parameters and try again.';
    end if;
  end if;

  if tg_op = 'INSERT' or new.recurrence is distinct from old.recurrence then
    v_error := private.recurrence_error(new.recurrence);
    if v_error is not null then
      raise exception '%', v_error using errcode = '23514';
    end if;
  end if;

  if v_is_user then
    if new.type = 'cleanup' and not public.is_admin() then
      raise exception 'Only administrators can create cleanup tasks'
        using errcode = '42501';
    end if;
    if new.type = 'data_import'
       and split_part(new.parameters ->> 'path', '/', 1) <> new.user_id::text then
      raise exception 'Invalid parameters for data import task: path must be in your own folder (%/…)', new.user_id
        using errcode = '23514';
    end if;
    if new.scheduled_at is not null and new.scheduled_at < now() - interval '5 minutes'
       and (tg_op = 'INSERT' or new.scheduled_at is distinct from old.scheduled_at) then
      raise exception 'scheduled_at must not be in the past' using errcode = '23514';
    end if;
  end if;

  if tg_op = 'INSERT' then
    new.run_after := greatest(coalesce(new.scheduled_at, now()), now());
    if v_is_user then
      new.status := 'pending';
      new.progress := 0;
      new.attempts := 0;
      new.locked_by := null;
      new.locked_until := null;
    end if;
  elsif new.scheduled_at is distinct from old.scheduled_at and new.status = 'pending' then
    new.run_after := greatest(coalesce(new.scheduled_at, now()), now());
  end if;
  new.title := btrim(new.title);
  return new;
end
$$;

create trigger tasks_guard before insert or update on public.tasks
  for each row execute function private.guard_task();

-- Wake the workers: one notification per transaction (an empty payload is folded by
-- PostgreSQL within a transaction), whether one task or ten thousand were queued.
create or replace function private.notify_task_queue() returns trigger
language plpgsql set search_path = ''
as $$
begin
  perform pg_notify('taskdeck_task_queue', '');
  return null;
end
$$;

create trigger tasks_notify_insert after insert on public.tasks
  for each row when (new.status = 'pending')
  execute function private.notify_task_queue();
create trigger tasks_notify_requeue after update of status on public.tasks
  for each row when (new.status = 'pending' and old.status is distinct from 'pending')
  execute function private.notify_task_queue();

-- ---------------------------------------------------------------------------------------
-- Audit trail: written only here (SECURITY DEFINER), never by hand. Records what people do
-- (the worker's own progress writes have no auth.uid() and are not audited: the execution
-- tables record them).
-- ---------------------------------------------------------------------------------------
create or replace function private.request_header(p_name text) returns text
language sql stable set search_path = ''
as $$
  select nullif(current_setting('request.headers', true), '')::jsonb ->> p_name
$$;

create or replace function private.write_audit(
  p_action text, p_table text, p_record_id text, p_subject uuid, p_old jsonb, p_new jsonb
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.audit_logs
    (actor_id, subject_user_id, action, table_name, record_id, old_data, new_data, ip_address, user_agent)
  values (
    auth.uid(), p_subject, p_action, p_table, p_record_id, p_old, p_new,
    left(btrim(split_part(coalesce(private.request_header('x-forwarded-for'),
                                   private.request_header('x-real-ip'), ''), ',', 1)), 64),
    left(private.request_header('user-agent'), 512)
  );
end
$$;
revoke all on function private.write_audit(text, text, text, uuid, jsonb, jsonb) from public, anon, authenticated;

create or replace function private.audit_profiles() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_old jsonb := '{}';
  v_new jsonb := '{}';
  k text;
begin
  if auth.uid() is null then
    return null;
  end if;
  foreach k in array array['name', 'avatar_url', 'preferences', 'role', 'is_active'] loop
    if to_jsonb(old) -> k is distinct from to_jsonb(new) -> k then
      v_old := v_old || jsonb_build_object(k, to_jsonb(old) -> k);
      v_new := v_new || jsonb_build_object(k, to_jsonb(new) -> k);
    end if;
  end loop;
  if v_new = '{}' then
    return null;
  end if;
  perform private.write_audit(
    case
      when v_new ? 'role' then 'profile.role_changed'
      when v_new ? 'is_active' then case when new.is_active then 'profile.reactivated' else 'profile.deactivated' end
      else 'profile.updated'
    end,
    'profiles', new.id::text, new.id, v_old, v_new);
  return null;
end
$$;

create trigger profiles_audit after update on public.profiles
  for each row execute function private.audit_profiles();

create or replace function private.audit_tasks() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if auth.uid() is null then
    return null;
  end if;
  if tg_op = 'INSERT' then
    perform private.write_audit('task.created', 'tasks', new.id::text, new.user_id, null,
      jsonb_build_object('title', new.title, 'type', new.type, 'priority', new.priority));
  elsif tg_op = 'DELETE' then
    perform private.write_audit('task.deleted', 'tasks', old.id::text, old.user_id,
      jsonb_build_object('title', old.title, 'type', old.type, 'status', old.status), null);
  elsif new.status is distinct from old.status then
    perform private.write_audit(
      case new.status when 'cancelled' then 'task.cancelled' when 'pending' then 'task.retried'
                      else 'task.status_changed' end,
      'tasks', new.id::text, new.user_id,
      jsonb_build_object('status', old.status), jsonb_build_object('status', new.status));
  elsif (new.title, new.description, new.parameters, new.priority, new.scheduled_at, new.recurrence)
        is distinct from (old.title, old.description, old.parameters, old.priority, old.scheduled_at, old.recurrence) then
    perform private.write_audit('task.updated', 'tasks', new.id::text, new.user_id,
      jsonb_build_object('title', old.title, 'priority', old.priority, 'parameters', old.parameters),
      jsonb_build_object('title', new.title, 'priority', new.priority, 'parameters', new.parameters));
  end if;
  return null;
end
$$;

create trigger tasks_audit after insert or update or delete on public.tasks
  for each row execute function private.audit_tasks();

create or replace function private.audit_settings() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if auth.uid() is null then
    return null;
  end if;
  perform private.write_audit('setting.' || lower(tg_op), 'system_settings',
    coalesce(new.key, old.key), null,
    case when tg_op <> 'INSERT' then jsonb_build_object('value', old.value) end,
    case when tg_op <> 'DELETE' then jsonb_build_object('value', new.value) end);
  return null;
end
$$;

create trigger system_settings_audit after insert or update or delete on public.system_settings
  for each row execute function private.audit_settings();

create or replace function private.settings_updated_by() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_by := coalesce(auth.uid(), new.updated_by);
  return new;
end
$$;

create trigger system_settings_updated_by before insert or update on public.system_settings
  for each row execute function private.settings_updated_by();

-- ---------------------------------------------------------------------------------------
-- RPC: cancel and retry
-- ---------------------------------------------------------------------------------------
create or replace function public.cancel_task(task_id uuid) returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  t public.tasks;
begin
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

-- ---------------------------------------------------------------------------------------
-- RPC: analytics
-- ---------------------------------------------------------------------------------------
-- Daily series of each metric over [start_date, end_date] for one owner's business events,
-- with totals, trend and change against the previous period of equal length:
--   {"metrics": {"revenue": {"total", "trend", "change", "dataPoints": [{"date","value"}]}, …},
--    "generatedAt": "…"}
-- revenue = sum of order amounts; orders, users (signups), visits = counts;
-- conversion = conversions / visits × 100 (per day, and over the whole period for the total).
-- SECURITY INVOKER: RLS on business_events decides what the caller can count. `owner`
-- defaults to the caller; the worker (no JWT) passes the task's owner.
create or replace function public.analytics_metrics(
  start_date date,
  end_date date,
  metrics text[] default array['revenue', 'users', 'conversion', 'orders', 'visits'],
  owner uuid default null
) returns jsonb
language plpgsql stable set search_path = ''
as $$
declare
  v_owner uuid := coalesce(owner, auth.uid());
  v_days integer;
  v_prev_start date;
  v_result jsonb := '{}';
  v_metric text;
  v_points jsonb;
  v_total numeric;
  v_prev numeric;
  v_change numeric;
  cur record;
  prev record;
begin
  if start_date is null or end_date is null then
    raise exception 'start_date and end_date are required' using errcode = 'P0001';
  end if;
  if start_date > end_date then
    raise exception 'The start date must not be after the end date' using errcode = 'P0001';
  end if;
  if end_date - start_date > 365 then
    raise exception 'The date range may span at most 366 days' using errcode = 'P0001';
  end if;
  if metrics is null or cardinality(metrics) = 0 then
    raise exception 'Choose at least one metric' using errcode = 'P0001';
  end if;
  foreach v_metric in array metrics loop
    if not (v_metric = any (array['revenue', 'users', 'conversion', 'orders', 'visits'])) then
      raise exception 'Unknown metric "%": expected one of revenue, users, conversion, orders, visits', v_metric
        using errcode = 'P0001';
    end if;
  end loop;
  if v_owner is null then
    raise exception 'Sign in to see analytics' using errcode = '42501';
  end if;

  v_days := end_date - start_date + 1;
  v_prev_start := start_date - v_days;

  -- Totals of the current and the previous period.
  select coalesce(sum(e.amount) filter (where e.event_type = 'order'), 0) as revenue,
         count(*) filter (where e.event_type = 'order') as orders,
         count(*) filter (where e.event_type = 'signup') as users,
         count(*) filter (where e.event_type = 'visit') as visits,
         count(*) filter (where e.event_type = 'conversion') as conversions
    into cur
    from public.business_events e
   where e.user_id = v_owner
     and e.occurred_at >= start_date::timestamptz and e.occurred_at < (end_date + 1)::timestamptz;

  select coalesce(sum(e.amount) filter (where e.event_type = 'order'), 0) as revenue,
         count(*) filter (where e.event_type = 'order') as orders,
         count(*) filter (where e.event_type = 'signup') as users,
         count(*) filter (where e.event_type = 'visit') as visits,
         count(*) filter (where e.event_type = 'conversion') as conversions
    into prev
    from public.business_events e
   where e.user_id = v_owner
     and e.occurred_at >= v_prev_start::timestamptz and e.occurred_at < start_date::timestamptz;

  foreach v_metric in array metrics loop
    if v_result ? v_metric then
      continue;
    end if;
    with days as (
      select d::date as day from generate_series(start_date, end_date, interval '1 day') d
    ), ev as (
      select e.occurred_at::date as day, e.event_type, e.amount
        from public.business_events e
       where e.user_id = v_owner
         and e.occurred_at >= start_date::timestamptz and e.occurred_at < (end_date + 1)::timestamptz
    ), daily as (
      select days.day,
             coalesce(sum(ev.amount) filter (where ev.event_type = 'order'), 0) as revenue,
             count(ev.*) filter (where ev.event_type = 'order') as orders,
             count(ev.*) filter (where ev.event_type = 'signup') as users,
             count(ev.*) filter (where ev.event_type = 'visit') as visits,
             count(ev.*) filter (where ev.event_type = 'conversion') as conversions
        from days left join ev on ev.day = days.day
       group by days.day
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'date', to_char(daily.day, 'YYYY-MM-DD'),
             'value', case v_metric
               when 'revenue' then round(daily.revenue, 2)
               when 'orders' then daily.orders
               when 'users' then daily.users
               when 'visits' then daily.visits
               else case when daily.visits = 0 then 0
                         else round(daily.conversions * 100.0 / daily.visits, 2) end
             end) order by daily.day), '[]'::jsonb)
      into v_points
      from daily;

    v_total := case v_metric
      when 'revenue' then round(cur.revenue, 2)
      when 'orders' then cur.orders
      when 'users' then cur.users
      when 'visits' then cur.visits
      else case when cur.visits = 0 then 0 else round(cur.conversions * 100.0 / cur.visits, 2) end
    end;
    v_prev := case v_metric
      when 'revenue' then round(prev.revenue, 2)
      when 'orders' then prev.orders
      when 'users' then prev.users
      when 'visits' then prev.visits
      else case when prev.visits = 0 then 0 else round(prev.conversions * 100.0 / prev.visits, 2) end
    end;
    v_change := case
      when v_prev = 0 and v_total = 0 then 0
      when v_prev = 0 then 100
      else round((v_total - v_prev) * 100.0 / v_prev, 1)
    end;

    v_result := v_result || jsonb_build_object(v_metric, jsonb_build_object(
      'total', v_total,
      'trend', case when v_change > 0.5 then 'up' when v_change < -0.5 then 'down' else 'flat' end,
      'change', v_change,
      'dataPoints', v_points));
  end loop;

  return jsonb_build_object(
    'metrics', v_result,
    'generatedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
end
$$;

-- ---------------------------------------------------------------------------------------
-- RPC: administration
-- ---------------------------------------------------------------------------------------
create or replace function private.require_admin() returns void
language plpgsql stable set search_path = ''
as $$
begin
  if not public.is_admin() then
    raise exception 'Only administrators can do this' using errcode = '42501';
  end if;
end
$$;

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
    select p.id, p.email, p.name, p.role, p.is_active, p.avatar_url, p.last_login, p.created_at,
           (select count(*) from public.tasks t where t.user_id = p.id),
           (select count(*) from public.tasks t where t.user_id = p.id and t.status = 'failed'),
           count(*) over ()
      from public.profiles p
     where search is null or search = ''
        or p.email ilike '%' || search || '%'
        or p.name ilike '%' || search || '%'
     order by p.created_at, p.id
     limit least(greatest(coalesce(result_limit, 50), 1), 500)
     offset greatest(coalesce(result_offset, 0), 0);
end
$$;

create or replace function public.admin_set_role(user_id uuid, new_role text) returns public.profiles
language plpgsql security definer set search_path = ''
as $$
declare
  p public.profiles;
begin
  perform private.require_admin();
  if new_role is null or new_role not in ('admin', 'business_user', 'guest') then
    raise exception 'Role must be one of admin, business_user, guest' using errcode = 'P0001';
  end if;
  if user_id = auth.uid() then
    raise exception 'You cannot change your own role' using errcode = 'P0001',
      hint = 'Ask another administrator.';
  end if;
  update public.profiles set role = new_role where id = admin_set_role.user_id returning * into p;
  if not found then
    raise exception 'User not found' using errcode = 'PT404';
  end if;
  -- Keep the JWT's app_metadata in step, as Supabase Auth would after an admin update.
  update auth.users
     set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || jsonb_build_object('role', new_role)
   where id = admin_set_role.user_id;
  return p;
end
$$;

create or replace function public.admin_set_active(user_id uuid, active boolean) returns public.profiles
language plpgsql security definer set search_path = ''
as $$
declare
  p public.profiles;
begin
  perform private.require_admin();
  if active is null then
    raise exception 'active must be true or false' using errcode = 'P0001';
  end if;
  if user_id = auth.uid() then
    raise exception 'You cannot deactivate your own account' using errcode = 'P0001',
      hint = 'Ask another administrator.';
  end if;
  update public.profiles set is_active = active where id = admin_set_active.user_id returning * into p;
  if not found then
    raise exception 'User not found' using errcode = 'PT404';
  end if;
  -- A deactivated account cannot sign in or refresh its session (Supabase Auth refuses
  -- banned users); reactivation lifts the ban.
  update auth.users
     set banned_until = case when active then null else 'infinity'::timestamptz end
   where id = admin_set_active.user_id;
  if not active then
    delete from auth.sessions where auth.sessions.user_id = admin_set_active.user_id;
  end if;
  return p;
end
$$;

-- Overview numbers for the admin pages.
create or replace function public.admin_overview() returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v jsonb;
begin
  perform private.require_admin();
  select jsonb_build_object(
    'users', (select count(*) from public.profiles),
    'activeUsers', (select count(*) from public.profiles where is_active),
    'tasksByStatus', (select coalesce(jsonb_object_agg(status, n), '{}') from
                        (select status, count(*) n from public.tasks group by status) s),
    'queueByPriority', (select coalesce(jsonb_object_agg(priority, n), '{}') from
                        (select priority, count(*) n from public.tasks where status = 'pending' group by priority) q),
    'queueDepth', (select count(*) from public.tasks where status = 'pending'),
    'finishedLast24h', (select count(*) from public.tasks
                         where status in ('completed', 'failed') and completed_at > now() - interval '24 hours'),
    'failedLast24h', (select count(*) from public.tasks
                       where status = 'failed' and completed_at > now() - interval '24 hours'),
    'liveWorkers', (select count(*) from public.workers
                     where status = 'running' and last_heartbeat_at > now() - interval '30 seconds')
  ) into v;
  return v;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Function grants: nothing for anon; the RPCs for signed-in users; helpers for nobody.
-- ---------------------------------------------------------------------------------------
revoke all on all functions in schema public from public, anon;
revoke all on all functions in schema private from public, anon, authenticated;
grant execute on function public.is_admin() to authenticated, service_role;
grant execute on function private.can_write() to authenticated, service_role;
grant execute on function public.cancel_task(uuid) to authenticated, service_role;
grant execute on function public.retry_task(uuid) to authenticated, service_role;
grant execute on function public.analytics_metrics(date, date, text[], uuid) to authenticated, service_role;
grant execute on function public.admin_list_users(text, integer, integer) to authenticated, service_role;
grant execute on function public.admin_set_role(uuid, text) to authenticated, service_role;
grant execute on function public.admin_set_active(uuid, boolean) to authenticated, service_role;
grant execute on function public.admin_overview() to authenticated, service_role;
-- Helpers that triggers running as the invoking user call.
grant execute on function private.task_parameters_error(text, jsonb) to authenticated, service_role;
grant execute on function private.recurrence_error(text) to authenticated, service_role;
grant execute on function private.request_header(text) to authenticated, service_role;
grant execute on function private.require_admin() to authenticated, service_role;
