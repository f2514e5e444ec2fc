-- 27_worker_fast_path.sql — what migration 20250101000500_worker_fast_path changed, and
-- that the rules it must keep still hold.
--
--   * tasks keeps its claim and lease indexes (partial) and loses the plain status and
--     (user_id, status) indexes; the parent index only holds tasks that have a parent;
--   * signed-in users: the task guard fires on every insert and update as before (an update
--     of any column of a cleanup task by a non-admin is refused, bad parameters refused);
--   * the service connection (the worker, postgres): the guard still validates inserts and
--     updates that set the parameters, the type, the recurrence, the schedule or the title
--     (the title trimmed, run_after follows scheduled_at), and does not fire for the
--     worker's bookkeeping;
--   * the audit trail still records what people do (a cancel by its owner) and nothing of
--     the worker's status writes.
begin;
select plan(21);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif who = 'alice' then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      '{"sub": "22222222-2222-4222-8222-222222222222", "role": "authenticated", "aud": "authenticated", "email": "alice@taskdeck.dev"}', true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
select has_index('public', 'tasks', 'tasks_claim_idx', 'the claim index is there');
select has_index('public', 'tasks', 'tasks_lease_idx', 'the lease (rescue) index is there');
select hasnt_index('public', 'tasks', 'tasks_status_idx', 'no plain index on tasks.status');
select hasnt_index('public', 'tasks', 'tasks_user_status_idx', 'no (user_id, status) index');
select is(
  (select pg_get_expr(indpred, indrelid) from pg_index
    where indexrelid = 'public.tasks_parent_task_id_idx'::regclass),
  '(parent_task_id IS NOT NULL)',
  'the parent index holds only tasks that have a parent'
);

-- ---------------------------------------------------------------------------------------
-- The guard, for signed-in users: every insert and update
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
insert into public.tasks (id, user_id, title, type, parameters)
values ('27000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
        'cleanup owned by alice', 'cleanup', '{}');

select pg_temp.login_as('alice');
select throws_ok(
  $$update public.tasks set priority = 'high' where id = '27000000-0000-4000-8000-000000000001'$$,
  '42501', 'Only administrators can create cleanup tasks',
  'a user''s update of a column the service guard does not watch (priority) is still checked'
);
select throws_ok(
  $$insert into public.tasks (title, type, parameters) values ('x', 'http_request', '{"url": "ftp://example.com"}')$$,
  '23514', null,
  'a user''s task with bad parameters is refused'
);

-- ---------------------------------------------------------------------------------------
-- The guard, for the service connection: inserts and updates of the watched columns
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select throws_ok(
  $$insert into public.tasks (user_id, title, type, parameters)
    values ('22222222-2222-4222-8222-222222222222', 'x', 'http_request', '{"url": "ftp://example.com"}')$$,
  '23514', null,
  'the service''s insert with bad parameters is refused'
);
insert into public.tasks (id, user_id, title, type, parameters)
values ('27000000-0000-4000-8000-000000000002', '22222222-2222-4222-8222-222222222222',
        '  padded  ', 'http_request', '{"url": "https://example.com", "method": "GET"}');
select is((select title from public.tasks where id = '27000000-0000-4000-8000-000000000002'),
          'padded', 'the service''s insert has its title trimmed');
select throws_ok(
  $$update public.tasks set parameters = '{"url": "ftp://example.com"}'
     where id = '27000000-0000-4000-8000-000000000002'$$,
  '23514', null,
  'the service''s update of the parameters is validated'
);
select throws_ok(
  $$update public.tasks set recurrence = 'every day' where id = '27000000-0000-4000-8000-000000000002'$$,
  '23514', null,
  'the service''s update of the recurrence is validated'
);
update public.tasks set scheduled_at = now() + interval '2 hours'
 where id = '27000000-0000-4000-8000-000000000002';
select ok(
  (select run_after > now() + interval '119 minutes' from public.tasks
    where id = '27000000-0000-4000-8000-000000000002'),
  'the service''s update of scheduled_at moves run_after of a pending task'
);
update public.tasks set title = ' again padded ' where id = '27000000-0000-4000-8000-000000000002';
select is((select title from public.tasks where id = '27000000-0000-4000-8000-000000000002'),
          'again padded', 'the service''s update of the title is trimmed');
select has_trigger('public', 'tasks', 'tasks_guard_service', 'the service guard trigger exists');

-- ---------------------------------------------------------------------------------------
-- The worker's bookkeeping: no guard, no audit; people's actions: audited
-- ---------------------------------------------------------------------------------------
insert into public.tasks (id, user_id, title, type, parameters)
values ('27000000-0000-4000-8000-000000000003', '22222222-2222-4222-8222-222222222222',
        'run by the worker', 'http_request', '{"url": "https://example.com", "method": "GET"}');
create temp table audit_before as
  select count(*) as n from public.audit_logs where record_id = '27000000-0000-4000-8000-000000000003';

select lives_ok(
  $$update public.tasks
       set status = 'running', locked_by = 'w1', locked_until = now() + interval '30 seconds',
           attempts = attempts + 1, started_at = now(), progress = 0
     where id = '27000000-0000-4000-8000-000000000003'$$,
  'the worker claims a task'
);
select lives_ok(
  $$update public.tasks
       set status = 'completed', progress = 100, result = '{}', completed_at = now(),
           locked_by = null, locked_until = null
     where id = '27000000-0000-4000-8000-000000000003'$$,
  'the worker completes it'
);
select is(
  (select count(*) from public.audit_logs where record_id = '27000000-0000-4000-8000-000000000003'),
  (select n from audit_before),
  'the worker''s status writes leave no audit entry'
);

select pg_temp.login_as('alice');
select lives_ok(
  $$select public.cancel_task('27000000-0000-4000-8000-000000000002')$$,
  'alice cancels her pending task'
);
select pg_temp.login_as('postgres');
select is(
  (select actor_id from public.audit_logs
    where record_id = '27000000-0000-4000-8000-000000000002' and action = 'task.cancelled'),
  '22222222-2222-4222-8222-222222222222'::uuid,
  'the cancel is audited with alice as the actor'
);
select is(
  (select count(*)::int from public.audit_logs
    where record_id = '27000000-0000-4000-8000-000000000002' and action = 'task.created'),
  0,
  'a task the service created (no caller) is not audited'
);
select is(
  (select count(*)::int from public.audit_logs where action = 'task.updated'
      and record_id in ('27000000-0000-4000-8000-000000000001', '27000000-0000-4000-8000-000000000002')),
  0,
  'refused and service updates left no task.updated entry'
);

select * from finish();
rollback;
