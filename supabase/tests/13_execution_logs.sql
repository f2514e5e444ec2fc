-- 13_execution_logs.sql — RLS matrix of public.execution_logs.
--
-- Logs are written only by the worker and read by the owner of the task and by admins.
-- For anon, alice, bob, admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read the logs of their own tasks only (another user's: 0 rows visible);
--     INSERT / UPDATE / DELETE refused with 42501;
--   * admin: reads every log line; INSERT / UPDATE / DELETE refused with 42501;
--   * service_role: full access.
begin;
select plan(23);

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
select throws_ok($$select * from public.execution_logs$$, '42501', 'permission denied for table execution_logs',
                 'anon cannot read execution logs (42501)');
select throws_ok($$insert into public.execution_logs (execution_id, task_id, message)
                   values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'x')$$,
                 '42501', 'permission denied for table execution_logs', 'anon cannot insert a log line (42501)');
select throws_ok($$update public.execution_logs set message = 'x'$$, '42501', 'permission denied for table execution_logs',
                 'anon cannot update log lines (42501)');
select throws_ok($$delete from public.execution_logs$$, '42501', 'permission denied for table execution_logs',
                 'anon cannot delete log lines (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select is((select count(*)::int from public.execution_logs), 9, 'alice reads the nine log lines of her own tasks');
select is((select count(*)::int from public.execution_logs
            where task_id <> all (array['a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002']::uuid[])), 0,
          'alice cannot read the log lines of bob''s task (0 rows visible)');
select throws_ok($$insert into public.execution_logs (execution_id, task_id, message)
                   values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'forged')$$,
                 '42501', 'permission denied for table execution_logs', 'alice cannot add a log line to her own task (42501)');
select throws_ok($$update public.execution_logs set message = 'rewritten' where task_id = 'a0000000-0000-4000-8000-000000000002'$$,
                 '42501', 'permission denied for table execution_logs', 'alice cannot rewrite her own log lines (42501)');
select throws_ok($$delete from public.execution_logs where task_id = 'a0000000-0000-4000-8000-000000000002'$$,
                 '42501', 'permission denied for table execution_logs', 'alice cannot delete her own log lines (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select is((select count(*)::int from public.execution_logs where task_id = 'b0000000-0000-4000-8000-000000000001'), 2,
          'bob reads the two log lines of his own task');
select is((select count(*)::int from public.execution_logs where task_id <> 'b0000000-0000-4000-8000-000000000001'), 0,
          'bob cannot read the log lines of alice''s tasks (0 rows visible)');
select throws_ok($$insert into public.execution_logs (execution_id, task_id, message)
                   values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'forged')$$,
                 '42501', 'permission denied for table execution_logs', 'bob cannot add a log line to alice''s task (42501)');
select throws_ok($$update public.execution_logs set message = 'rewritten' where task_id = 'a0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table execution_logs', 'bob cannot rewrite alice''s log lines (42501)');
select throws_ok($$delete from public.execution_logs where task_id = 'a0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table execution_logs', 'bob cannot delete alice''s log lines (42501)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.execution_logs), 11, 'admin reads every log line (alice''s nine and bob''s two)');
select throws_ok($$insert into public.execution_logs (execution_id, task_id, message)
                   values ('e0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001', 'x')$$,
                 '42501', 'permission denied for table execution_logs', 'admin cannot insert a log line (42501)');
select throws_ok($$update public.execution_logs set level = 'debug'$$,
                 '42501', 'permission denied for table execution_logs', 'admin cannot update log lines (42501)');
select throws_ok($$delete from public.execution_logs$$,
                 '42501', 'permission denied for table execution_logs', 'admin cannot delete log lines (42501; cleanup tasks do)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.execution_logs), 11, 'service_role reads every log line');
select is(pg_temp.affected($$insert into public.execution_logs (execution_id, task_id, level, message)
                              values ('e0000000-0000-4000-8000-000000000005', 'b0000000-0000-4000-8000-000000000001',
                                      'warn', 'Added by the service')$$), 1,
          'service_role can insert a log line (1 row)');
select is(pg_temp.affected($$update public.execution_logs set level = 'error' where message = 'Added by the service'$$), 1,
          'service_role can update a log line (1 row)');
select is(pg_temp.affected($$delete from public.execution_logs where task_id = 'a0000000-0000-4000-8000-000000000001'$$), 3,
          'service_role can delete log lines (3 rows)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select task_id, count(*)::int from public.execution_logs group by task_id order by task_id$$,
  $$values ('a0000000-0000-4000-8000-000000000002'::uuid, 6), ('b0000000-0000-4000-8000-000000000001'::uuid, 3)$$,
  'only service_role''s insert and delete changed the log'
);

select * from finish();
rollback;
