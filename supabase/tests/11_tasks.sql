-- 11_tasks.sql — RLS matrix of public.tasks.
--
-- For anon, alice (user A), bob (user B), admin and service_role, each of SELECT / INSERT /
-- UPDATE / DELETE is asserted allowed or denied ("0 rows" = RLS hides the row silently,
-- "42501" = the statement is refused):
--   * anon: every operation refused with 42501;
--   * alice / bob: read only their own tasks; insert tasks only for themselves (naming
--     another user_id: 42501 from the policy; naming their own is accepted, see
--     28b_own_user_id.sql); edit their own pending tasks, not another user's (0 rows);
--     delete their own finished tasks, not another user's (0 rows);
--   * admin: reads every task; creates their own; cannot edit another user's task (0 rows);
--     can delete another user's task that is not running;
--   * service_role: full access.
-- The rules on status, progress, running tasks and parameters are in 20_task_rules.sql.
begin;
select plan(31);

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
select throws_ok($$select * from public.tasks$$, '42501', 'permission denied for table tasks',
                 'anon cannot read tasks (42501)');
select throws_ok($$insert into public.tasks (title, type, parameters) values ('x', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                 '42501', 'permission denied for table tasks', 'anon cannot insert a task (42501)');
select throws_ok($$update public.tasks set title = 'anon was here'$$, '42501', 'permission denied for table tasks',
                 'anon cannot update tasks (42501)');
select throws_ok($$delete from public.tasks$$, '42501', 'permission denied for table tasks',
                 'anon cannot delete tasks (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select set_eq($$select id from public.tasks$$,
              $$values ('a0000000-0000-4000-8000-000000000001'::uuid), ('a0000000-0000-4000-8000-000000000002'),
                       ('a0000000-0000-4000-8000-000000000003'), ('a0000000-0000-4000-8000-000000000004')$$,
              'alice reads her four tasks and nothing else');
select is((select count(*)::int from public.tasks where user_id = '33333333-3333-4333-8333-333333333333'), 0,
          'alice cannot read bob''s tasks (0 rows visible)');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters)
                              values ('Alice export', 'data_export',
                                      '{"dataset":"events","format":"json"}')$$), 1,
          'alice can create a task (1 row)');
select is((select user_id from public.tasks where title = 'Alice export'),
          '22222222-2222-4222-8222-222222222222'::uuid,
          'alice''s new task belongs to her (user_id defaults to auth.uid())');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('33333333-3333-4333-8333-333333333333', 'For bob', 'data_export', '{"dataset":"events","format":"json"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'alice cannot create a task for bob (42501 from the policy: user_id must be hers)');
select is(pg_temp.affected($$update public.tasks set title = 'Weekly KPIs', priority = 'high'
                              where id = 'a0000000-0000-4000-8000-000000000003'$$), 1,
          'alice can edit her own pending task (1 row)');
select is(pg_temp.affected($$update public.tasks set title = 'Hijacked' where id = 'b0000000-0000-4000-8000-000000000002'$$), 0,
          'alice cannot edit bob''s pending task (0 rows)');
select is(pg_temp.affected($$delete from public.tasks where id = 'a0000000-0000-4000-8000-000000000004'$$), 1,
          'alice can delete her own cancelled task (1 row)');
select is(pg_temp.affected($$delete from public.tasks where id = 'b0000000-0000-4000-8000-000000000001'$$), 0,
          'alice cannot delete bob''s task (0 rows)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select set_eq($$select id from public.tasks$$,
              $$values ('b0000000-0000-4000-8000-000000000001'::uuid), ('b0000000-0000-4000-8000-000000000002')$$,
              'bob reads his two tasks and nothing else');
select is((select count(*)::int from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'), 0,
          'bob cannot read alice''s tasks, old or new (0 rows visible)');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters, priority)
                              values ('Bob ping', 'http_request',
                                      '{"method":"GET","url":"https://example.com/health"}', 'low')$$), 1,
          'bob can create a task (1 row)');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('22222222-2222-4222-8222-222222222222', 'For alice', 'data_export', '{"dataset":"events","format":"json"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'bob cannot create a task for alice (42501 from the policy)');
select is(pg_temp.affected($$update public.tasks set priority = 'urgent' where id = 'b0000000-0000-4000-8000-000000000002'$$), 1,
          'bob can edit his own pending task (1 row)');
select is(pg_temp.affected($$update public.tasks set title = 'Hijacked' where id = 'a0000000-0000-4000-8000-000000000003'$$), 0,
          'bob cannot edit alice''s pending task (0 rows)');
select is(pg_temp.affected($$delete from public.tasks where id = 'b0000000-0000-4000-8000-000000000001'$$), 1,
          'bob can delete his own completed task (1 row)');
select is(pg_temp.affected($$delete from public.tasks where id = 'a0000000-0000-4000-8000-000000000001'$$), 0,
          'bob cannot delete alice''s task (0 rows)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select set_eq($$select title from public.tasks$$,
              array['Q3 revenue report', 'Ping the CRM webhook', 'Weekly KPIs', 'Alice export',
                    'Import March events', 'Bob ping', 'Nightly cleanup'],
              'admin reads every user''s tasks');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters)
                              values ('Weekly cleanup', 'cleanup', '{"retentionDays":30}')$$), 1,
          'admin can create a task, even a cleanup (1 row)');
select is(pg_temp.affected($$update public.tasks set title = 'Nightly cleanup (v2)' where id = 'c0000000-0000-4000-8000-000000000001'$$), 1,
          'admin can edit their own pending task (1 row)');
select is(pg_temp.affected($$update public.tasks set priority = 'low' where id = 'b0000000-0000-4000-8000-000000000002'$$), 0,
          'admin cannot edit bob''s task (0 rows; admins cancel or delete, they do not rewrite)');
select is(pg_temp.affected($$delete from public.tasks where id = 'b0000000-0000-4000-8000-000000000002'$$), 1,
          'admin can delete bob''s pending task (1 row)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.tasks), 7, 'service_role reads every task');
select is(pg_temp.affected($$insert into public.tasks (id, user_id, title, type, parameters, status, started_at)
                              values ('a2000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
                                      'Started by the service', 'data_export', '{"dataset":"tasks","format":"csv"}',
                                      'running', now())$$), 1,
          'service_role can insert a task for any user, in any status (1 row)');
select is(pg_temp.affected($$update public.tasks set status = 'completed', progress = 100, completed_at = now()
                              where id = 'a2000000-0000-4000-8000-000000000001'$$), 1,
          'service_role can update any task, status and progress included (1 row)');
select is(pg_temp.affected($$delete from public.tasks where title = 'Bob ping'$$), 1,
          'service_role can delete any task (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select user_id, title, priority, status from public.tasks order by user_id, title$$,
  $$values ('11111111-1111-4111-8111-111111111111'::uuid, 'Nightly cleanup (v2)'::text, 'low'::text, 'pending'::text),
           ('11111111-1111-4111-8111-111111111111', 'Weekly cleanup', 'medium', 'pending'),
           ('22222222-2222-4222-8222-222222222222', 'Alice export', 'medium', 'pending'),
           ('22222222-2222-4222-8222-222222222222', 'Ping the CRM webhook', 'medium', 'failed'),
           ('22222222-2222-4222-8222-222222222222', 'Q3 revenue report', 'high', 'completed'),
           ('22222222-2222-4222-8222-222222222222', 'Started by the service', 'medium', 'completed'),
           ('22222222-2222-4222-8222-222222222222', 'Weekly KPIs', 'high', 'pending')$$,
  'exactly the allowed inserts, edits and deletes landed, and none of the denied ones'
);

select * from finish();
rollback;
