-- 18_system_settings.sql — RLS matrix of public.system_settings.
--
-- Every signed-in user reads the settings; only admins change them. For anon, alice, bob,
-- admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read every setting; INSERT refused by the policy (42501, "new row violates
--     row-level security policy"); UPDATE and DELETE see no row to change (0 rows);
--   * admin: read, insert, update and delete allowed, with updated_by set to the admin;
--   * service_role: full access.
begin;
select plan(22);

-- Identity switch, done exactly as PostgREST does it: set_config('role', …, true) and the
-- JWT claims in request.jwt.claims, both local to this transaction. 'postgres' goes back
-- to the session user with no claims (for setup and for checking effects).
create function pg_temp.login_as(who text) returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
    when 'bob' then '33333333-3333-4333-8333-333333333333'
    else case when who ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then who end
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif who = 'anon' then
    perform set_config('role', 'anon', true);
    perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  elsif who = 'service_role' then
    perform set_config('role', 'service_role', true);
    perform set_config('request.jwt.claims', '{"role":"service_role"}', true);
  elsif v_sub is not null then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'email', case when who ~ '^[a-z]+$' then who || '@taskdeck.dev' end)::text, true);
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

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.system_settings$$, '42501', 'permission denied for table system_settings',
                 'anon cannot read settings (42501)');
select throws_ok($$insert into public.system_settings (key, value) values ('anon_key', '1')$$,
                 '42501', 'permission denied for table system_settings', 'anon cannot insert a setting (42501)');
select throws_ok($$update public.system_settings set value = '1'$$, '42501', 'permission denied for table system_settings',
                 'anon cannot update settings (42501)');
select throws_ok($$delete from public.system_settings$$, '42501', 'permission denied for table system_settings',
                 'anon cannot delete settings (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select set_eq($$select key from public.system_settings$$,
              array['currency', 'log_retention_days', 'task_retention_days', 'default_max_attempts',
                    'http_request_max_response_bytes', 'maintenance_banner', 'password_min_length',
                    'require_mfa_for_admins'],
              'alice reads every setting');
select throws_ok($$insert into public.system_settings (key, value) values ('alice_flag', 'true')$$,
                 '42501', 'new row violates row-level security policy for table "system_settings"',
                 'alice cannot add a setting (42501 from the policy)');
select is(pg_temp.affected($$update public.system_settings set value = '1' where key = 'log_retention_days'$$), 0,
          'alice cannot change a setting (0 rows)');
select is(pg_temp.affected($$delete from public.system_settings where key = 'maintenance_banner'$$), 0,
          'alice cannot delete a setting (0 rows)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select is((select count(*)::int from public.system_settings), 8, 'bob reads every setting');
select throws_ok($$insert into public.system_settings (key, value) values ('bob_flag', 'true')$$,
                 '42501', 'new row violates row-level security policy for table "system_settings"',
                 'bob cannot add a setting (42501 from the policy)');
select is(pg_temp.affected($$update public.system_settings set value = '"hi"' where key = 'maintenance_banner'$$), 0,
          'bob cannot change a setting (0 rows)');
select is(pg_temp.affected($$delete from public.system_settings$$), 0, 'bob cannot delete settings (0 rows)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.system_settings), 8, 'admin reads every setting');
select is(pg_temp.affected($$insert into public.system_settings (key, value, description)
                              values ('signups_open', 'true', 'Whether new accounts may register.')$$), 1,
          'admin can add a setting (1 row)');
select is(pg_temp.affected($$update public.system_settings set value = '14' where key = 'log_retention_days'$$), 1,
          'admin can change a setting (1 row)');
select is((select updated_by from public.system_settings where key = 'log_retention_days'),
          '11111111-1111-4111-8111-111111111111'::uuid, 'the changed setting records the admin as updated_by');
select is(pg_temp.affected($$delete from public.system_settings where key = 'maintenance_banner'$$), 1,
          'admin can delete a setting (1 row)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.system_settings), 8, 'service_role reads every setting');
select is(pg_temp.affected($$insert into public.system_settings (key, value) values ('worker_poll_secs', '5')$$), 1,
          'service_role can add a setting (1 row)');
select is(pg_temp.affected($$update public.system_settings set value = '60' where key = 'task_retention_days'$$), 1,
          'service_role can change a setting (1 row)');
select is(pg_temp.affected($$delete from public.system_settings where key = 'signups_open'$$), 1,
          'service_role can delete a setting (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq($$select key, value from public.system_settings order by key$$,
                  $$values ('currency'::text, '"IDR"'::jsonb), ('default_max_attempts', '3'), ('http_request_max_response_bytes', '1048576'),
                           ('log_retention_days', '14'), ('password_min_length', '8'), ('require_mfa_for_admins', 'false'), ('task_retention_days', '60'),
                           ('worker_poll_secs', '5')$$,
                  'only the admin''s and service_role''s changes landed');

select * from finish();
rollback;
