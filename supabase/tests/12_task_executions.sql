-- 12_task_executions.sql — RLS matrix of public.task_executions.
--
-- Executions are written only by the worker (service key / direct connection) and read by
-- the owner of the task and by admins. For anon, alice, bob, admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read the executions of their own tasks only (another user's: 0 rows
--     visible); INSERT / UPDATE / DELETE refused with 42501, even on their own rows;
--   * admin: reads every execution; INSERT / UPDATE / DELETE refused with 42501;
--   * service_role: full access.
begin;
select plan(24);

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
select throws_ok($$select * from public.task_executions$$, '42501', 'permission denied for table task_executions',
                 'anon cannot read executions (42501)');
select throws_ok($$insert into public.task_executions (task_id, attempt) values ('a0000000-0000-4000-8000-000000000003', 1)$$,
                 '42501', 'permission denied for table task_executions', 'anon cannot insert an execution (42501)');
select throws_ok($$update public.task_executions set status = 'failed'$$, '42501', 'permission denied for table task_executions',
                 'anon cannot update executions (42501)');
select throws_ok($$delete from public.task_executions$$, '42501', 'permission denied for table task_executions',
                 'anon cannot delete executions (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select set_eq($$select id from public.task_executions$$,
              $$values ('e0000000-0000-4000-8000-000000000001'::uuid), ('e0000000-0000-4000-8000-000000000002'),
                       ('e0000000-0000-4000-8000-000000000003'), ('e0000000-0000-4000-8000-000000000004')$$,
              'alice reads the four executions of her own tasks and nothing else');
select is((select count(*)::int from public.task_executions where id = 'e0000000-0000-4000-8000-000000000005'), 0,
          'alice cannot read the execution of bob''s task (0 rows visible)');
select throws_ok($$insert into public.task_executions (task_id, attempt) values ('a0000000-0000-4000-8000-000000000003', 1)$$,
                 '42501', 'permission denied for table task_executions', 'alice cannot insert an execution, even for her own task (42501)');
select throws_ok($$update public.task_executions set status = 'completed' where id = 'e0000000-0000-4000-8000-000000000002'$$,
                 '42501', 'permission denied for table task_executions', 'alice cannot update her own execution (42501)');
select throws_ok($$update public.task_executions set status = 'failed' where id = 'e0000000-0000-4000-8000-000000000005'$$,
                 '42501', 'permission denied for table task_executions', 'alice cannot update bob''s execution (42501)');
select throws_ok($$delete from public.task_executions where id = 'e0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table task_executions', 'alice cannot delete her own execution (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select set_eq($$select id from public.task_executions$$,
              $$values ('e0000000-0000-4000-8000-000000000005'::uuid)$$,
              'bob reads the execution of his own task and nothing else');
select is((select count(*)::int from public.task_executions
            where task_id in ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002')), 0,
          'bob cannot read the executions of alice''s tasks (0 rows visible)');
select throws_ok($$insert into public.task_executions (task_id, attempt) values ('b0000000-0000-4000-8000-000000000002', 1)$$,
                 '42501', 'permission denied for table task_executions', 'bob cannot insert an execution (42501)');
select throws_ok($$update public.task_executions set error_message = 'x' where id = 'e0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table task_executions', 'bob cannot update alice''s execution (42501)');
select throws_ok($$delete from public.task_executions where id = 'e0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table task_executions', 'bob cannot delete alice''s execution (42501)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.task_executions), 5, 'admin reads every execution (alice''s four and bob''s one)');
select throws_ok($$insert into public.task_executions (task_id, attempt) values ('c0000000-0000-4000-8000-000000000001', 1)$$,
                 '42501', 'permission denied for table task_executions', 'admin cannot insert an execution (42501)');
select throws_ok($$update public.task_executions set status = 'failed' where id = 'e0000000-0000-4000-8000-000000000005'$$,
                 '42501', 'permission denied for table task_executions', 'admin cannot update an execution (42501)');
select throws_ok($$delete from public.task_executions where id = 'e0000000-0000-4000-8000-000000000005'$$,
                 '42501', 'permission denied for table task_executions', 'admin cannot delete an execution (42501)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.task_executions), 5, 'service_role reads every execution');
select is(pg_temp.affected($$insert into public.task_executions (id, task_id, attempt, worker_id)
                              values ('e1000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000003', 1, 'test-worker')$$), 1,
          'service_role can insert an execution (1 row)');
select is(pg_temp.affected($$update public.task_executions set status = 'completed', completed_at = now(), duration_ms = 5
                              where id = 'e1000000-0000-4000-8000-000000000001'$$), 1,
          'service_role can update an execution (1 row)');
select is(pg_temp.affected($$delete from public.task_executions where id = 'e0000000-0000-4000-8000-000000000005'$$), 1,
          'service_role can delete an execution (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select id, status from public.task_executions order by id$$,
  $$values ('e0000000-0000-4000-8000-000000000001'::uuid, 'completed'::text),
           ('e0000000-0000-4000-8000-000000000002', 'failed'), ('e0000000-0000-4000-8000-000000000003', 'failed'),
           ('e0000000-0000-4000-8000-000000000004', 'failed'), ('e1000000-0000-4000-8000-000000000001', 'completed')$$,
  'only service_role''s insert, update and delete changed the executions'
);

select * from finish();
rollback;
