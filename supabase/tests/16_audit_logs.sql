-- 16_audit_logs.sql — RLS matrix of public.audit_logs.
--
-- The audit trail is written only by triggers (SECURITY DEFINER); users read the rows where
-- they are the actor or the subject, admins read all. For anon, alice, bob, admin and
-- service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read their own trail only (another user's rows: 0 visible); INSERT, UPDATE
--     and DELETE refused with 42501 — nobody can forge, rewrite or erase an entry;
--   * admin: reads every row; INSERT / UPDATE / DELETE refused with 42501;
--   * service_role: reads all and may append; nobody updates or deletes (append-only).
-- The trail rows come from real actions below (profile edit, task creation, setting change,
-- role change), which also proves the triggers record actor and subject.
begin;
select plan(25);

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

select is((select count(*)::int from public.audit_logs), 0, 'the seed leaves the audit trail empty (it ran without a JWT)');

-- Actions that leave a trail.
select pg_temp.login_as('alice');
update public.profiles set name = 'Alice A.' where id = '22222222-2222-4222-8222-222222222222';
select pg_temp.login_as('bob');
insert into public.tasks (title, type, parameters) values ('Bob export', 'data_export', '{"dataset":"tasks","format":"csv"}');
select pg_temp.login_as('admin');
update public.system_settings set value = '"Maintenance tonight"' where key = 'maintenance_banner';
select from public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest');

select pg_temp.login_as('postgres');
select results_eq(
  $$select actor_id, subject_user_id, action, table_name from public.audit_logs order by id$$,
  $$values ('22222222-2222-4222-8222-222222222222'::uuid, '22222222-2222-4222-8222-222222222222'::uuid, 'profile.updated'::text, 'profiles'::text),
           ('33333333-3333-4333-8333-333333333333', '33333333-3333-4333-8333-333333333333', 'task.created', 'tasks'),
           ('11111111-1111-4111-8111-111111111111', null, 'setting.update', 'system_settings'),
           ('11111111-1111-4111-8111-111111111111', '33333333-3333-4333-8333-333333333333', 'profile.role_changed', 'profiles')$$,
  'the triggers recorded each action with its actor and subject'
);

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.audit_logs$$, '42501', 'permission denied for table audit_logs',
                 'anon cannot read the audit trail (42501)');
select throws_ok($$insert into public.audit_logs (action, table_name) values ('forged', 'tasks')$$,
                 '42501', 'permission denied for table audit_logs', 'anon cannot insert an audit row (42501)');
select throws_ok($$update public.audit_logs set action = 'forged'$$, '42501', 'permission denied for table audit_logs',
                 'anon cannot update audit rows (42501)');
select throws_ok($$delete from public.audit_logs$$, '42501', 'permission denied for table audit_logs',
                 'anon cannot delete audit rows (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select results_eq($$select action from public.audit_logs$$, $$values ('profile.updated'::text)$$,
                  'alice reads her own trail: the one row where she is actor or subject');
select is((select count(*)::int from public.audit_logs
            where actor_id is distinct from '22222222-2222-4222-8222-222222222222'
              and subject_user_id is distinct from '22222222-2222-4222-8222-222222222222'), 0,
          'alice cannot read bob''s or the admin''s audit rows (0 rows visible)');
select throws_ok($$insert into public.audit_logs (actor_id, subject_user_id, action, table_name)
                   values ('33333333-3333-4333-8333-333333333333', '33333333-3333-4333-8333-333333333333', 'task.deleted', 'tasks')$$,
                 '42501', 'permission denied for table audit_logs', 'alice cannot forge an audit row (42501)');
select throws_ok($$update public.audit_logs set action = 'nothing' where actor_id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table audit_logs', 'alice cannot rewrite her own audit rows (42501)');
select throws_ok($$delete from public.audit_logs where actor_id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table audit_logs', 'alice cannot erase her own audit rows (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select set_eq($$select action from public.audit_logs$$, array['task.created', 'profile.role_changed'],
              'bob reads his own trail, including the admin''s change of his role (he is its subject)');
select is((select count(*)::int from public.audit_logs where actor_id = '22222222-2222-4222-8222-222222222222'
                                                          or table_name = 'system_settings'), 0,
          'bob cannot read alice''s audit rows nor the admin''s settings changes (0 rows visible)');
select throws_ok($$insert into public.audit_logs (action, table_name) values ('forged', 'tasks')$$,
                 '42501', 'permission denied for table audit_logs', 'bob cannot insert an audit row (42501)');
select throws_ok($$update public.audit_logs set new_data = '{}'$$,
                 '42501', 'permission denied for table audit_logs', 'bob cannot update audit rows (42501)');
select throws_ok($$delete from public.audit_logs$$,
                 '42501', 'permission denied for table audit_logs', 'bob cannot delete audit rows (42501)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.audit_logs), 4, 'admin reads the whole audit trail');
select throws_ok($$insert into public.audit_logs (actor_id, action, table_name)
                   values ('11111111-1111-4111-8111-111111111111', 'forged', 'tasks')$$,
                 '42501', 'permission denied for table audit_logs', 'admin cannot insert an audit row by hand (42501)');
select throws_ok($$update public.audit_logs set action = 'hidden' where actor_id = '11111111-1111-4111-8111-111111111111'$$,
                 '42501', 'permission denied for table audit_logs', 'admin cannot rewrite audit rows, not even their own (42501)');
select throws_ok($$delete from public.audit_logs where actor_id = '11111111-1111-4111-8111-111111111111'$$,
                 '42501', 'permission denied for table audit_logs', 'admin cannot erase audit rows, not even their own (42501)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.audit_logs), 4, 'service_role reads the whole audit trail');
select is(pg_temp.affected($$insert into public.audit_logs (action, table_name, record_id) values ('system.note', 'tasks', 'x')$$), 1,
          'service_role can insert an audit row (1 row; the trusted backend key has every privilege)');
select throws_ok($$update public.audit_logs set record_id = 'y' where action = 'system.note'$$, '42501', null,
          'service_role cannot update an audit row: the trail is append-only (42501)');
select throws_ok($$delete from public.audit_logs where action = 'system.note'$$, '42501', null,
          'service_role cannot delete an audit row: the trail is append-only (42501)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq($$select action from public.audit_logs order by id$$,
                  $$values ('profile.updated'::text), ('task.created'), ('setting.update'), ('profile.role_changed'), ('system.note')$$,
                  'the trail holds the four trigger-written rows and the service key''s note, unchanged');

select * from finish();
rollback;
