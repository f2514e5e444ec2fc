-- 34_run_texts.sql — the worker's words as codes (migration 20250101001400_run_texts).
--
-- * the four text columns exist, and each refuses a value that is not `{"code": …}`;
-- * the owner reads the texts of their own task's log, attempt and error; another user
--   sees none of those rows;
-- * cancel_task writes its reason as a code beside the English: `cancelled_by_you` for the
--   owner, `cancelled_by_admin` for an administrator.
begin;
select plan(13);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
    when 'bob' then '33333333-3333-4333-8333-333333333333'
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif v_sub is not null then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'aal', 'aal2', 'email', who || '@taskdeck.dev')::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

select has_column('public', 'execution_logs', 'message_text', 'execution_logs.message_text exists');
select has_column('public', 'task_executions', 'error_text', 'task_executions.error_text exists');
select has_column('public', 'tasks', 'error_text', 'tasks.error_text exists');
select has_column('public', 'tasks', 'last_error_text', 'tasks.last_error_text exists');

-- A failed task of alice's, as the worker writes it.
insert into public.tasks (id, user_id, title, type, parameters, status, error_message, error_text)
values ('a0000000-0000-4000-8000-000000000034', '22222222-2222-4222-8222-222222222222',
        'Run texts', 'http_request', '{"url": "https://example.com", "method": "GET"}', 'failed',
        'The server answered 404 Not Found',
        '{"code": "http_answered", "args": {"status": 404, "reason": "Not Found"}}');
insert into public.task_executions (id, task_id, attempt, worker_id, status, error_message, error_text)
values ('e0000000-0000-4000-8000-000000000034', 'a0000000-0000-4000-8000-000000000034', 1, 'w1',
        'failed', 'The server answered 404 Not Found',
        '{"code": "http_answered", "args": {"status": 404, "reason": "Not Found"}}');
insert into public.execution_logs (execution_id, task_id, level, message, message_text)
values ('e0000000-0000-4000-8000-000000000034', 'a0000000-0000-4000-8000-000000000034', 'info',
        'Sending GET https://example.com',
        '{"code": "http_sending", "args": {"method": "GET", "url": "https://example.com"}}');

select throws_ok($$update public.execution_logs set message_text = '{"args": {}}'
  where task_id = 'a0000000-0000-4000-8000-000000000034'$$,
  '23514', null, 'a log text without a code is refused');
select throws_ok($$update public.tasks set error_text = '"Failed"'
  where id = 'a0000000-0000-4000-8000-000000000034'$$,
  '23514', null, 'an error text that is not an object with a code is refused');

select pg_temp.login_as('alice');
select is((select message_text ->> 'code' from public.execution_logs
            where task_id = 'a0000000-0000-4000-8000-000000000034'), 'http_sending',
  'the owner reads the code of their log line');
select is((select error_text -> 'args' ->> 'status' from public.task_executions
            where task_id = 'a0000000-0000-4000-8000-000000000034'), '404',
  'the owner reads the values of their attempt''s error');
select is((select error_text ->> 'code' from public.tasks
            where id = 'a0000000-0000-4000-8000-000000000034'), 'http_answered',
  'the owner reads the code of their task''s error');

select pg_temp.login_as('bob');
select is((select count(*)::int from public.execution_logs
            where task_id = 'a0000000-0000-4000-8000-000000000034')
          + (select count(*)::int from public.task_executions
            where task_id = 'a0000000-0000-4000-8000-000000000034')
          + (select count(*)::int from public.tasks
            where id = 'a0000000-0000-4000-8000-000000000034'), 0,
  'another user reads none of those texts');

-- Cancelling: by the owner, then (another task) by an administrator.
select pg_temp.login_as('postgres');
insert into public.tasks (id, user_id, title, type, parameters)
values ('a0000000-0000-4000-8000-000000000035', '22222222-2222-4222-8222-222222222222',
        'Cancel me', 'http_request', '{"url": "https://example.com", "method": "GET"}'),
       ('a0000000-0000-4000-8000-000000000036', '22222222-2222-4222-8222-222222222222',
        'Cancel me too', 'http_request', '{"url": "https://example.com", "method": "GET"}');

select pg_temp.login_as('alice');
select is((select (error_message, error_text)::text
             from public.cancel_task('a0000000-0000-4000-8000-000000000035')),
  ('Cancelled by you', '{"code": "cancelled_by_you"}'::jsonb)::text,
  'the owner''s cancellation is written as cancelled_by_you beside its English');

select pg_temp.login_as('admin');
select is((select error_text ->> 'code'
             from public.cancel_task('a0000000-0000-4000-8000-000000000036')),
  'cancelled_by_admin', 'an administrator''s cancellation is written as cancelled_by_admin');
select pg_temp.login_as('alice');
select is((select error_message from public.tasks where id = 'a0000000-0000-4000-8000-000000000036'),
  'Cancelled by an administrator', 'and its English is unchanged');

select * from finish();
rollback;
