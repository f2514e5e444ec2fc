-- The large data set of scripts/bench-data and scripts/seed-volume, made with
-- generate_series (no client round trip per row). psql variables:
--   owner        the user who gets the business events (uuid)
--   events       how many events, spread evenly over the last `days` days up to now
--   days         the span of the events
--   tasks        how many tasks in all (each with one execution and three log lines),
--                created over the last 365 days; none pending or running, so a worker
--                beside it has nothing to pick up
--   users        how many extra users share the tasks (bench-NNNN@taskdeck.bench,
--                password Bench-pass-123)
--   owner_tasks  how many of the tasks belong to `owner` (so its task list has many pages)
--   tag          marks every row made here (titles, metadata, emails), so a second run
--                adds to the first instead of colliding
-- Rows are inserted the way any writer's are: every trigger fires (the analytics
-- rollups, if the schema has them, are maintained as the events go in).
\set ON_ERROR_STOP 1
\timing off

-- Events in statements of at most a million rows.
select format(
  $f$insert into public.business_events (user_id, event_type, amount, occurred_at, metadata)
     select %L::uuid,
            case when g %% 10 < 6 then 'visit' when g %% 10 < 8 then 'order'
                 when g %% 10 = 8 then 'signup' else 'conversion' end,
            case when g %% 10 between 6 and 7 then ((g * 7919) %% 50000) / 100.0 else 0 end,
            now() - ((g - 1)::float8 / %s) * (%s * interval '1 day'),
            jsonb_build_object('volume', %L)
       from generate_series(%s::bigint, %s) g$f$,
  :'owner', :events, :days, :'tag', lo, least(lo + 999999, :events))
  from generate_series(1, :events, 1000000) lo
\gexec

-- Users to share the tasks (one bcrypt hash for all: bcrypt per row would take minutes).
with pw as (select extensions.crypt('Bench-pass-123', extensions.gen_salt('bf', 4)) as hash)
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       format('bench-%s-%s@taskdeck.bench', :'tag', lpad(u::text, 4, '0')), pw.hash, now(),
       '{"provider":"email","providers":["email"]}',
       jsonb_build_object('name', format('Bench user %s', u)),
       now() - interval '400 days', now(), '', '', '', ''
  from generate_series(1, :users) u, pw;

create temporary table volume_owners as
  select row_number() over (order by p.email) - 1 as n, p.id
    from public.profiles p where p.email like format('bench-%s-%%@taskdeck.bench', :'tag');

-- Tasks: the first owner_tasks belong to owner, the rest go round the extra users.
select format(
  $f$insert into public.tasks (user_id, title, type, status, priority, parameters, progress,
                               attempts, created_at, updated_at, started_at, completed_at,
                               error_message, run_after)
     select case when g <= %s or o.id is null then %L::uuid else o.id end,
            format('Volume %s task %%s', g),
            t.type, t.status, (array['low','medium','high','urgent'])[1 + g %% 4],
            t.parameters, case t.status when 'completed' then 100 else 40 end, 1,
            c.at, c.at + interval '2 seconds', c.at + interval '1 second', c.at + interval '2 seconds',
            case t.status when 'failed' then 'The server answered 503 Service Unavailable' end,
            c.at
       from generate_series(%s::bigint, %s) g
       left join volume_owners o on o.n = g %% %s
      cross join lateral (select now() - ((g * 7907) %% 31536000) * interval '1 second' as at) c
      cross join lateral (
        select case g %% 3
                 when 0 then 'analytics_report' when 1 then 'data_export' else 'http_request' end as type,
               case when g %% 20 = 0 then 'failed' when g %% 20 = 1 then 'cancelled' else 'completed' end as status,
               case g %% 3
                 when 0 then '{"dateRange":{"start":"2024-01-01","end":"2024-01-31"},"metrics":["revenue","orders"],"format":"csv"}'::jsonb
                 when 1 then '{"dataset":"events","format":"csv"}'::jsonb
                 else '{"method":"GET","url":"https://example.com/status"}'::jsonb end as parameters
      ) t$f$,
  :owner_tasks, :'owner', :'tag', lo, least(lo + 249999, :tasks), greatest(:users, 1))
  from generate_series(1, :tasks, 250000) lo
\gexec

insert into public.task_executions (task_id, attempt, worker_id, status, started_at, completed_at,
                                    duration_ms, error_message)
select t.id, 1, 'volume-worker', t.status, t.started_at, t.completed_at, 1000, t.error_message
  from public.tasks t
 where t.title like format('Volume %s task %%', :'tag')
   and not exists (select 1 from public.task_executions e where e.task_id = t.id);

insert into public.execution_logs (execution_id, task_id, level, message, created_at)
select e.id, e.task_id,
       case when l = 3 and e.status = 'failed' then 'error' else 'info' end,
       case l when 1 then 'Calling https://example.com/status'
              when 2 then 'Answered in 120 ms'
              else case e.status when 'completed' then 'Completed in 1.0 s'
                                 when 'failed' then 'Failed: The server answered 503 Service Unavailable'
                                 else 'Cancelled while running' end end,
       e.started_at + l * interval '300 milliseconds'
  from public.task_executions e
  join public.tasks t on t.id = e.task_id
 cross join generate_series(1, 3) l
 where t.title like format('Volume %s task %%', :'tag') and e.worker_id = 'volume-worker'
   and not exists (select 1 from public.execution_logs x where x.execution_id = e.id);

analyze public.business_events;
analyze public.tasks;
analyze public.task_executions;
analyze public.execution_logs;
analyze public.profiles;
