-- Taskdeck core schema: tables, constraints and indexes.
-- Authorization (RLS, grants) is in the next migration; functions and triggers after it.

-- Helpers that the API does not expose (PostgREST serves `public` only).
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- profiles: one per auth.users row, created by a trigger (see the functions migration).
-- Supabase Auth owns credentials: there is no password column here.
-- ---------------------------------------------------------------------------------------
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  name text check (name is null or char_length(name) <= 100),
  role text not null default 'business_user'
    check (role in ('admin', 'business_user', 'guest')),
  avatar_url text check (avatar_url is null or char_length(avatar_url) <= 1024),
  preferences jsonb not null default '{}'::jsonb check (jsonb_typeof(preferences) = 'object'),
  is_active boolean not null default true,
  last_login timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is 'Application profile of each Supabase Auth user.';
create index profiles_role_idx on public.profiles (role);
create index profiles_email_idx on public.profiles (lower(email));

-- ---------------------------------------------------------------------------------------
-- tasks: what users ask for, plus the worker's bookkeeping.
-- ---------------------------------------------------------------------------------------
create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  title text not null check (char_length(btrim(title)) between 1 and 200),
  description text check (description is null or char_length(description) <= 5000),
  type text not null
    check (type in ('analytics_report', 'data_export', 'data_import', 'http_request', 'cleanup')),
  status text not null default 'pending'
    check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  priority text not null default 'medium'
    check (priority in ('low', 'medium', 'high', 'urgent')),
  parameters jsonb not null default '{}'::jsonb,
  progress integer not null default 0 check (progress between 0 and 100),
  result jsonb,
  error_message text,
  scheduled_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- worker bookkeeping
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts between 1 and 10),
  run_after timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  recurrence text check (recurrence is null or char_length(recurrence) <= 100),
  parent_task_id uuid references public.tasks (id) on delete set null,
  -- 0 = urgent … 3 = low, kept in step with `priority` so the claim query can use an index
  priority_rank smallint generated always as (
    case priority when 'urgent' then 0 when 'high' then 1 when 'medium' then 2 else 3 end
  ) stored
);
comment on column public.tasks.recurrence is
  'Cron expression (5 or 6 fields, UTC); when a run finishes the worker enqueues the next one.';
comment on column public.tasks.locked_until is
  'Lease of the worker running the task; an expired lease lets another worker take it again.';

create index tasks_user_id_created_idx on public.tasks (user_id, created_at desc);
create index tasks_user_status_idx on public.tasks (user_id, status);
create index tasks_status_idx on public.tasks (status);
create index tasks_parent_task_id_idx on public.tasks (parent_task_id);
-- The claim query: pending tasks by priority then run_after.
create index tasks_claim_idx on public.tasks (priority_rank, run_after) where status = 'pending';
-- The rescue query: running tasks whose lease expired.
create index tasks_lease_idx on public.tasks (locked_until) where status = 'running';

-- ---------------------------------------------------------------------------------------
-- task_executions: one row per attempt.
-- ---------------------------------------------------------------------------------------
create table public.task_executions (
  id uuid primary key default gen_random_uuid(),
  task_id uuid not null references public.tasks (id) on delete cascade,
  attempt integer not null check (attempt >= 1),
  worker_id text,
  status text not null default 'running'
    check (status in ('running', 'completed', 'failed', 'cancelled')),
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  duration_ms bigint check (duration_ms is null or duration_ms >= 0),
  result jsonb,
  error_message text,
  unique (task_id, attempt)
);
-- A task completes at most once: a second completed execution would be a double run.
create unique index task_executions_one_completed_idx
  on public.task_executions (task_id) where status = 'completed';
create index task_executions_running_idx on public.task_executions (worker_id) where status = 'running';

-- ---------------------------------------------------------------------------------------
-- execution_logs: the steps of each attempt.
-- ---------------------------------------------------------------------------------------
create table public.execution_logs (
  id bigint generated always as identity primary key,
  execution_id uuid not null references public.task_executions (id) on delete cascade,
  task_id uuid not null references public.tasks (id) on delete cascade,
  level text not null default 'info' check (level in ('debug', 'info', 'warn', 'error')),
  message text not null,
  context jsonb,
  created_at timestamptz not null default now()
);
create index execution_logs_execution_id_idx on public.execution_logs (execution_id, id);
create index execution_logs_task_id_idx on public.execution_logs (task_id, id);
create index execution_logs_created_at_idx on public.execution_logs (created_at);

-- ---------------------------------------------------------------------------------------
-- analytics_reports: the reports the worker generated.
-- ---------------------------------------------------------------------------------------
create table public.analytics_reports (
  id uuid primary key default gen_random_uuid(),
  task_id uuid references public.tasks (id) on delete set null,
  user_id uuid not null references public.profiles (id) on delete cascade,
  title text not null,
  format text not null check (format in ('json', 'csv', 'xlsx', 'pdf')),
  date_range_start date not null,
  date_range_end date not null,
  metrics text[] not null,
  storage_path text,
  size_bytes bigint,
  data jsonb,
  created_at timestamptz not null default now(),
  check (date_range_start <= date_range_end)
);
create index analytics_reports_user_created_idx on public.analytics_reports (user_id, created_at desc);
create index analytics_reports_task_id_idx on public.analytics_reports (task_id);

-- ---------------------------------------------------------------------------------------
-- business_events: what analytics measures (orders, signups, visits, conversions).
-- ---------------------------------------------------------------------------------------
create table public.business_events (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  event_type text not null check (event_type in ('order', 'signup', 'visit', 'conversion')),
  amount numeric(14, 2) not null default 0 check (amount >= 0),
  occurred_at timestamptz not null default now(),
  metadata jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now()
);
create index business_events_user_occurred_idx on public.business_events (user_id, occurred_at);

-- ---------------------------------------------------------------------------------------
-- audit_logs: written only by triggers.
-- ---------------------------------------------------------------------------------------
create table public.audit_logs (
  id bigint generated always as identity primary key,
  actor_id uuid,
  subject_user_id uuid,
  action text not null,
  table_name text not null,
  record_id text,
  old_data jsonb,
  new_data jsonb,
  ip_address text,
  user_agent text,
  created_at timestamptz not null default now()
);
create index audit_logs_actor_idx on public.audit_logs (actor_id, created_at desc);
create index audit_logs_subject_idx on public.audit_logs (subject_user_id, created_at desc);
create index audit_logs_created_idx on public.audit_logs (created_at desc);

-- ---------------------------------------------------------------------------------------
-- workers: one row per worker process, kept fresh by its heartbeat.
-- ---------------------------------------------------------------------------------------
create table public.workers (
  id text primary key,
  hostname text not null,
  version text not null,
  pid integer,
  concurrency integer not null default 1,
  status text not null default 'running' check (status in ('running', 'stopping', 'stopped')),
  running_count integer not null default 0,
  started_at timestamptz not null default now(),
  last_heartbeat_at timestamptz not null default now()
);
create index workers_heartbeat_idx on public.workers (last_heartbeat_at desc);

-- ---------------------------------------------------------------------------------------
-- system_settings: key/value configuration that admins edit.
-- ---------------------------------------------------------------------------------------
create table public.system_settings (
  key text primary key check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  value jsonb not null,
  description text,
  updated_at timestamptz not null default now(),
  updated_by uuid references public.profiles (id) on delete set null
);
create index system_settings_updated_by_idx on public.system_settings (updated_by);

insert into public.system_settings (key, value, description) values
  ('log_retention_days', '30', 'Execution logs older than this many days are removed by cleanup tasks.'),
  ('task_retention_days', '90', 'Finished tasks older than this many days are removed by cleanup tasks.'),
  ('default_max_attempts', '3', 'Attempts a task gets before it is marked failed.'),
  ('http_request_max_response_bytes', '1048576', 'Largest response body an http_request task reads.'),
  ('maintenance_banner', '""', 'Message shown to every signed-in user; empty for none.');
