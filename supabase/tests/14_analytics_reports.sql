-- 14_analytics_reports.sql — RLS matrix of public.analytics_reports.
--
-- Reports are written by the worker, read by their owner and by admins, and deletable by
-- their owner. For anon, alice, bob, admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read their own reports only (another user's: 0 rows visible); INSERT and
--     UPDATE refused with 42501; delete their own report, not another user's (0 rows);
--   * admin: reads every report; INSERT / UPDATE refused with 42501; cannot delete another
--     user's report (0 rows);
--   * service_role: full access.
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

-- Two reports each for alice and bob, as the worker would write them.
insert into public.analytics_reports (id, task_id, user_id, title, format, date_range_start, date_range_end, metrics, storage_path)
values
  ('f0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
   'Q3 revenue report', 'json', current_date - 60, current_date - 1, array['revenue', 'orders'],
   '22222222-2222-4222-8222-222222222222/f0000000-0000-4000-8000-000000000001.json'),
  ('f0000000-0000-4000-8000-000000000002', null, '22222222-2222-4222-8222-222222222222',
   'Old report', 'csv', current_date - 30, current_date - 1, array['visits'], null),
  ('f0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000001', '33333333-3333-4333-8333-333333333333',
   'Monthly conversion report', 'csv', current_date - 30, current_date - 1, array['conversion', 'visits'],
   '33333333-3333-4333-8333-333333333333/f0000000-0000-4000-8000-000000000003.csv'),
  ('f0000000-0000-4000-8000-000000000004', null, '33333333-3333-4333-8333-333333333333',
   'Old bob report', 'pdf', current_date - 7, current_date - 1, array['revenue'], null);

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.analytics_reports$$, '42501', 'permission denied for table analytics_reports',
                 'anon cannot read reports (42501)');
select throws_ok($$insert into public.analytics_reports (user_id, title, format, date_range_start, date_range_end, metrics)
                   values ('22222222-2222-4222-8222-222222222222', 'x', 'json', current_date, current_date, '{revenue}')$$,
                 '42501', 'permission denied for table analytics_reports', 'anon cannot insert a report (42501)');
select throws_ok($$update public.analytics_reports set title = 'x'$$, '42501', 'permission denied for table analytics_reports',
                 'anon cannot update reports (42501)');
select throws_ok($$delete from public.analytics_reports$$, '42501', 'permission denied for table analytics_reports',
                 'anon cannot delete reports (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select set_eq($$select id from public.analytics_reports$$,
              $$values ('f0000000-0000-4000-8000-000000000001'::uuid), ('f0000000-0000-4000-8000-000000000002')$$,
              'alice reads her two reports and nothing else');
select is((select count(*)::int from public.analytics_reports where user_id = '33333333-3333-4333-8333-333333333333'), 0,
          'alice cannot read bob''s reports (0 rows visible)');
select throws_ok($$insert into public.analytics_reports (user_id, title, format, date_range_start, date_range_end, metrics)
                   values ('22222222-2222-4222-8222-222222222222', 'Forged', 'json', current_date, current_date, '{revenue}')$$,
                 '42501', 'permission denied for table analytics_reports', 'alice cannot insert a report, even her own (42501)');
select throws_ok($$update public.analytics_reports set title = 'Renamed' where id = 'f0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table analytics_reports', 'alice cannot update her own report (42501)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000003'$$), 0,
          'alice cannot delete bob''s report (0 rows)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000002'$$), 1,
          'alice can delete her own report (1 row)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select set_eq($$select id from public.analytics_reports$$,
              $$values ('f0000000-0000-4000-8000-000000000003'::uuid), ('f0000000-0000-4000-8000-000000000004')$$,
              'bob reads his two reports and nothing else');
select is((select count(*)::int from public.analytics_reports where user_id = '22222222-2222-4222-8222-222222222222'), 0,
          'bob cannot read alice''s reports (0 rows visible)');
select throws_ok($$insert into public.analytics_reports (user_id, title, format, date_range_start, date_range_end, metrics)
                   values ('33333333-3333-4333-8333-333333333333', 'Forged', 'json', current_date, current_date, '{revenue}')$$,
                 '42501', 'permission denied for table analytics_reports', 'bob cannot insert a report (42501)');
select throws_ok($$update public.analytics_reports set title = 'Renamed' where id = 'f0000000-0000-4000-8000-000000000001'$$,
                 '42501', 'permission denied for table analytics_reports', 'bob cannot update alice''s report (42501)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000001'$$), 0,
          'bob cannot delete alice''s report (0 rows)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000004'$$), 1,
          'bob can delete his own report (1 row)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select set_eq($$select id from public.analytics_reports$$,
              $$values ('f0000000-0000-4000-8000-000000000001'::uuid), ('f0000000-0000-4000-8000-000000000003')$$,
              'admin reads every remaining report, alice''s and bob''s');
select throws_ok($$insert into public.analytics_reports (user_id, title, format, date_range_start, date_range_end, metrics)
                   values ('11111111-1111-4111-8111-111111111111', 'Admin report', 'json', current_date, current_date, '{revenue}')$$,
                 '42501', 'permission denied for table analytics_reports', 'admin cannot insert a report (42501)');
select throws_ok($$update public.analytics_reports set title = 'Renamed' where id = 'f0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table analytics_reports', 'admin cannot update a report (42501)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000003'$$), 0,
          'admin cannot delete bob''s report (0 rows; only the owner deletes)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.analytics_reports), 2, 'service_role reads every report');
select is(pg_temp.affected($$insert into public.analytics_reports (id, user_id, title, format, date_range_start, date_range_end, metrics)
                              values ('f0000000-0000-4000-8000-000000000005', '22222222-2222-4222-8222-222222222222',
                                      'Service report', 'xlsx', current_date - 1, current_date - 1, '{orders}')$$), 1,
          'service_role can insert a report for any user (1 row)');
select is(pg_temp.affected($$update public.analytics_reports set size_bytes = 2048 where id = 'f0000000-0000-4000-8000-000000000005'$$), 1,
          'service_role can update a report (1 row)');
select is(pg_temp.affected($$delete from public.analytics_reports where id = 'f0000000-0000-4000-8000-000000000003'$$), 1,
          'service_role can delete any report (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select id, title, size_bytes from public.analytics_reports order by id$$,
  $$values ('f0000000-0000-4000-8000-000000000001'::uuid, 'Q3 revenue report'::text, null::bigint),
           ('f0000000-0000-4000-8000-000000000005'::uuid, 'Service report'::text, 2048::bigint)$$,
  'only the allowed deletes and service_role''s writes changed the reports'
);

select * from finish();
rollback;
