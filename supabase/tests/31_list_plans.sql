-- 31_list_plans.sql — the SPA's lists are index scans under RLS (issue #11, item 3).
--
-- With 240 users and 60,000 tasks (3,000 of them alice's, each with an execution, one with
-- 400 log lines), and statistics taken, the plans of the SPA's own queries — as the
-- `authenticated` role with the user's claims, so every policy applies — are:
--   * alice's task list (owner filter `user_id = me`, newest and oldest first, page 1 and
--     page 100, a status filter) and its exact count: through tasks_user_created_idx, no
--     sequential scan of tasks;
--   * the admin's "everyone's tasks" view: through tasks_created_idx, stopping after the page;
--   * the admin's recent failures: through tasks_failed_idx;
--   * a task's attempts and log lines: through their task_id indexes, the policy checking the
--     one task by its primary key (no list of all the user's tasks is built);
--   * alice's reports: through analytics_reports_user_created_idx;
-- and what alice reads is still exactly her own rows (the policies decide, the filter only
-- narrows): the same page with and without the filter.
begin;
select plan(14);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  else
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'email', who || '@taskdeck.dev', 'aal', 'aal1')::text, true);
  end if;
end
$$;

-- The plan of `sql` as the current identity, one text.
create function pg_temp.plan(sql text) returns text
language plpgsql as $$
declare
  line text;
  result text := '';
begin
  for line in execute 'explain (costs off) ' || sql loop
    result := result || line || E'\n';
  end loop;
  return result;
end
$$;
grant execute on function pg_temp.plan(text) to authenticated;

-- ---------------------------------------------------------------------------------------
-- The volume
-- ---------------------------------------------------------------------------------------
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       format('plans-%s@taskdeck.test', u), '', now(), '{"provider":"email","providers":["email"]}',
       '{}', now(), now(), '', '', '', ''
  from generate_series(1, 240) u;
create temporary table owners as
  select row_number() over (order by email) - 1 as n, id from public.profiles where email like 'plans-%';

insert into public.tasks (user_id, title, type, status, parameters, progress, created_at, completed_at, error_message)
select case when g <= 3000 then '22222222-2222-4222-8222-222222222222'::uuid else o.id end,
       format('Plan task %s', g), 'http_request',
       case when g % 20 = 0 then 'failed' else 'completed' end,
       '{"method":"GET","url":"https://example.com/status"}', 100,
       now() - (g * interval '7 minutes'), now() - (g * interval '7 minutes') + interval '2 seconds',
       case when g % 20 = 0 then 'The server answered 503' end
  from generate_series(1, 60000) g
  left join owners o on o.n = g % 240;
insert into public.task_executions (task_id, attempt, worker_id, status, completed_at)
select id, 1, 'plans', status, completed_at from public.tasks where title like 'Plan task %';
insert into public.execution_logs (execution_id, task_id, message)
select e.id, e.task_id, format('line %s', l)
  from public.task_executions e join public.tasks t on t.id = e.task_id
 cross join generate_series(1, 400) l
 where t.title = 'Plan task 17';
insert into public.analytics_reports (user_id, title, format, date_range_start, date_range_end, metrics, created_at)
select case when g <= 300 then '22222222-2222-4222-8222-222222222222'::uuid else o.id end,
       format('Plan report %s', g), 'csv', date '2024-01-01', date '2024-01-31', array['orders'],
       now() - g * interval '1 hour'
  from generate_series(1, 6000) g
  left join owners o on o.n = g % 240;
analyze public.tasks;
analyze public.task_executions;
analyze public.execution_logs;
analyze public.analytics_reports;
analyze public.profiles;

create temporary table ids as
  select (select id from public.tasks where title = 'Plan task 17') as task_17;
grant select on ids to authenticated;

-- ---------------------------------------------------------------------------------------
-- alice's lists
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select matches(pg_temp.plan($$select id from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'
                               order by created_at desc, id desc limit 20$$),
               'Index (Only )?Scan Backward using tasks_user_created_idx',
               'alice''s newest tasks, page 1: her slice of (user_id, created_at, id), read backward');
select matches(pg_temp.plan($$select id from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'
                               order by created_at desc, id desc limit 20 offset 1980$$),
               'tasks_user_created_idx',
               'alice''s newest tasks, page 100: her slice of the same index');
select matches(pg_temp.plan($$select id from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'
                               order by created_at, id limit 20$$),
               'Index (Only )?Scan using tasks_user_created_idx',
               'alice''s oldest tasks first: the same index, forward');
select matches(pg_temp.plan($$select id from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'
                               and status = 'failed' order by created_at desc, id desc limit 20$$),
               'tasks_user_created_idx',
               'alice''s failed tasks: her slice, filtered');
select doesnt_match(pg_temp.plan($$select count(*) from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'$$),
                    'Seq Scan',
                    'the exact count of alice''s tasks reads no table from end to end');
select matches(pg_temp.plan($$select count(*) from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'$$),
               'tasks_user_created_idx',
               'the exact count of alice''s tasks counts her index entries');
select matches(pg_temp.plan(format($$select * from public.task_executions where task_id = %L
                               order by attempt desc$$, (select task_17 from ids))),
               'task_executions_task_id_attempt_key',
               'a task''s attempts: through (task_id, attempt)');
select doesnt_match(pg_temp.plan(format($$select * from public.execution_logs where task_id = %L
                                   order by id limit 500$$, (select task_17 from ids))),
                    'Seq Scan|hashed SubPlan',
                    'a task''s log lines: no table scan and no list of all her tasks');
select matches(pg_temp.plan(format($$select * from public.execution_logs where task_id = %L
                               order by id limit 500$$, (select task_17 from ids))),
               'execution_logs_task_id_idx',
               'a task''s log lines: through (task_id, id)');
select matches(pg_temp.plan($$select id from public.analytics_reports where user_id = '22222222-2222-4222-8222-222222222222'
                               order by created_at desc, id desc limit 20$$),
               'analytics_reports_user_created_idx',
               'alice''s reports: her slice of (user_id, created_at, id)');
-- The owner filter narrows, the policies decide: the same rows either way.
select results_eq($$select id from public.tasks where user_id = '22222222-2222-4222-8222-222222222222'
                    order by created_at desc, id desc limit 20 offset 40$$,
                  $$select id from public.tasks order by created_at desc, id desc limit 20 offset 40$$,
                  'alice''s page is the same with and without the owner filter');

-- ---------------------------------------------------------------------------------------
-- The admin's views
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select matches(pg_temp.plan($$select id from public.tasks order by created_at desc, id desc limit 20 offset 1980$$),
               'Index Scan Backward using tasks_created_idx',
               'the admin''s everyone''s tasks, page 100: through (created_at, id)');
select matches(pg_temp.plan($$select * from public.tasks where status = 'failed' order by completed_at desc limit 10$$),
               'tasks_failed_idx',
               'the admin''s recent failures: through the partial failed index');
select is((select count(*)::int from public.admin_list_users('', 20, 0)), 20,
          'the admin''s user list still pages (20 of 240+)');

select * from finish();
rollback;
