-- 22_admin_rpcs.sql — admin_list_users, admin_set_role, admin_set_active, admin_overview.
--
-- Proves:
--   * anon cannot call them (42501, no EXECUTE); alice and bob are refused with 42501
--     "Only administrators can do this";
--   * for the admin they work: listing with counts, search and paging; changing a role (also
--     written to auth.users app_metadata and audited); the overview numbers;
--   * the admin cannot change their own role nor deactivate themselves (P0001), bad roles
--     and unknown users are refused;
--   * admin_set_active(false) bans the auth user (banned_until = infinity), ends their
--     sessions, and the deactivated user can no longer create tasks or events (42501 from
--     the policies), nor re-queue (retry_task) or rewrite a pending task; reactivating
--     lifts the ban;
--   * a user promoted to admin gains the RPCs, and loses them when deactivated.
begin;
select plan(39);

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

-- A live session of alice's, which deactivation must end.
insert into auth.sessions (id, user_id, created_at, updated_at, aal)
values ('5e550000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', now(), now(), 'aal1');

-- ---------------------------------------------------------------------------------------
-- anon, alice and bob are refused
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.admin_list_users()$$, '42501', 'permission denied for function admin_list_users',
                 'anon cannot call admin_list_users (42501)');
select throws_ok($$select public.admin_set_role('22222222-2222-4222-8222-222222222222', 'admin')$$,
                 '42501', 'permission denied for function admin_set_role', 'anon cannot call admin_set_role (42501)');
select throws_ok($$select public.admin_set_active('22222222-2222-4222-8222-222222222222', false)$$,
                 '42501', 'permission denied for function admin_set_active', 'anon cannot call admin_set_active (42501)');
select throws_ok($$select public.admin_overview()$$, '42501', 'permission denied for function admin_overview',
                 'anon cannot call admin_overview (42501)');

select pg_temp.login_as('alice');
select is(public.is_admin(), false, 'is_admin() is false for alice');
select throws_ok($$select * from public.admin_list_users()$$, '42501', 'Only administrators can do this',
                 'alice cannot list users (42501)');
select throws_ok($$select public.admin_set_role('22222222-2222-4222-8222-222222222222', 'admin')$$,
                 '42501', 'Only administrators can do this', 'alice cannot make herself admin (42501)');
select throws_ok($$select public.admin_set_active('33333333-3333-4333-8333-333333333333', false)$$,
                 '42501', 'Only administrators can do this', 'alice cannot deactivate bob (42501)');
select throws_ok($$select public.admin_overview()$$, '42501', 'Only administrators can do this',
                 'alice cannot read the admin overview (42501)');

select pg_temp.login_as('bob');
select throws_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'admin')$$,
                 '42501', 'Only administrators can do this', 'bob cannot make himself admin (42501)');
select throws_ok($$select public.admin_set_active('11111111-1111-4111-8111-111111111111', false)$$,
                 '42501', 'Only administrators can do this', 'bob cannot deactivate the admin (42501)');

-- ---------------------------------------------------------------------------------------
-- admin: listing and overview
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is(public.is_admin(), true, 'is_admin() is true for the admin');
select set_eq(
  $$select id, email, role, is_active, task_count, failed_task_count, total_count from public.admin_list_users()$$,
  $$values ('11111111-1111-4111-8111-111111111111'::uuid, 'admin@taskdeck.dev'::text, 'admin'::text, true, 1::bigint, 0::bigint, 3::bigint),
           ('22222222-2222-4222-8222-222222222222', 'alice@taskdeck.dev', 'business_user', true, 4, 1, 3),
           ('33333333-3333-4333-8333-333333333333', 'bob@taskdeck.dev', 'business_user', true, 2, 0, 3)$$,
  'admin lists every user with their task and failed-task counts'
);
select results_eq($$select email, total_count from public.admin_list_users('ALICE')$$,
                  $$values ('alice@taskdeck.dev'::text, 1::bigint)$$,
                  'admin_list_users searches email and name, case-insensitively');
select results_eq($$select email, total_count from public.admin_list_users(null, 1, 2)$$,
                  $$select email, total_count from public.admin_list_users() offset 2 limit 1$$,
                  'admin_list_users pages with limit and offset and still reports the total');
select results_eq(
  $$select (o ->> 'users')::int, (o ->> 'activeUsers')::int, (o ->> 'queueDepth')::int,
           (o -> 'tasksByStatus' ->> 'completed')::int, (o ->> 'liveWorkers')::int
      from public.admin_overview() o$$,
  $$values (3, 3, 3, 2, 0)$$,
  'admin_overview counts users, active users, the queue, tasks by status and live workers'
);

-- ---------------------------------------------------------------------------------------
-- admin: roles
-- ---------------------------------------------------------------------------------------
select is((select role from public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest')), 'guest',
          'admin can make bob a guest');
select throws_ok($$select public.admin_set_role('11111111-1111-4111-8111-111111111111', 'business_user')$$,
                 'P0001', 'You cannot change your own role', 'admin cannot demote themselves (P0001)');
select throws_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'root')$$,
                 'P0001', 'Role must be one of admin, business_user, guest', 'admin cannot set a role that does not exist (P0001)');
select throws_ok($$select public.admin_set_role('99999999-9999-4999-8999-999999999999', 'guest')$$,
                 'PT404', 'User not found', 'admin_set_role on an unknown user gives PT404');
select results_eq(
  $$select actor_id, subject_user_id, old_data, new_data from public.audit_logs where action = 'profile.role_changed'$$,
  $$values ('11111111-1111-4111-8111-111111111111'::uuid, '33333333-3333-4333-8333-333333333333'::uuid,
            '{"role":"business_user"}'::jsonb, '{"role":"guest"}'::jsonb)$$,
  'the role change is audited with the admin as actor and bob as subject'
);

-- ---------------------------------------------------------------------------------------
-- admin: deactivation
-- ---------------------------------------------------------------------------------------
select throws_ok($$select public.admin_set_active('11111111-1111-4111-8111-111111111111', false)$$,
                 'P0001', 'You cannot deactivate your own account', 'admin cannot deactivate themselves (P0001)');
select throws_ok($$select public.admin_set_active('22222222-2222-4222-8222-222222222222', null)$$,
                 'P0001', 'active must be true or false', 'admin_set_active needs true or false (P0001)');
select is((select is_active from public.admin_set_active('22222222-2222-4222-8222-222222222222', false)), false,
          'admin can deactivate alice');
select is((select action from public.audit_logs where subject_user_id = '22222222-2222-4222-8222-222222222222'
            order by id desc limit 1), 'profile.deactivated',
          'the deactivation is audited');

select pg_temp.login_as('postgres');
select is((select banned_until from auth.users where id = '22222222-2222-4222-8222-222222222222'), 'infinity'::timestamptz,
          'deactivating alice bans her auth user (banned_until = infinity)');
select is((select count(*)::int from auth.sessions where user_id = '22222222-2222-4222-8222-222222222222'), 0,
          'deactivating alice ends her sessions');
select is((select raw_app_meta_data ->> 'role' from auth.users where id = '33333333-3333-4333-8333-333333333333'), 'guest',
          'bob''s new role is also in his auth app_metadata');

select pg_temp.login_as('alice');
select throws_ok($$insert into public.tasks (title, type, parameters) values ('After ban', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'deactivated alice can no longer create tasks (42501)');
select throws_ok($$insert into public.business_events (event_type) values ('visit')$$,
                 '42501', 'new row violates row-level security policy for table "business_events"',
                 'deactivated alice can no longer add business events (42501)');
-- Re-queueing or rewriting a task is creating work just as much as inserting one: a
-- deactivated user whose access token has not expired yet must not do either.
select throws_ok($$select public.retry_task('a0000000-0000-4000-8000-000000000002')$$, '42501', null,
                 'deactivated alice cannot re-queue her failed task with retry_task (42501)');
select ok(pg_temp.affected($$update public.tasks set parameters = '{"dateRange":{"start":"2025-01-01","end":"2025-01-31"},"metrics":["visits"],"format":"csv"}'
                             where id = 'a0000000-0000-4000-8000-000000000003'$$) <= 0,
          'deactivated alice cannot rewrite her pending task (refused, or 0 rows)');

select pg_temp.login_as('admin');
select is((select is_active from public.admin_set_active('22222222-2222-4222-8222-222222222222', true)), true,
          'admin can reactivate alice');
select pg_temp.login_as('postgres');
select is((select banned_until from auth.users where id = '22222222-2222-4222-8222-222222222222'), null::timestamptz,
          'reactivating alice lifts the ban');
select pg_temp.login_as('alice');
select lives_ok($$insert into public.tasks (title, type, parameters) values ('After reactivation', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                'reactivated alice can create tasks again');

-- ---------------------------------------------------------------------------------------
-- A second admin: gained with the role, lost with deactivation
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select from public.admin_set_role('33333333-3333-4333-8333-333333333333', 'admin');
select pg_temp.login_as('bob');
select is((select (o ->> 'users')::int from public.admin_overview() o), 3, 'bob, promoted to admin, can read the overview');
select throws_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'business_user')$$,
                 'P0001', 'You cannot change your own role', 'bob, now admin, cannot change his own role either (P0001)');
select pg_temp.login_as('admin');
select from public.admin_set_active('33333333-3333-4333-8333-333333333333', false);
select pg_temp.login_as('bob');
select throws_ok($$select public.admin_overview()$$, '42501', 'Only administrators can do this',
                 'a deactivated admin loses the admin functions (42501)');
select is((select count(*)::int from public.profiles), 1, 'a deactivated admin no longer reads every profile');

select * from finish();
rollback;
