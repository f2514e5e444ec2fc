-- 32_task_counts.sql — the maintained task counts (issue #11): private.task_counts plus
-- private.task_count_deltas always equal counting public.tasks, through random inserts,
-- status changes, owner changes, deletes, progress-only updates, folds, a deleted user and a
-- truncate; admin_overview and admin_list_users report exactly the raw counts; nobody but
-- the definer functions reads or writes the count tables.
begin;
select plan(17);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  else
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', case who when 'admin' then '11111111-1111-4111-8111-111111111111'
                                        else '22222222-2222-4222-8222-222222222222' end,
                        'role', 'authenticated', 'aud', 'authenticated',
                        'email', who || '@taskdeck.dev', 'aal', 'aal1')::text, true);
  end if;
end
$$;

-- The maintained counts, as (owner, status, n) rows with n <> 0.
create function pg_temp.kept() returns table (user_id uuid, status text, n bigint)
language sql as $$
  select user_id, status, sum(n)::bigint
    from (select user_id, status, n from private.task_counts
          union all
          select user_id, status, n from private.task_count_deltas) c
   group by user_id, status having sum(n) <> 0
$$;
create function pg_temp.raw() returns table (user_id uuid, status text, n bigint)
language sql as $$
  select user_id, status, count(*) from public.tasks group by user_id, status
$$;

-- ---------------------------------------------------------------------------------------
-- Who may touch the count tables
-- ---------------------------------------------------------------------------------------
select ok((select relrowsecurity from pg_class where oid = 'private.task_counts'::regclass)
          and (select relrowsecurity from pg_class where oid = 'private.task_count_deltas'::regclass),
          'both count tables have RLS enabled');
select pg_temp.login_as('alice');
select throws_ok($$select * from private.task_counts$$, '42501', null,
                 'a signed-in user cannot read the counts');
select throws_ok($$insert into private.task_count_deltas (user_id, status, n)
                   values ('22222222-2222-4222-8222-222222222222', 'completed', 1000)$$, '42501', null,
                 'a signed-in user cannot add to the counts');
select pg_temp.login_as('postgres');
set local role service_role;
select throws_ok($$select * from private.task_count_deltas$$, '42501', null,
                 'the service role cannot read the deltas either');
reset role;

-- ---------------------------------------------------------------------------------------
-- Exact after the migration's backfill and the seed
-- ---------------------------------------------------------------------------------------
select set_eq($$select * from pg_temp.kept()$$, $$select * from pg_temp.raw()$$,
              'the seed''s tasks are counted exactly');

-- ---------------------------------------------------------------------------------------
-- A random workload (fixed seed), compared after every statement
-- ---------------------------------------------------------------------------------------
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change)
select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
       format('counts-%s@taskdeck.test', u), '', now(), '{"provider":"email","providers":["email"]}',
       '{}', now(), now(), '', '', '', ''
  from generate_series(1, 6) u;
create temporary table owners as
  select row_number() over (order by email) - 1 as n, id from public.profiles where email like 'counts-%';

create temporary table mismatches (step int, op text);
select setseed(0.42);
do $$
declare
  statuses text[] := array['pending', 'running', 'completed', 'failed', 'cancelled'];
  owner_ids uuid[] := array(select id from owners order by n);
  op text;
begin
  for step in 1 .. 240 loop
    op := (array['insert', 'status', 'owner', 'delete', 'progress', 'fold'])[1 + floor(random() * 6)::int];
    case op
      when 'insert' then
        insert into public.tasks (user_id, title, type, status, parameters)
        select owner_ids[1 + floor(random() * 6)::int],
               format('Count task %s.%s', step, g), 'http_request',
               statuses[1 + floor(random() * 5)::int],
               '{"method":"GET","url":"https://example.com/status"}'
          from generate_series(1, 1 + floor(random() * 12)::int) g;
      when 'status' then
        update public.tasks set status = statuses[1 + floor(random() * 5)::int]
         where title like 'Count task %' and random() < 0.2;
      when 'owner' then
        update public.tasks set user_id = owner_ids[1 + floor(random() * 6)::int]
         where title like 'Count task %' and random() < 0.1;
      when 'delete' then
        delete from public.tasks where title like 'Count task %' and random() < 0.03;
      when 'progress' then
        update public.tasks set progress = floor(random() * 100)::int where title like 'Count task %';
      else
        perform private.fold_task_counts();
    end case;
    if exists ((select * from pg_temp.kept() except select * from pg_temp.raw())
               union all
               (select * from pg_temp.raw() except select * from pg_temp.kept())) then
      insert into mismatches values (step, op);
    end if;
  end loop;
end
$$;
select is((select count(*) from mismatches), 0::bigint,
          'after each of 240 random statements the counts equal counting the tasks');
select cmp_ok((select count(*) from public.tasks where title like 'Count task %'), '>', 100::bigint,
              'the workload left over a hundred tasks to count');

-- Statements that move no task between owners or statuses add no delta.
create temporary table before_deltas as select count(*) as n from private.task_count_deltas;
update public.tasks set progress = 50 where title like 'Count task %';
update public.tasks set status = status where title like 'Count task %';
select is((select count(*) from private.task_count_deltas), (select n from before_deltas),
          'progress-only and same-status updates add no delta rows');

select private.fold_task_counts();
select is((select count(*) from private.task_count_deltas), 0::bigint, 'a fold moves every delta');
select set_eq($$select user_id, status, n from private.task_counts$$, $$select * from pg_temp.raw()$$,
              'after a fold the folded counts alone are exact (no zero rows left)');

-- ---------------------------------------------------------------------------------------
-- What the admin pages report
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select set_eq(
  $$select key, value::bigint from jsonb_each_text(public.admin_overview() -> 'tasksByStatus')$$,
  $$select status, count(*) from public.tasks group by status$$,
  'admin_overview''s tasks by status are the exact counts');
select set_eq(
  $$select id, task_count, failed_task_count from public.admin_list_users(null, 500, 0)$$,
  $$select p.id, (select count(*) from public.tasks t where t.user_id = p.id) as tasks,
           (select count(*) from public.tasks t where t.user_id = p.id and t.status = 'failed') as failed
      from public.profiles p$$,
  'admin_list_users reports each user''s exact task and failed-task counts');
select results_eq(
  $$select (o ->> 'finishedLast24h')::bigint, (o ->> 'failedLast24h')::bigint from public.admin_overview() o$$,
  $$select count(*) filter (where status in ('completed', 'failed')), count(*) filter (where status = 'failed')
      from public.tasks where completed_at > now() - interval '24 hours'$$,
  'admin_overview''s last-24-hours figures count the finished and failed tasks');

-- ---------------------------------------------------------------------------------------
-- A deleted user and a truncate
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
delete from auth.users where id = (select id from owners where n = 0);
select set_eq($$select * from pg_temp.kept()$$, $$select * from pg_temp.raw()$$,
              'deleting a user takes their cascaded tasks out of the counts');
select is((select count(*) from pg_temp.kept() where user_id = (select id from owners where n = 0)), 0::bigint,
          'nothing is left counted for the deleted user');
set local client_min_messages = warning;
truncate public.tasks cascade;
select is((select count(*) from pg_temp.kept()), 0::bigint, 'a truncate empties the counts');
insert into public.tasks (user_id, title, type, parameters)
values ('22222222-2222-4222-8222-222222222222', 'After the truncate', 'http_request',
        '{"method":"GET","url":"https://example.com/status"}');
select set_eq($$select * from pg_temp.kept()$$,
              $$values ('22222222-2222-4222-8222-222222222222'::uuid, 'pending'::text, 1::bigint)$$,
              'counting starts again after a truncate');

select * from finish();
rollback;
