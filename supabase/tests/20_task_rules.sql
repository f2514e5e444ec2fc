-- 20_task_rules.sql — what a user may do to a task beyond ownership.
--
-- Proves, as alice (an ordinary user) unless said otherwise:
--   * a task starts pending: the worker's columns (status, progress, attempts, lease, result)
--     and the id cannot be set on insert, nor status / progress / result / type on update
--     (42501 from the column grants); the trigger fills the defaults and trims the title;
--   * only pending tasks are editable: a running or completed task shows 0 rows to update,
--     and a running task cannot be deleted, by its owner or by an admin (0 rows);
--   * parameters are validated per type with the readable messages of domain/ (23514):
--     date range order, unknown metric, missing format, bad URL, unknown field, GET with a
--     body, bad timeout and header, data_import path outside one's own folder or escaping
--     it, unknown type; also the cron recurrence and a scheduled_at in the past;
--   * only admins create cleanup tasks (42501 for anyone else).
begin;
select plan(48);

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

-- A task of alice's that a worker is running right now.
insert into public.tasks (id, user_id, title, type, parameters, status, started_at, attempts, locked_by, locked_until)
values ('a3000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'Running export', 'data_export',
        '{"dataset":"tasks","format":"csv"}', 'running', now(), 1, 'test-worker', now() + interval '1 minute');

select pg_temp.login_as('alice');

-- ---------------------------------------------------------------------------------------
-- Insert: the worker's columns are not the user's
-- ---------------------------------------------------------------------------------------
select throws_ok($$insert into public.tasks (title, type, parameters, status)
                   values ('Sneaky', 'data_export', '{"dataset":"tasks","format":"csv"}', 'running')$$,
                 '42501', 'permission denied for table tasks', 'alice cannot insert a task with status running (42501)');
select throws_ok($$insert into public.tasks (title, type, parameters, status)
                   values ('Sneaky', 'data_export', '{"dataset":"tasks","format":"csv"}', 'completed')$$,
                 '42501', 'permission denied for table tasks', 'alice cannot insert a task with status completed (42501)');
select throws_ok($$insert into public.tasks (title, type, parameters, progress)
                   values ('Sneaky', 'data_export', '{"dataset":"tasks","format":"csv"}', 50)$$,
                 '42501', 'permission denied for table tasks', 'alice cannot insert a task with a progress (42501)');
select throws_ok($$insert into public.tasks (title, type, parameters, result)
                   values ('Sneaky', 'data_export', '{"dataset":"tasks","format":"csv"}', '{"ok":true}')$$,
                 '42501', 'permission denied for table tasks', 'alice cannot insert a task with a result (42501)');
select throws_ok($$insert into public.tasks (title, type, parameters, locked_by, locked_until)
                   values ('Sneaky', 'data_export', '{"dataset":"tasks","format":"csv"}', 'me', now() + interval '1 day')$$,
                 '42501', 'permission denied for table tasks', 'alice cannot insert a task with a worker lease (42501)');
select throws_ok($$insert into public.tasks (id, title, type, parameters)
                   values ('a0000000-0000-4000-8000-0000000000ff', 'Chosen id', 'data_export', '{"dataset":"tasks","format":"csv"}')$$,
                 '42501', 'permission denied for table tasks', 'alice cannot choose a task id (42501)');

select lives_ok($$insert into public.tasks (title, type, parameters, priority, max_attempts, recurrence)
                  values ('   Daily export   ', 'data_export', '{"dataset":"events","format":"csv","dateRange":{"start":"2025-01-01","end":"2025-01-31"}}',
                          'high', 5, '0 7 * * *')$$,
                'alice can create a valid recurring export task');
select results_eq(
  $$select title, status, progress, attempts, locked_by, run_after <= now() + interval '1 second'
      from public.tasks where title = 'Daily export'$$,
  $$values ('Daily export'::text, 'pending'::text, 0, 0, null::text, true)$$,
  'the new task is pending, with progress 0, no attempt, no lease, a trimmed title, runnable now'
);

-- ---------------------------------------------------------------------------------------
-- Update: only the user's columns, only while pending
-- ---------------------------------------------------------------------------------------
select throws_ok($$update public.tasks set status = 'completed' where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot set the status of her pending task (42501)');
select throws_ok($$update public.tasks set status = 'cancelled' where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot cancel by UPDATE either (42501; cancel_task does)');
select throws_ok($$update public.tasks set progress = 100 where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot set the progress of her task (42501)');
select throws_ok($$update public.tasks set result = '{"fake":true}' where id = 'a0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot write a task result (42501)');
select throws_ok($$update public.tasks set type = 'cleanup' where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot change the type of her task (42501)');
select throws_ok($$update public.tasks set user_id = '33333333-3333-4333-8333-333333333333' where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks', 'alice cannot give her task to bob (42501)');
select is(pg_temp.affected($$update public.tasks set title = 'Renamed while running' where id = 'a3000000-0000-4000-8000-000000000001'$$), 0,
          'alice cannot edit her running task (0 rows)');
select is(pg_temp.affected($$update public.tasks set title = 'Renamed after the fact' where id = 'a0000000-0000-4000-8000-000000000001'$$), 0,
          'alice cannot edit her completed task (0 rows)');
select is(pg_temp.affected($$update public.tasks set priority = 'low' where id = 'a0000000-0000-4000-8000-000000000002'$$), 0,
          'alice cannot edit her failed task (0 rows; retry_task requeues it)');
select is(pg_temp.affected($$delete from public.tasks where id = 'a3000000-0000-4000-8000-000000000001'$$), 0,
          'alice cannot delete her running task (0 rows; cancel it first)');
select is(pg_temp.affected($$update public.tasks set scheduled_at = now() + interval '2 days' where id = 'a0000000-0000-4000-8000-000000000003'$$), 1,
          'alice can reschedule her pending task (1 row)');
select ok((select run_after > now() + interval '1 day' from public.tasks where id = 'a0000000-0000-4000-8000-000000000003'),
          'rescheduling a pending task moves its run_after with it');

-- ---------------------------------------------------------------------------------------
-- Parameters, validated per type with readable messages
-- ---------------------------------------------------------------------------------------
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Report', 'analytics_report', '{"dateRange":{"start":"2025-02-01","end":"2025-01-01"},"metrics":["revenue"],"format":"json"}')$$,
                 '23514', 'Invalid parameters for analytics report task: dateRange.start must not be after dateRange.end',
                 'a report whose range starts after it ends is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Report', 'analytics_report', '{"dateRange":{"start":"2025-01-01","end":"2025-01-31"},"metrics":["revenue","profit"],"format":"json"}')$$,
                 '23514', 'Invalid parameters for analytics report task: metrics has an unknown metric "profit": expected one of revenue, users, conversion, orders, visits',
                 'a report with an unknown metric is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Report', 'analytics_report', '{"dateRange":{"start":"2025-01-01","end":"2025-01-31"},"metrics":["revenue"]}')$$,
                 '23514', 'Invalid parameters for analytics report task: format must be one of json, csv, xlsx, pdf',
                 'a report without a format is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Report', 'analytics_report', '{"dateRange":{"start":"2024-01-01","end":"2025-06-01"},"metrics":["revenue"],"format":"csv"}')$$,
                 '23514', 'Invalid parameters for analytics report task: dateRange may span at most 366 days',
                 'a report over more than a year is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"GET","url":"ftp://example.com/file"}')$$,
                 '23514', 'Invalid parameters for http request task: url must be an absolute http:// or https:// URL',
                 'an http_request with a non-http URL is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"GET","url":"not a url"}')$$,
                 '23514', 'Invalid parameters for http request task: url must be an absolute http:// or https:// URL',
                 'an http_request with something that is not a URL is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"GET","url":"https://example.com","verb":"GET"}')$$,
                 '23514', 'Invalid parameters for http request task: unknown field "verb"',
                 'an http_request with an unknown field is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"GET","url":"https://example.com","body":{"a":1}}')$$,
                 '23514', 'Invalid parameters for http request task: body is not allowed with GET or HEAD',
                 'a GET request with a body is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"POST","url":"https://example.com","timeoutSecs":600}')$$,
                 '23514', 'Invalid parameters for http request task: timeoutSecs must be between 1 and 60',
                 'an http_request with a ten-minute timeout is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Ping', 'http_request', '{"method":"POST","url":"https://example.com","headers":{"X-Evil":"a\r\nHost: b"}}')$$,
                 '23514', 'Invalid parameters for http request task: headers.X-Evil must be a single line of text',
                 'an http_request with a header value spanning lines is rejected with a readable message');
select lives_ok($$insert into public.tasks (title, type, parameters)
                  values ('Ping', 'http_request', '{"method":"POST","url":"https://example.com:8443/hook?x=1","headers":{"X-Token":"abc"},"body":{"a":1},"timeoutSecs":30}')$$,
                'a well-formed POST http_request is accepted');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Import', 'data_import', '{"path":"33333333-3333-4333-8333-333333333333/x.csv"}')$$,
                 '23514', 'Invalid parameters for data import task: path must be in your own folder (22222222-2222-4222-8222-222222222222/…)',
                 'alice cannot import a file from bob''s folder');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Import', 'data_import', '{"path":"22222222-2222-4222-8222-222222222222/../33333333-3333-4333-8333-333333333333/x.csv"}')$$,
                 '23514', 'Invalid parameters for data import task: path must be a .csv file in the imports bucket, like <your user id>/events.csv',
                 'alice cannot escape her folder with ".." in an import path');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Import', 'data_import', '{"path":"22222222-2222-4222-8222-222222222222/events.xlsx"}')$$,
                 '23514', 'Invalid parameters for data import task: path must be a .csv file in the imports bucket, like <your user id>/events.csv',
                 'an import of something other than a .csv file is rejected with a readable message');
select lives_ok($$insert into public.tasks (title, type, parameters)
                  values ('Import', 'data_import', '{"path":"22222222-2222-4222-8222-222222222222/events.csv"}')$$,
                'alice can import a CSV file from her own folder');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Export', 'data_export', '{"dataset":"users","format":"csv"}')$$,
                 '23514', 'Invalid parameters for data export task: dataset must be one of tasks, events',
                 'an export of an unknown dataset is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters)
                   values ('Mystery', 'mining', '{}')$$,
                 '23514', 'Invalid parameters for mining task: type must be one of analytics_report, data_export, data_import, http_request, cleanup',
                 'a task of an unknown type is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters, recurrence)
                   values ('Export', 'data_export', '{"dataset":"tasks","format":"csv"}', 'every monday')$$,
                 '23514', 'recurrence must be a cron expression with 5 or 6 fields, like "0 6 * * 1"',
                 'a recurrence that is not a cron expression is rejected with a readable message');
select throws_ok($$insert into public.tasks (title, type, parameters, scheduled_at)
                   values ('Export', 'data_export', '{"dataset":"tasks","format":"csv"}', now() - interval '1 hour')$$,
                 '23514', 'scheduled_at must not be in the past',
                 'a task scheduled in the past is rejected with a readable message');
select throws_ok($$update public.tasks set parameters = '{"dateRange":{"start":"2025-03-01","end":"2025-01-01"},"metrics":["revenue"],"format":"pdf"}'
                   where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '23514', 'Invalid parameters for analytics report task: dateRange.start must not be after dateRange.end',
                 'editing a pending task''s parameters into invalid ones is rejected too');
select throws_ok($$update public.tasks set parameters = '{"path":"33333333-3333-4333-8333-333333333333/x.csv"}' where title = 'Import'$$,
                 '23514', 'Invalid parameters for data import task: path must be in your own folder (22222222-2222-4222-8222-222222222222/…)',
                 'alice cannot point her import task at bob''s folder by editing it');

-- ---------------------------------------------------------------------------------------
-- Cleanup tasks: admins only
-- ---------------------------------------------------------------------------------------
select throws_ok($$insert into public.tasks (title, type, parameters) values ('Cleanup', 'cleanup', '{"retentionDays":7}')$$,
                 '42501', 'Only administrators can create cleanup tasks', 'alice cannot create a cleanup task (42501)');
select pg_temp.login_as('bob');
select throws_ok($$insert into public.tasks (title, type, parameters) values ('Cleanup', 'cleanup', '{}')$$,
                 '42501', 'Only administrators can create cleanup tasks', 'bob cannot create a cleanup task (42501)');
select pg_temp.login_as('admin');
select lives_ok($$insert into public.tasks (title, type, parameters) values ('Cleanup', 'cleanup', '{"retentionDays":7}')$$,
                'admin can create a cleanup task');
select throws_ok($$insert into public.tasks (title, type, parameters) values ('Cleanup', 'cleanup', '{"retentionDays":0}')$$,
                 '23514', 'Invalid parameters for cleanup task: retentionDays must be between 1 and 3650',
                 'a cleanup keeping zero days is rejected with a readable message');
select is(pg_temp.affected($$delete from public.tasks where id = 'a3000000-0000-4000-8000-000000000001'$$), 0,
          'admin cannot delete alice''s running task either (0 rows)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select status, title, locked_by from public.tasks where id = 'a3000000-0000-4000-8000-000000000001'$$,
  $$values ('running'::text, 'Running export'::text, 'test-worker'::text)$$,
  'the running task is untouched'
);
select results_eq(
  $$select status, progress, result is null from public.tasks where id = 'a0000000-0000-4000-8000-000000000003'$$,
  $$values ('pending'::text, 0, true)$$,
  'alice''s pending task is still pending, at 0%, without a result'
);

select * from finish();
rollback;
