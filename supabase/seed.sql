-- Seed data for local development and tests (applied by `supabase db reset` and by the
-- project's own commands). Accounts (also in the README):
--   admin@taskdeck.dev  Admin-pass-123   admin
--   alice@taskdeck.dev  Alice-pass-123   business user
--   bob@taskdeck.dev    Bob-pass-123     business user
-- Business events cover the 90 days up to today, so dashboards always show recent data.

-- ---------------------------------------------------------------------------------------
-- Accounts (Supabase Auth rows; the profiles come from the trigger)
-- ---------------------------------------------------------------------------------------
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
) values
  ('00000000-0000-0000-0000-000000000000', '11111111-1111-4111-8111-111111111111', 'authenticated',
   'authenticated', 'admin@taskdeck.dev', extensions.crypt('Admin-pass-123', extensions.gen_salt('bf', 10)),
   now(), '{"provider":"email","providers":["email"],"role":"admin"}', '{"name":"Ada Admin"}',
   now() - interval '120 days', now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', '22222222-2222-4222-8222-222222222222', 'authenticated',
   'authenticated', 'alice@taskdeck.dev', extensions.crypt('Alice-pass-123', extensions.gen_salt('bf', 10)),
   now(), '{"provider":"email","providers":["email"]}', '{"name":"Alice Analyst"}',
   now() - interval '100 days', now(), '', '', '', ''),
  ('00000000-0000-0000-0000-000000000000', '33333333-3333-4333-8333-333333333333', 'authenticated',
   'authenticated', 'bob@taskdeck.dev', extensions.crypt('Bob-pass-123', extensions.gen_salt('bf', 10)),
   now(), '{"provider":"email","providers":["email"]}', '{"name":"Bob Builder"}',
   now() - interval '95 days', now(), '', '', '', '');

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at, last_sign_in_at)
select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
       'email', u.created_at, now(), null
  from auth.users u
 where u.id in ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
                '33333333-3333-4333-8333-333333333333');

update public.profiles set preferences = '{"theme":"light","timezone":"Europe/Paris"}'
 where id = '22222222-2222-4222-8222-222222222222';
update public.profiles set preferences = '{"theme":"dark","timezone":"America/New_York"}'
 where id = '33333333-3333-4333-8333-333333333333';

-- ---------------------------------------------------------------------------------------
-- Business events: 90 days for each business user (and a little for the admin).
-- Deterministic: the numbers come from hashes of (user, day, kind), not from random().
-- ---------------------------------------------------------------------------------------
with owners(user_id, scale) as (
  values ('22222222-2222-4222-8222-222222222222'::uuid, 1.0),
         ('33333333-3333-4333-8333-333333333333'::uuid, 0.6),
         ('11111111-1111-4111-8111-111111111111'::uuid, 0.1)
), days as (
  select (current_date - n) as day, n from generate_series(0, 89) as n
), volumes as (
  select o.user_id, d.day,
         -- a slow upward trend, a weekly rhythm and some noise
         greatest(1, round(o.scale * (60 + (89 - d.n) * 0.4
                                      + case extract(isodow from d.day) when 6 then -15 when 7 then -20 else 0 end
                                      + abs(hashtext(o.user_id::text || d.day || 'v')) % 25)))::int as visits,
         greatest(0, round(o.scale * (3 + abs(hashtext(o.user_id::text || d.day || 's')) % 6)))::int as signups,
         greatest(1, round(o.scale * (6 + (89 - d.n) * 0.05 + abs(hashtext(o.user_id::text || d.day || 'o')) % 10)))::int as orders
    from owners o cross join days d
)
insert into public.business_events (user_id, event_type, amount, occurred_at, metadata)
select v.user_id, e.event_type,
       case when e.event_type = 'order'
            then (20 + abs(hashtext(v.user_id::text || v.day || e.i)) % 38000 / 100.0)::numeric(14, 2)
            else 0 end,
       v.day + make_interval(secs => abs(hashtext(v.user_id::text || v.day || e.event_type || e.i)) % 86400),
       case when e.event_type = 'order' then jsonb_build_object('channel', (array['web', 'store', 'partner'])[1 + e.i % 3])
            else '{}'::jsonb end
  from volumes v
  cross join lateral (
    select 'visit'::text as event_type, i from generate_series(1, v.visits) i
    union all select 'signup', i from generate_series(1, v.signups) i
    union all select 'order', i from generate_series(1, v.orders) i
    union all select 'conversion', i from generate_series(1, greatest(1, v.orders * 3 / 4)) i
  ) e
 where v.day + make_interval(secs => abs(hashtext(v.user_id::text || v.day || e.event_type || e.i)) % 86400) <= now();

-- ---------------------------------------------------------------------------------------
-- Tasks in every status, with their executions and logs.
-- ---------------------------------------------------------------------------------------
insert into public.tasks (id, user_id, title, description, type, status, priority, parameters, progress,
                          result, error_message, scheduled_at, started_at, completed_at, created_at,
                          attempts, max_attempts, run_after, last_error, recurrence)
values
  -- Alice
  ('a0000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
   'Q3 revenue report', 'Revenue and orders for the quarter, for the board pack.', 'analytics_report',
   'completed', 'high',
   jsonb_build_object('dateRange', jsonb_build_object('start', to_char(current_date - 60, 'YYYY-MM-DD'),
                                                      'end', to_char(current_date - 1, 'YYYY-MM-DD')),
                      'metrics', jsonb_build_array('revenue', 'orders'), 'format', 'json'),
   100, '{"summary":"Report generated (2 metrics, 60 days)"}', null, null,
   now() - interval '2 days 1 hour', now() - interval '2 days 59 minutes', now() - interval '2 days 1 hour',
   1, 3, now() - interval '2 days 1 hour', null, null),
  ('a0000000-0000-4000-8000-000000000002', '22222222-2222-4222-8222-222222222222',
   'Ping the CRM webhook', null, 'http_request', 'failed', 'medium',
   '{"method":"POST","url":"https://crm.example.invalid/hooks/taskdeck","body":{"ping":true},"timeoutSecs":10}',
   0, null, 'The server could not be reached: crm.example.invalid did not resolve', null,
   now() - interval '1 day 3 hours', now() - interval '1 day 2 hours', now() - interval '1 day 3 hours',
   3, 3, now() - interval '1 day 2 hours', 'The server could not be reached: crm.example.invalid did not resolve', null),
  ('a0000000-0000-4000-8000-000000000003', '22222222-2222-4222-8222-222222222222',
   'Weekly KPI report', 'Every Monday at 06:00 UTC.', 'analytics_report', 'pending', 'medium',
   jsonb_build_object('dateRange', jsonb_build_object('start', to_char(current_date - 7, 'YYYY-MM-DD'),
                                                      'end', to_char(current_date - 1, 'YYYY-MM-DD')),
                      'metrics', jsonb_build_array('revenue', 'users', 'conversion'), 'format', 'pdf'),
   0, null, null, date_trunc('week', now()) + interval '7 days 6 hours', null, null, now() - interval '3 hours',
   0, 3, date_trunc('week', now()) + interval '7 days 6 hours', null, '0 6 * * 1'),
  ('a0000000-0000-4000-8000-000000000004', '22222222-2222-4222-8222-222222222222',
   'Export all events', null, 'data_export', 'cancelled', 'low',
   '{"dataset":"events","format":"csv"}', 0, null, 'Cancelled by you', null, null,
   now() - interval '5 hours', now() - interval '5 hours 10 minutes', 0, 3, now() - interval '5 hours', null, null),
  -- Bob
  ('b0000000-0000-4000-8000-000000000001', '33333333-3333-4333-8333-333333333333',
   'Monthly conversion report', null, 'analytics_report', 'completed', 'urgent',
   jsonb_build_object('dateRange', jsonb_build_object('start', to_char(current_date - 30, 'YYYY-MM-DD'),
                                                      'end', to_char(current_date - 1, 'YYYY-MM-DD')),
                      'metrics', jsonb_build_array('conversion', 'visits'), 'format', 'csv'),
   100, '{"summary":"Report generated (2 metrics, 30 days)"}', null, null,
   now() - interval '6 hours', now() - interval '5 hours 59 minutes', now() - interval '6 hours',
   1, 3, now() - interval '6 hours', null, null),
  ('b0000000-0000-4000-8000-000000000002', '33333333-3333-4333-8333-333333333333',
   'Import March events', null, 'data_import', 'pending', 'high',
   '{"path":"33333333-3333-4333-8333-333333333333/march-events.csv"}', 0, null, null,
   now() + interval '1 day', null, null, now() - interval '10 minutes', 0, 3, now() + interval '1 day', null, null),
  -- Admin
  ('c0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111',
   'Nightly cleanup', 'Removes old logs and finished tasks.', 'cleanup', 'pending', 'low',
   '{"retentionDays":90}', 0, null, null, date_trunc('day', now()) + interval '1 day 2 hours', null, null,
   now() - interval '1 day', 0, 3, date_trunc('day', now()) + interval '1 day 2 hours', null, '0 2 * * *');

insert into public.task_executions (id, task_id, attempt, worker_id, status, started_at, completed_at,
                                    duration_ms, result, error_message)
values
  ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 1, 'seed-worker',
   'completed', now() - interval '2 days 1 hour', now() - interval '2 days 59 minutes', 61500,
   '{"summary":"Report generated (2 metrics, 60 days)"}', null),
  ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002', 1, 'seed-worker',
   'failed', now() - interval '1 day 3 hours', now() - interval '1 day 3 hours' + interval '10 seconds', 10000,
   null, 'The server could not be reached: crm.example.invalid did not resolve'),
  ('e0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 2, 'seed-worker',
   'failed', now() - interval '1 day 2 hours 30 minutes', now() - interval '1 day 2 hours 30 minutes' + interval '10 seconds', 10000,
   null, 'The server could not be reached: crm.example.invalid did not resolve'),
  ('e0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000002', 3, 'seed-worker',
   'failed', now() - interval '1 day 2 hours', now() - interval '1 day 2 hours' + interval '10 seconds', 10000,
   null, 'The server could not be reached: crm.example.invalid did not resolve'),
  ('e0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001', 1, 'seed-worker',
   'completed', now() - interval '6 hours', now() - interval '5 hours 59 minutes', 42000,
   '{"summary":"Report generated (2 metrics, 30 days)"}', null);

insert into public.execution_logs (execution_id, task_id, level, message, context, created_at)
values
  ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'info', 'Attempt 1 started', '{"worker":"seed-worker"}', now() - interval '2 days 1 hour'),
  ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'info', 'Computed 2 metrics over 60 days', '{"rows":2}', now() - interval '2 days 1 hour' + interval '20 seconds'),
  ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'info', 'Report saved', '{"format":"json"}', now() - interval '2 days 59 minutes'),
  ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002', 'info', 'Attempt 1 started', '{"worker":"seed-worker"}', now() - interval '1 day 3 hours'),
  ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002', 'error', 'The server could not be reached: crm.example.invalid did not resolve', '{"retryInSecs":1800}', now() - interval '1 day 3 hours' + interval '10 seconds'),
  ('e0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 'info', 'Attempt 2 started', '{"worker":"seed-worker"}', now() - interval '1 day 2 hours 30 minutes'),
  ('e0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002', 'error', 'The server could not be reached: crm.example.invalid did not resolve', '{"retryInSecs":1800}', now() - interval '1 day 2 hours 30 minutes' + interval '10 seconds'),
  ('e0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000002', 'info', 'Attempt 3 started', '{"worker":"seed-worker"}', now() - interval '1 day 2 hours'),
  ('e0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000002', 'error', 'Giving up after 3 attempts: the server could not be reached', null, now() - interval '1 day 2 hours' + interval '10 seconds'),
  ('e0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001', 'info', 'Attempt 1 started', '{"worker":"seed-worker"}', now() - interval '6 hours'),
  ('e0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001', 'info', 'Report saved', '{"format":"csv"}', now() - interval '5 hours 59 minutes');

-- A worker that ran these, long gone (the admin system page shows it as offline).
insert into public.workers (id, hostname, version, pid, concurrency, status, running_count, started_at, last_heartbeat_at)
values ('seed-worker', 'seed-host', '0.1.0', 4242, 4, 'stopped', 0, now() - interval '3 days', now() - interval '1 day');
