-- 21_cancel_retry.sql — the cancel_task and retry_task RPCs, and the audit rows they leave.
--
-- Proves:
--   * cancel_task cancels one's own pending or running task ("Cancelled by you"; a running
--     task keeps its lease so its worker stops it), refuses another user's or a missing task
--     with PT404 "Task not found", and a finished one with P0001;
--   * the cancellation is in the audit trail with actor = alice (written by the trigger);
--   * retry_task puts one's own failed or cancelled task back to pending with attempts,
--     progress, error and timestamps reset; refuses another user's task (PT404), a task that
--     is not failed/cancelled (P0001) and one whose worker still holds the lease (P0001);
--   * an admin can cancel and retry anyone's task ("Cancelled by an administrator");
--   * anon cannot call either function (42501).
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

-- A task of alice's that a worker is running, and one that failed but whose worker still
-- holds the lease.
insert into public.tasks (id, user_id, title, type, parameters, status, started_at, attempts, locked_by, locked_until)
values ('a3000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'Running export', 'data_export',
        '{"dataset":"tasks","format":"csv"}', 'running', now(), 1, 'test-worker', now() + interval '1 minute'),
       ('a3000000-0000-4000-8000-000000000002', '22222222-2222-4222-8222-222222222222', 'Stopping export', 'data_export',
        '{"dataset":"tasks","format":"csv"}', 'failed', now(), 3, 'test-worker', now() + interval '1 minute');

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select public.cancel_task('a0000000-0000-4000-8000-000000000003')$$,
                 '42501', 'permission denied for function cancel_task', 'anon cannot call cancel_task (42501)');
select throws_ok($$select public.retry_task('a0000000-0000-4000-8000-000000000002')$$,
                 '42501', 'permission denied for function retry_task', 'anon cannot call retry_task (42501)');

-- ---------------------------------------------------------------------------------------
-- alice cancels
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select results_eq(
  $$select id, status, error_message, completed_at is not null from public.cancel_task('a0000000-0000-4000-8000-000000000003')$$,
  $$values ('a0000000-0000-4000-8000-000000000003'::uuid, 'cancelled'::text, 'Cancelled by you'::text, true)$$,
  'alice can cancel her own pending task; it comes back cancelled, "Cancelled by you"'
);
select results_eq(
  $$select actor_id, subject_user_id, table_name, old_data, new_data
      from public.audit_logs where action = 'task.cancelled' and record_id = 'a0000000-0000-4000-8000-000000000003'$$,
  $$values ('22222222-2222-4222-8222-222222222222'::uuid, '22222222-2222-4222-8222-222222222222'::uuid, 'tasks'::text,
            '{"status":"pending"}'::jsonb, '{"status":"cancelled"}'::jsonb)$$,
  'the cancellation left an audit row with actor alice, from pending to cancelled'
);
select throws_ok($$select public.cancel_task('b0000000-0000-4000-8000-000000000002')$$,
                 'PT404', 'Task not found', 'alice cannot cancel bob''s task (PT404 Task not found)');
select throws_ok($$select public.cancel_task('00000000-0000-4000-8000-000000000000')$$,
                 'PT404', 'Task not found', 'cancelling a task that does not exist gives PT404 Task not found');
select throws_ok($$select public.cancel_task('a0000000-0000-4000-8000-000000000001')$$,
                 'P0001', 'Only a pending or running task can be cancelled; this one is completed',
                 'alice cannot cancel her completed task (P0001)');
select throws_ok($$select public.cancel_task('a0000000-0000-4000-8000-000000000003')$$,
                 'P0001', 'Only a pending or running task can be cancelled; this one is cancelled',
                 'alice cannot cancel the same task twice (P0001)');
select results_eq(
  $$select status, locked_by from public.cancel_task('a3000000-0000-4000-8000-000000000001')$$,
  $$values ('cancelled'::text, 'test-worker'::text)$$,
  'alice can cancel her running task; the worker keeps its lease until it stops'
);

-- ---------------------------------------------------------------------------------------
-- alice retries
-- ---------------------------------------------------------------------------------------
select results_eq(
  $$select status, attempts, progress, error_message, result, started_at, completed_at, locked_by
      from public.retry_task('a0000000-0000-4000-8000-000000000002')$$,
  $$values ('pending'::text, 0, 0, null::text, null::jsonb, null::timestamptz, null::timestamptz, null::text)$$,
  'alice can retry her failed task: pending again, attempts, progress, error and times reset'
);
select ok((select run_after <= now() from public.tasks where id = 'a0000000-0000-4000-8000-000000000002'),
          'the retried task is runnable at once');
select results_eq(
  $$select actor_id, old_data, new_data from public.audit_logs
     where action = 'task.retried' and record_id = 'a0000000-0000-4000-8000-000000000002'$$,
  $$values ('22222222-2222-4222-8222-222222222222'::uuid, '{"status":"failed"}'::jsonb, '{"status":"pending"}'::jsonb)$$,
  'the retry left an audit row with actor alice'
);
select is((select status from public.retry_task('a0000000-0000-4000-8000-000000000004')), 'pending',
          'alice can retry her cancelled task');
select throws_ok($$select public.retry_task('b0000000-0000-4000-8000-000000000001')$$,
                 'PT404', 'Task not found', 'alice cannot retry bob''s task (PT404 Task not found)');
select throws_ok($$select public.retry_task('a0000000-0000-4000-8000-000000000002')$$,
                 'P0001', 'Only a failed or cancelled task can be retried; this one is pending',
                 'alice cannot retry a task that is already pending (P0001)');
select throws_ok($$select public.retry_task('a0000000-0000-4000-8000-000000000001')$$,
                 'P0001', 'Only a failed or cancelled task can be retried; this one is completed',
                 'alice cannot retry her completed task (P0001)');
select throws_ok($$select public.retry_task('a3000000-0000-4000-8000-000000000002')$$,
                 'P0001', 'This task is still stopping; try again in a few seconds',
                 'alice cannot retry a failed task whose worker still holds the lease (P0001)');

-- ---------------------------------------------------------------------------------------
-- bob cannot act on alice's tasks
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select throws_ok($$select public.cancel_task('a0000000-0000-4000-8000-000000000002')$$,
                 'PT404', 'Task not found', 'bob cannot cancel alice''s pending task (PT404)');
select throws_ok($$select public.retry_task('a0000000-0000-4000-8000-000000000003')$$,
                 'PT404', 'Task not found', 'bob cannot retry alice''s cancelled task (PT404)');

-- ---------------------------------------------------------------------------------------
-- admin acts on anyone's task
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select results_eq(
  $$select status, error_message from public.cancel_task('b0000000-0000-4000-8000-000000000002')$$,
  $$values ('cancelled'::text, 'Cancelled by an administrator'::text)$$,
  'admin can cancel bob''s pending task, "Cancelled by an administrator"'
);
select results_eq(
  $$select actor_id, subject_user_id from public.audit_logs
     where action = 'task.cancelled' and record_id = 'b0000000-0000-4000-8000-000000000002'$$,
  $$values ('11111111-1111-4111-8111-111111111111'::uuid, '33333333-3333-4333-8333-333333333333'::uuid)$$,
  'the admin''s cancellation is audited with the admin as actor and bob as subject'
);
select is((select status from public.retry_task('b0000000-0000-4000-8000-000000000002')), 'pending',
          'admin can retry bob''s cancelled task');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select id, status from public.tasks where user_id <> '11111111-1111-4111-8111-111111111111' order by id$$,
  $$values ('a0000000-0000-4000-8000-000000000001'::uuid, 'completed'::text),
           ('a0000000-0000-4000-8000-000000000002', 'pending'),
           ('a0000000-0000-4000-8000-000000000003', 'cancelled'),
           ('a0000000-0000-4000-8000-000000000004', 'pending'),
           ('a3000000-0000-4000-8000-000000000001', 'cancelled'),
           ('a3000000-0000-4000-8000-000000000002', 'failed'),
           ('b0000000-0000-4000-8000-000000000001', 'completed'),
           ('b0000000-0000-4000-8000-000000000002', 'pending')$$,
  'every task ended in the state the allowed calls put it in, and the refused calls changed nothing'
);

select * from finish();
rollback;
