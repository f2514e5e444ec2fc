-- 28_mfa_enforcement.sql — two-step verification enforced in the database (issue #9, item 1).
--
-- alice has a verified TOTP factor, bob only an unverified one (an enrolment he never
-- finished), the admin a verified one. Proves:
--   * alice with an `aal1` JWT (password only), or a JWT without `aal`, reads and writes
--     nothing: every table in public and storage.objects/buckets shows 0 rows or refuses
--     the write (42501), analytics_metrics counts nothing, and every RPC refuses her with
--     42501 "Two-step verification required…" and details `mfa_required`;
--   * alice at `aal2` gets exactly what she had before: her own rows, never bob's;
--   * bob at `aal1` (no verified factor) is unaffected;
--   * the admin with a factor is no admin at `aal1` (is_admin() false, the admin RPCs say
--     "Administrators must complete two-step verification…"), and is one at `aal2`;
--   * with `require_mfa_for_admins` on, an admin without a factor is refused at `aal1` (and
--     told to set one up) while business users without a factor are unaffected;
--   * the shape: a restrictive "<table>: two-step verification" policy on every table with
--     RLS, an MFA check in every SECURITY DEFINER RPC, mfa_ok() evaluated once per statement,
--     and none of it on the worker's own writes.
begin;
select plan(135);

-- Identity switch, done exactly as PostgREST does it: set_config('role', …, true) and the
-- JWT claims in request.jwt.claims, both local to this transaction. 'postgres' goes back
-- to the session user with no claims (for setup and for checking effects). `aal` is the
-- claim Supabase Auth puts in every access token: 'aal1' after a password, 'aal2' after a
-- TOTP code; null leaves the claim out.
create function pg_temp.login_as(who text, aal text default 'aal1') returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
    when 'bob' then '33333333-3333-4333-8333-333333333333'
  end;
  v_session text := case who
    when 'admin' then '5e550000-0000-4000-8000-00000000028d'
    when 'alice' then '5e550000-0000-4000-8000-00000000028a'
    when 'bob' then '5e550000-0000-4000-8000-00000000028c'
  end;
  v_claims jsonb;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif who = 'service_role' then
    perform set_config('role', 'service_role', true);
    perform set_config('request.jwt.claims', '{"role":"service_role"}', true);
  elsif v_sub is not null then
    v_claims := jsonb_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                                   'email', who || '@taskdeck.dev', 'session_id', v_session);
    if aal is not null then
      v_claims := v_claims || jsonb_build_object(
        'aal', aal,
        'amr', case when aal = 'aal2'
                    then '[{"method":"totp","timestamp":1700000100},{"method":"password","timestamp":1700000000}]'::jsonb
                    else '[{"method":"password","timestamp":1700000000}]'::jsonb end);
    end if;
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims', v_claims::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

-- Runs one INSERT / UPDATE / DELETE as the current identity and returns how many rows it
-- affected (RLS hides rows silently, so "denied" is often 0). An error is reported as a
-- warning and gives -1, which fails the assertion without stopping the file.
create function pg_temp.affected(sql text) returns integer
language plpgsql as $$
declare
  n integer;
begin
  execute sql;
  get diagnostics n = row_count;
  return n;
exception when others then
  raise warning 'affected(): % (SQLSTATE %)', sqlerrm, sqlstate;
  return -1;
end
$$;

-- Runs a statement and returns its error as PostgREST would put it in the response body,
-- {code, message, details, hint}; NULL when it succeeds.
create function pg_temp.refusal(sql text) returns jsonb
language plpgsql as $$
declare
  v_code text;
  v_message text;
  v_details text;
  v_hint text;
begin
  execute sql;
  return null;
exception when others then
  get stacked diagnostics v_code = returned_sqlstate, v_message = message_text,
                          v_details = pg_exception_detail, v_hint = pg_exception_hint;
  return jsonb_build_object('code', v_code, 'message', v_message,
                            'details', nullif(v_details, ''), 'hint', nullif(v_hint, ''));
end
$$;

-- The refusals a user or an admin sees.
create function pg_temp.mfa_refusal() returns jsonb
language sql immutable as $$
  select '{"code": "42501", "details": "mfa_required",
           "message": "Two-step verification required: enter the code from your authenticator app",
           "hint": "Sign in again and finish with the 6-digit code your app shows."}'::jsonb
$$;
create function pg_temp.admin_mfa_refusal(enrolled boolean) returns jsonb
language sql immutable as $$
  select jsonb_build_object('code', '42501', 'details', 'mfa_required',
    'message', 'Administrators must complete two-step verification to use admin functions',
    'hint', case when enrolled then 'Sign in again and finish with the 6-digit code your app shows.'
                 else 'Set up an authenticator app under Settings, Security, then sign in again with its code.' end)
$$;

-- Counts of mfa_ok() calls in this transaction (needs track_functions, a superuser setting:
-- false where it cannot be set, and the tests that need it are skipped).
create function pg_temp.track_functions() returns boolean
language plpgsql as $$
begin
  perform set_config('track_functions', 'all', true);
  return true;
exception when insufficient_privilege then
  return false;
end
$$;
create function pg_temp.mfa_ok_calls() returns bigint
language sql as $$
  select coalesce(pg_stat_get_xact_function_calls('private.mfa_ok()'::regprocedure), 0)
$$;

-- ---------------------------------------------------------------------------------------
-- Fixtures, as postgres
-- ---------------------------------------------------------------------------------------
select from set_config('storage.allow_delete_query', 'true', true);

insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret) values
  ('f0000000-0000-4000-8000-00000000028a', '22222222-2222-4222-8222-222222222222', 'Alice''s phone', 'totp', 'verified',
   now() - interval '10 days', now() - interval '10 days', 'JBSWY3DPEHPK3PXP'),
  ('f0000000-0000-4000-8000-00000000028c', '33333333-3333-4333-8333-333333333333', 'Bob''s phone', 'totp', 'unverified',
   now() - interval '1 day', now() - interval '1 day', 'KRSXG5CTMVRXEZLU'),
  ('f0000000-0000-4000-8000-00000000028d', '11111111-1111-4111-8111-111111111111', 'Admin key', 'totp', 'verified',
   now() - interval '30 days', now() - interval '30 days', 'MFRGGZDFMZTWQ2LK');

insert into auth.sessions (id, user_id, created_at, updated_at, aal) values
  ('5e550000-0000-4000-8000-00000000028a', '22222222-2222-4222-8222-222222222222', now(), now(), 'aal2'),
  ('5e550000-0000-4000-8000-00000000028b', '22222222-2222-4222-8222-222222222222', now() - interval '1 day', now() - interval '1 day', 'aal2'),
  ('5e550000-0000-4000-8000-00000000028c', '33333333-3333-4333-8333-333333333333', now(), now(), 'aal1'),
  ('5e550000-0000-4000-8000-00000000028d', '11111111-1111-4111-8111-111111111111', now(), now(), 'aal2');

insert into public.analytics_reports (id, task_id, user_id, title, format, date_range_start, date_range_end, metrics) values
  ('28000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
   'Q3 revenue report', 'json', current_date - 60, current_date - 1, array['revenue', 'orders']),
  ('28000000-0000-4000-8000-0000000000a2', null, '22222222-2222-4222-8222-222222222222',
   'Old report', 'csv', current_date - 90, current_date - 61, array['visits']),
  ('28000000-0000-4000-8000-0000000000b1', 'b0000000-0000-4000-8000-000000000001', '33333333-3333-4333-8333-333333333333',
   'Monthly conversion report', 'csv', current_date - 30, current_date - 1, array['conversion', 'visits']);

insert into public.audit_logs (actor_id, subject_user_id, action, table_name, record_id) values
  ('22222222-2222-4222-8222-222222222222', '22222222-2222-4222-8222-222222222222', 'profile.updated', 'profiles',
   '22222222-2222-4222-8222-222222222222'),
  ('33333333-3333-4333-8333-333333333333', '33333333-3333-4333-8333-333333333333', 'task.created', 'tasks',
   'b0000000-0000-4000-8000-000000000002');

insert into storage.objects (bucket_id, name, owner_id, metadata) values
  ('reports', '22222222-2222-4222-8222-222222222222/q3.json', null, '{"mimetype":"application/json"}'),
  ('reports', '33333333-3333-4333-8333-333333333333/monthly.csv', null, '{"mimetype":"text/csv"}'),
  ('imports', '22222222-2222-4222-8222-222222222222/old.csv', '22222222-2222-4222-8222-222222222222', '{"mimetype":"text/csv"}'),
  ('imports', '33333333-3333-4333-8333-333333333333/march-events.csv', '33333333-3333-4333-8333-333333333333', '{"mimetype":"text/csv"}');

create temp table fixture as
select (select count(*)::int from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_events,
       (select count(*)::int from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') as bob_events,
       (select min(id) from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_event,
       (select max(id) from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_last_event,
       (select min(id) from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') as bob_event,
       (select count(*)::int from public.business_events
         where user_id = '22222222-2222-4222-8222-222222222222' and event_type = 'order'
           and occurred_at >= (current_date - 29)::timestamptz and occurred_at < (current_date + 1)::timestamptz) as alice_orders_30d,
       (select count(*)::int from public.system_settings) as settings;
grant select on fixture to public;

-- ---------------------------------------------------------------------------------------
-- mfa_ok(): who must use two-step verification
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice', 'aal1');
select is(private.mfa_ok(), false, 'mfa_ok() is false for alice (verified factor) at aal1');
select pg_temp.login_as('alice', null);
select is(private.mfa_ok(), false, 'mfa_ok() is false for alice with a JWT that has no aal claim (counts as aal1)');
select pg_temp.login_as('alice', 'aal2');
select is(private.mfa_ok(), true, 'mfa_ok() is true for alice at aal2');
select pg_temp.login_as('bob', 'aal1');
select is(private.mfa_ok(), true, 'mfa_ok() is true for bob at aal1: an unverified factor does not count');
select pg_temp.login_as('service_role');
select is(private.mfa_ok(), true, 'mfa_ok() is true for the service key (no user)');
select pg_temp.login_as('postgres');
select is(private.mfa_ok(), true, 'mfa_ok() is true without a JWT (the worker''s connection)');

-- ---------------------------------------------------------------------------------------
-- alice at aal1: nothing, anywhere
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice', 'aal1');
select is((select count(*)::int from public.profiles), 0, 'alice at aal1 cannot read even her own profile (0 rows)');
select is(pg_temp.affected($$update public.profiles set name = 'Alice (aal1)' where id = '22222222-2222-4222-8222-222222222222'$$), 0,
          'alice at aal1 cannot update her profile (0 rows)');
select is((select count(*)::int from public.tasks), 0, 'alice at aal1 cannot read her tasks (0 rows)');
select throws_ok($$insert into public.tasks (title, type, parameters) values ('aal1 export', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                 '42501', 'new row violates row-level security policy "tasks: two-step verification" for table "tasks"',
                 'alice at aal1 cannot create a task (42501)');
select is(pg_temp.affected($$update public.tasks set title = 'aal1 edit' where id = 'a0000000-0000-4000-8000-000000000003'$$), 0,
          'alice at aal1 cannot edit her pending task (0 rows)');
select is(pg_temp.affected($$delete from public.tasks where id = 'a0000000-0000-4000-8000-000000000004'$$), 0,
          'alice at aal1 cannot delete her cancelled task (0 rows)');
select is((select count(*)::int from public.task_executions), 0, 'alice at aal1 cannot read her task executions (0 rows)');
select is((select count(*)::int from public.execution_logs), 0, 'alice at aal1 cannot read her execution logs (0 rows)');
select is((select count(*)::int from public.analytics_reports), 0, 'alice at aal1 cannot read her reports (0 rows)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = '28000000-0000-4000-8000-0000000000a2'$$), 0,
          'alice at aal1 cannot delete her report (0 rows)');
select is((select count(*)::int from public.business_events), 0, 'alice at aal1 cannot read her business events (0 rows)');
select throws_ok($$insert into public.business_events (event_type, amount) values ('order', 10)$$,
                 '42501', 'new row violates row-level security policy "business_events: two-step verification" for table "business_events"',
                 'alice at aal1 cannot add a business event (42501)');
select is(pg_temp.affected($$update public.business_events set amount = 1 where id = (select alice_event from fixture)$$), 0,
          'alice at aal1 cannot correct her event (0 rows)');
select is(pg_temp.affected($$delete from public.business_events where id = (select alice_event from fixture)$$), 0,
          'alice at aal1 cannot delete her event (0 rows)');
select is((select count(*)::int from public.audit_logs), 0, 'alice at aal1 cannot read her audit trail (0 rows)');
select is((select count(*)::int from public.workers), 0, 'alice at aal1 reads no workers (0 rows)');
select is((select count(*)::int from public.system_settings), 0, 'alice at aal1 cannot read the settings (0 rows)');
select throws_ok($$insert into public.system_settings (key, value) values ('alice_flag', 'true')$$,
                 '42501', 'new row violates row-level security policy for table "system_settings"',
                 'alice at aal1 cannot add a setting (42501)');
select is((select count(*)::int from storage.objects), 0, 'alice at aal1 cannot read her stored files (0 rows)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', '22222222-2222-4222-8222-222222222222/aal1.csv', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy "objects: two-step verification" for table "objects"',
                 'alice at aal1 cannot upload into her own imports folder (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}' where name = '22222222-2222-4222-8222-222222222222/old.csv'$$), 0,
          'alice at aal1 cannot replace her import (0 rows)');
select is(pg_temp.affected($$delete from storage.objects where name = '22222222-2222-4222-8222-222222222222/old.csv'$$), 0,
          'alice at aal1 cannot delete her import (0 rows)');
select is((select count(*)::int from storage.buckets), 0, 'alice at aal1 sees no bucket (0 rows)');
select is((public.analytics_metrics(current_date - 29, current_date, array['orders']) #>> '{metrics,orders,total}')::int, 0,
          'analytics_metrics (SECURITY INVOKER) counts none of alice''s orders at aal1: the policies hide them');
select is(public.is_admin(), false, 'is_admin() is false for alice');
select is(pg_temp.refusal($$select public.cancel_task('a0000000-0000-4000-8000-000000000003')$$), pg_temp.mfa_refusal(),
          'cancel_task refuses alice at aal1: 42501, "Two-step verification required", details mfa_required');
select is(pg_temp.refusal($$select public.retry_task('a0000000-0000-4000-8000-000000000002')$$), pg_temp.mfa_refusal(),
          'retry_task refuses alice at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select * from public.my_sessions()$$), pg_temp.mfa_refusal(),
          'my_sessions refuses alice at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000028b')$$), pg_temp.mfa_refusal(),
          'revoke_my_session refuses alice at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select * from public.admin_list_users()$$)->>'message', 'Two-step verification required: enter the code from your authenticator app',
          'admin_list_users refuses alice at aal1 for want of two-step verification first');
select pg_temp.login_as('alice', null);
select is((select count(*)::int from public.tasks), 0, 'alice with a JWT without aal cannot read her tasks either (0 rows)');
select is(pg_temp.refusal($$select public.cancel_task('a0000000-0000-4000-8000-000000000003')$$), pg_temp.mfa_refusal(),
          'cancel_task refuses alice with a JWT without aal (42501, mfa_required)');

-- Nothing of the refused writes landed.
select pg_temp.login_as('postgres');
select results_eq(
  $$select (select name from public.profiles where id = '22222222-2222-4222-8222-222222222222'),
           (select title || '/' || status from public.tasks where id = 'a0000000-0000-4000-8000-000000000003'),
           (select count(*)::int from public.tasks where id = 'a0000000-0000-4000-8000-000000000004'),
           (select count(*)::int from public.analytics_reports where id = '28000000-0000-4000-8000-0000000000a2'),
           (select count(*)::int from public.business_events where user_id = '22222222-2222-4222-8222-222222222222'),
           (select count(*)::int from storage.objects where name like '22222222-2222-4222-8222-222222222222/%'),
           (select count(*)::int from auth.sessions where id = '5e550000-0000-4000-8000-00000000028b')$$,
  $$values ('Alice Analyst'::text, 'Weekly KPI report/pending'::text, 1, 1, (select alice_events from fixture), 2, 1)$$,
  'none of alice''s aal1 writes, cancels or sign-outs took effect'
);

-- ---------------------------------------------------------------------------------------
-- alice at aal2: what she had before
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice', 'aal2');
select is((public.analytics_metrics(current_date - 29, current_date, array['orders'],
                                    time_zone => current_setting('TimeZone')) #>> '{metrics,orders,total}')::int,
          (select alice_orders_30d from fixture),
          'analytics_metrics counts all of alice''s orders at aal2');
select set_eq($$select id from public.profiles$$, $$values ('22222222-2222-4222-8222-222222222222'::uuid)$$,
              'alice at aal2 reads her own profile and no other');
select is(pg_temp.affected($$update public.profiles set name = 'Alice A.' where id = '22222222-2222-4222-8222-222222222222'$$), 1,
          'alice at aal2 can update her profile (1 row)');
select is(pg_temp.affected($$update public.profiles set name = 'Bobby' where id = '33333333-3333-4333-8333-333333333333'$$), 0,
          'alice at aal2 cannot update bob''s profile (0 rows)');
select set_eq($$select id from public.tasks$$,
              $$values ('a0000000-0000-4000-8000-000000000001'::uuid), ('a0000000-0000-4000-8000-000000000002'),
                       ('a0000000-0000-4000-8000-000000000003'), ('a0000000-0000-4000-8000-000000000004')$$,
              'alice at aal2 reads her four tasks and nothing else');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters) values ('aal2 export', 'data_export', '{"dataset":"tasks","format":"csv"}')$$), 1,
          'alice at aal2 can create a task (1 row)');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('33333333-3333-4333-8333-333333333333', 'For bob', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'alice at aal2 cannot create a task for bob (42501)');
select is(pg_temp.affected($$update public.tasks set title = 'Weekly KPIs' where id = 'a0000000-0000-4000-8000-000000000003'$$), 1,
          'alice at aal2 can edit her pending task (1 row)');
select is(pg_temp.affected($$update public.tasks set title = 'Hijacked' where id = 'b0000000-0000-4000-8000-000000000002'$$), 0,
          'alice at aal2 cannot edit bob''s pending task (0 rows)');
select is(pg_temp.affected($$delete from public.tasks where id = 'a0000000-0000-4000-8000-000000000004'$$), 1,
          'alice at aal2 can delete her cancelled task (1 row)');
select is(pg_temp.affected($$delete from public.tasks where id = 'b0000000-0000-4000-8000-000000000001'$$), 0,
          'alice at aal2 cannot delete bob''s task (0 rows)');
select set_eq($$select id from public.task_executions$$,
              $$values ('e0000000-0000-4000-8000-000000000001'::uuid), ('e0000000-0000-4000-8000-000000000002'),
                       ('e0000000-0000-4000-8000-000000000003'), ('e0000000-0000-4000-8000-000000000004')$$,
              'alice at aal2 reads the executions of her tasks, not bob''s');
select set_eq($$select distinct task_id from public.execution_logs$$,
              $$values ('a0000000-0000-4000-8000-000000000001'::uuid), ('a0000000-0000-4000-8000-000000000002')$$,
              'alice at aal2 reads the logs of her tasks, not bob''s');
select set_eq($$select id from public.analytics_reports$$,
              $$values ('28000000-0000-4000-8000-0000000000a1'::uuid), ('28000000-0000-4000-8000-0000000000a2')$$,
              'alice at aal2 reads her two reports, not bob''s');
select is(pg_temp.affected($$delete from public.analytics_reports where id = '28000000-0000-4000-8000-0000000000b1'$$), 0,
          'alice at aal2 cannot delete bob''s report (0 rows)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = '28000000-0000-4000-8000-0000000000a2'$$), 1,
          'alice at aal2 can delete her report (1 row)');
select results_eq(
  $$select count(*) filter (where user_id = '22222222-2222-4222-8222-222222222222')::int,
           count(*) filter (where user_id <> '22222222-2222-4222-8222-222222222222')::int
      from public.business_events$$,
  $$select alice_events, 0 from fixture$$,
  'alice at aal2 reads all her business events and nobody else''s'
);
select is(pg_temp.affected($$insert into public.business_events (event_type, amount, metadata) values ('order', 10, '{"channel":"aal2"}')$$), 1,
          'alice at aal2 can add a business event (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 1.00 where id = (select alice_event from fixture)$$), 1,
          'alice at aal2 can correct her event (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 0 where id = (select bob_event from fixture)$$), 0,
          'alice at aal2 cannot update bob''s event (0 rows)');
select is(pg_temp.affected($$delete from public.business_events where id = (select alice_last_event from fixture)$$), 1,
          'alice at aal2 can delete her event (1 row)');
select is(pg_temp.affected($$delete from public.business_events where id = (select bob_event from fixture)$$), 0,
          'alice at aal2 cannot delete bob''s event (0 rows)');
select ok((select bool_and(actor_id = '22222222-2222-4222-8222-222222222222' or subject_user_id = '22222222-2222-4222-8222-222222222222')
                  and bool_or(action = 'profile.updated')
             from public.audit_logs),
          'alice at aal2 reads her own audit trail, and only hers');
select is((select count(*)::int from public.workers), 0, 'alice at aal2 reads no workers (admins only, as before)');
select is((select count(*)::int from public.system_settings), (select settings from fixture), 'alice at aal2 reads every setting');
select is(pg_temp.affected($$update public.system_settings set value = 'false' where key = 'require_mfa_for_admins'$$), 0,
          'alice at aal2 cannot change a setting (0 rows)');
select set_eq($$select bucket_id || ':' || name from storage.objects$$,
              array['reports:22222222-2222-4222-8222-222222222222/q3.json', 'imports:22222222-2222-4222-8222-222222222222/old.csv'],
              'alice at aal2 reads her own stored files, not bob''s');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name, owner_id)
                              values ('imports', '22222222-2222-4222-8222-222222222222/aal2.csv', '22222222-2222-4222-8222-222222222222')$$), 1,
          'alice at aal2 can upload into her imports folder (1 row)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', '33333333-3333-4333-8333-333333333333/aal2.csv', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice at aal2 cannot upload into bob''s folder (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{"mimetype":"text/plain"}' where name = '22222222-2222-4222-8222-222222222222/old.csv'$$), 1,
          'alice at aal2 can replace her import (1 row)');
select is(pg_temp.affected($$delete from storage.objects where name = '22222222-2222-4222-8222-222222222222/old.csv'$$), 1,
          'alice at aal2 can delete her import (1 row)');
select is(pg_temp.affected($$delete from storage.objects where name = '33333333-3333-4333-8333-333333333333/march-events.csv'$$), 0,
          'alice at aal2 cannot delete bob''s import (0 rows)');
select is((select count(*)::int from storage.buckets where id in ('reports', 'imports', 'avatars')), 3,
          'alice at aal2 sees the buckets');
select is((select status from public.cancel_task('a0000000-0000-4000-8000-000000000003')), 'cancelled',
          'alice at aal2 can cancel her pending task');
select is((select status from public.retry_task('a0000000-0000-4000-8000-000000000002')), 'pending',
          'alice at aal2 can retry her failed task');
select throws_ok($$select public.cancel_task('b0000000-0000-4000-8000-000000000002')$$, 'PT404', 'Task not found',
                 'alice at aal2 still cannot cancel bob''s task (PT404)');
select results_eq($$select id::text, is_current from public.my_sessions()$$,
                  $$values ('5e550000-0000-4000-8000-00000000028a', true), ('5e550000-0000-4000-8000-00000000028b', false)$$,
                  'alice at aal2 lists her two sessions, the current one marked');
select lives_ok($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000028b')$$,
                'alice at aal2 can sign out her other session');
select throws_ok($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000028c')$$, 'PT404', 'Session not found',
                 'alice at aal2 still cannot sign out bob''s session (PT404)');
select throws_ok($$select public.admin_overview()$$, '42501', 'Only administrators can do this',
                 'alice at aal2 is still no administrator (42501 "Only administrators can do this")');

-- ---------------------------------------------------------------------------------------
-- bob at aal1, without a verified factor: unaffected
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob', 'aal1');
select set_eq($$select id from public.tasks$$,
              $$values ('b0000000-0000-4000-8000-000000000001'::uuid), ('b0000000-0000-4000-8000-000000000002')$$,
              'bob at aal1 reads his two tasks');
select set_eq($$select id from public.profiles$$, $$values ('33333333-3333-4333-8333-333333333333'::uuid)$$,
              'bob at aal1 reads his profile');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters) values ('Bob aal1', 'data_export', '{"dataset":"events","format":"csv"}')$$), 1,
          'bob at aal1 can create a task (1 row)');
select is(pg_temp.affected($$update public.tasks set priority = 'urgent' where id = 'b0000000-0000-4000-8000-000000000002'$$), 1,
          'bob at aal1 can edit his pending task (1 row)');
select is((select count(*)::int from public.task_executions), 1, 'bob at aal1 reads his task''s execution');
select is((select count(*)::int from public.business_events), (select bob_events from fixture), 'bob at aal1 reads his business events');
select is(pg_temp.affected($$insert into public.business_events (event_type) values ('visit')$$), 1,
          'bob at aal1 can add a business event (1 row)');
select is((select count(*)::int from public.audit_logs where actor_id = '33333333-3333-4333-8333-333333333333' and action = 'task.created'
                                                      and record_id = 'b0000000-0000-4000-8000-000000000002'), 1,
          'bob at aal1 reads his audit trail');
select is((select count(*)::int from public.system_settings), (select settings from fixture), 'bob at aal1 reads every setting');
select set_eq($$select bucket_id || ':' || name from storage.objects$$,
              array['reports:33333333-3333-4333-8333-333333333333/monthly.csv', 'imports:33333333-3333-4333-8333-333333333333/march-events.csv'],
              'bob at aal1 reads his stored files');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name, owner_id)
                              values ('imports', '33333333-3333-4333-8333-333333333333/april.csv', '33333333-3333-4333-8333-333333333333')$$), 1,
          'bob at aal1 can upload an import (1 row)');
select is((select count(*)::int from storage.buckets), 3, 'bob at aal1 sees the buckets');
select results_eq($$select id::text, is_current from public.my_sessions()$$,
                  $$values ('5e550000-0000-4000-8000-00000000028c', true)$$,
                  'bob at aal1 lists his session');
select is((select status from public.cancel_task('b0000000-0000-4000-8000-000000000002')), 'cancelled',
          'bob at aal1 can cancel his pending task');

-- ---------------------------------------------------------------------------------------
-- The admin, who has a factor, at aal1: no admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin', 'aal1');
select is(public.is_admin(), false, 'is_admin() is false for the enrolled admin at aal1');
select is(pg_temp.refusal($$select * from public.admin_list_users()$$), pg_temp.admin_mfa_refusal(true),
          'admin_list_users refuses the admin at aal1: "Administrators must complete two-step verification…", mfa_required');
select is(pg_temp.refusal($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest')$$), pg_temp.admin_mfa_refusal(true),
          'admin_set_role refuses the admin at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select public.admin_set_active('33333333-3333-4333-8333-333333333333', false)$$), pg_temp.admin_mfa_refusal(true),
          'admin_set_active refuses the admin at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select public.admin_overview()$$), pg_temp.admin_mfa_refusal(true),
          'admin_overview refuses the admin at aal1 (42501, mfa_required)');
select is(pg_temp.refusal($$select public.cancel_task('c0000000-0000-4000-8000-000000000001')$$), pg_temp.mfa_refusal(),
          'cancel_task refuses the admin at aal1, even for the admin''s own task (42501, mfa_required)');
select is((select count(*)::int from public.profiles), 0, 'the admin at aal1 reads no profile (0 rows)');
select is((select count(*)::int from public.workers), 0, 'the admin at aal1 reads no workers (0 rows)');
select is((select count(*)::int from public.tasks), 0, 'the admin at aal1 reads no task, not even their own (0 rows)');
select is(pg_temp.affected($$update public.system_settings set value = '7' where key = 'log_retention_days'$$), 0,
          'the admin at aal1 cannot change a setting (0 rows)');

-- ... and at aal2: admin again
select pg_temp.login_as('admin', 'aal2');
select is(public.is_admin(), true, 'is_admin() is true for the admin at aal2');
select is((select max(total_count)::int from public.admin_list_users()), 3, 'the admin at aal2 lists users');
select is((select (o ->> 'users')::int from public.admin_overview() o), 3, 'the admin at aal2 reads the overview');
select is((select role from public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest')), 'guest',
          'the admin at aal2 can change bob''s role');
select is((select is_active from public.admin_set_active('33333333-3333-4333-8333-333333333333', true)), true,
          'the admin at aal2 can call admin_set_active');
select is((select count(*)::int from public.profiles), 3, 'the admin at aal2 reads every profile');
select is((select count(*)::int from public.workers), 1, 'the admin at aal2 reads the workers');
select is(pg_temp.affected($$update public.system_settings set value = '7' where key = 'log_retention_days'$$), 1,
          'the admin at aal2 can change a setting (1 row)');
select lives_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'business_user')$$,
                'the admin at aal2 makes bob a business user again');

-- ---------------------------------------------------------------------------------------
-- require_mfa_for_admins
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select is((select value from public.system_settings where key = 'require_mfa_for_admins'), 'false'::jsonb,
          'require_mfa_for_admins is off by default');
select ok((select description is not null from public.system_settings where key = 'require_mfa_for_admins'),
          'require_mfa_for_admins says what it does');
-- The admin removes their factor; with the setting off, a factor-less admin is admin at aal1.
delete from auth.mfa_factors where id = 'f0000000-0000-4000-8000-00000000028d';
select pg_temp.login_as('admin', 'aal1');
select is(public.is_admin(), true, 'with the setting off, an admin without a factor is admin at aal1');

select pg_temp.login_as('admin', 'aal2');
select is(pg_temp.affected($$update public.system_settings set value = 'true' where key = 'require_mfa_for_admins'$$), 1,
          'an admin at aal2 turns require_mfa_for_admins on (1 row)');

select pg_temp.login_as('admin', 'aal1');
select is(private.mfa_ok(), false, 'with the setting on, mfa_ok() is false for an admin without a factor at aal1');
select is(public.is_admin(), false, 'with the setting on, an admin without a factor is no admin at aal1');
select is(pg_temp.refusal($$select public.admin_overview()$$), pg_temp.admin_mfa_refusal(false),
          'admin_overview refuses them and says to set up an authenticator app (42501, mfa_required)');
select is(pg_temp.refusal($$select public.cancel_task('c0000000-0000-4000-8000-000000000001')$$),
          '{"code": "42501", "details": "mfa_required",
            "message": "Two-step verification required: administrators must set up an authenticator app",
            "hint": "Set one up under Settings, Security, then sign in again with its code."}'::jsonb,
          'cancel_task refuses them too, saying administrators must set up an authenticator app');
select is((select count(*)::int from public.tasks), 0, 'with the setting on, an admin without a factor at aal1 reads no task');

select pg_temp.login_as('bob', 'aal1');
select is(private.mfa_ok(), true, 'with the setting on, mfa_ok() is still true for bob (business user, no factor) at aal1');
select is((select count(*)::int from public.tasks), 3, 'bob at aal1 still reads his tasks');
select is(pg_temp.affected($$insert into public.business_events (event_type) values ('signup')$$), 1,
          'bob at aal1 can still add a business event (1 row)');
select throws_ok($$select public.admin_overview()$$, '42501', 'Only administrators can do this',
                 'bob is still told "Only administrators can do this"');

select pg_temp.login_as('alice', 'aal1');
select is((select count(*)::int from public.tasks), 0, 'alice at aal1 still reads nothing (the setting does not relax anything)');

-- The admin enrols again and signs in with the code.
select pg_temp.login_as('postgres');
insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret)
values ('f0000000-0000-4000-8000-00000000028e', '11111111-1111-4111-8111-111111111111', 'Admin key 2', 'totp', 'verified',
        now(), now(), 'NBSWY3DPEB3W64TM');
select pg_temp.login_as('admin', 'aal2');
select is(public.is_admin(), true, 'with the setting on, an enrolled admin at aal2 is admin');
select is((select (o ->> 'users')::int from public.admin_overview() o), 3, 'and reads the overview');

-- ---------------------------------------------------------------------------------------
-- Shape
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select is_empty(
  $$select n.nspname || '.' || c.relname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and c.relrowsecurity
       and (n.nspname = 'public' or (n.nspname = 'storage' and c.relname in ('objects', 'buckets')))
       and not exists (
         select 1 from pg_policies p
          where p.schemaname = n.nspname and p.tablename = c.relname
            and p.policyname = c.relname || ': two-step verification'
            and p.permissive = 'RESTRICTIVE' and p.cmd = 'ALL' and p.roles = array['authenticated']::name[]
            and p.qual ~ 'private\.mfa_ok\(\)' and p.with_check ~ 'private\.mfa_ok\(\)')$$,
  'every table with RLS in public, and storage.objects and storage.buckets, has its restrictive "<table>: two-step verification" policy'
);
select ok((select count(*) >= 11 from pg_policies where policyname like '%: two-step verification'),
          'the check above found the policies it looks for');
select is_empty(
  $$select p.oid::regprocedure::text
      from pg_proc p
     where p.pronamespace = 'public'::regnamespace and p.prosecdef
       and has_function_privilege('authenticated', p.oid, 'EXECUTE')
       and p.oid <> 'public.is_admin()'::regprocedure
       and p.prosrc !~ 'private\.require_(mfa|admin)\(\)'$$,
  'every SECURITY DEFINER function users can call checks two-step verification (require_mfa or require_admin)'
);
select ok((select prosecdef and provolatile = 's' and coalesce('search_path=""' = any (proconfig), false)
             from pg_proc where oid = 'private.mfa_ok()'::regprocedure),
          'mfa_ok() is STABLE, SECURITY DEFINER, with an empty search_path');
select ok(not has_function_privilege('authenticated', 'private.require_mfa()', 'EXECUTE')
          and not has_function_privilege('anon', 'private.mfa_ok()', 'EXECUTE'),
          'users cannot call require_mfa() directly, nor anon mfa_ok()');

-- mfa_ok() is evaluated once per statement, not per row, and never for the worker's writes.
select pg_temp.track_functions() as tracking \gset
select case when not :'tracking' then skip('track_functions cannot be set by this role (it needs a superuser)', 2) end;
select pg_temp.login_as('postgres');
select pg_temp.mfa_ok_calls() as calls_before \gset
update public.tasks set status = 'running', started_at = now(), attempts = attempts + 1, locked_by = 'w1',
       locked_until = now() + interval '30 seconds'
 where id = 'a0000000-0000-4000-8000-000000000002';
insert into public.task_executions (task_id, attempt, worker_id) values ('a0000000-0000-4000-8000-000000000002', 4, 'w1');
update public.tasks set progress = 50, locked_until = now() + interval '30 seconds' where id = 'a0000000-0000-4000-8000-000000000002';
update public.tasks set status = 'completed', progress = 100, completed_at = now(), locked_by = null, locked_until = null
 where id = 'a0000000-0000-4000-8000-000000000002';
select case when :'tracking' then
  is(pg_temp.mfa_ok_calls() - :calls_before, 0::bigint, 'the worker''s claim, progress and completion writes never call mfa_ok()')
end;
select pg_temp.login_as('alice', 'aal2');
select pg_temp.mfa_ok_calls() as calls_before \gset
select count(*) > 0 as alice_has_events from public.business_events \gset
select case when :'tracking' then
  ok(pg_temp.mfa_ok_calls() - :calls_before between 1 and 2,
     'reading alice''s thousands of business events calls mfa_ok() once or twice (policy and is_admin), not per row')
end;

select * from finish();
rollback;
