-- 17_workers.sql — RLS matrix of public.workers.
--
-- Worker heartbeats are written by the workers (direct connection / service key) and shown
-- on the admin system page. For anon, alice, bob, admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: SELECT allowed by grant but RLS shows 0 rows; INSERT / UPDATE / DELETE
--     refused with 42501;
--   * admin: reads every worker; INSERT / UPDATE / DELETE refused with 42501;
--   * service_role: full access.
begin;
select plan(21);

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

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.workers$$, '42501', 'permission denied for table workers',
                 'anon cannot read workers (42501)');
select throws_ok($$insert into public.workers (id, hostname, version) values ('w', 'h', '0')$$,
                 '42501', 'permission denied for table workers', 'anon cannot register a worker (42501)');
select throws_ok($$update public.workers set status = 'stopped'$$, '42501', 'permission denied for table workers',
                 'anon cannot update workers (42501)');
select throws_ok($$delete from public.workers$$, '42501', 'permission denied for table workers',
                 'anon cannot delete workers (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select is((select count(*)::int from public.workers), 0, 'alice sees no workers (0 rows visible; admins only)');
select throws_ok($$insert into public.workers (id, hostname, version) values ('rogue', 'laptop', '0.0.1')$$,
                 '42501', 'permission denied for table workers', 'alice cannot register a worker (42501)');
select throws_ok($$update public.workers set running_count = 99 where id = 'seed-worker'$$,
                 '42501', 'permission denied for table workers', 'alice cannot update a worker (42501)');
select throws_ok($$delete from public.workers where id = 'seed-worker'$$,
                 '42501', 'permission denied for table workers', 'alice cannot delete a worker (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select is((select count(*)::int from public.workers), 0, 'bob sees no workers (0 rows visible; admins only)');
select throws_ok($$insert into public.workers (id, hostname, version) values ('rogue', 'laptop', '0.0.1')$$,
                 '42501', 'permission denied for table workers', 'bob cannot register a worker (42501)');
select throws_ok($$update public.workers set status = 'running' where id = 'seed-worker'$$,
                 '42501', 'permission denied for table workers', 'bob cannot update a worker (42501)');
select throws_ok($$delete from public.workers$$,
                 '42501', 'permission denied for table workers', 'bob cannot delete workers (42501)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select results_eq($$select id, status from public.workers$$, $$values ('seed-worker'::text, 'stopped'::text)$$,
                  'admin reads the workers');
select throws_ok($$insert into public.workers (id, hostname, version) values ('admin-worker', 'h', '0')$$,
                 '42501', 'permission denied for table workers', 'admin cannot register a worker (42501)');
select throws_ok($$update public.workers set status = 'stopping' where id = 'seed-worker'$$,
                 '42501', 'permission denied for table workers', 'admin cannot update a worker (42501)');
select throws_ok($$delete from public.workers where id = 'seed-worker'$$,
                 '42501', 'permission denied for table workers', 'admin cannot delete a worker (42501)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.workers), 1, 'service_role reads the workers');
select is(pg_temp.affected($$insert into public.workers (id, hostname, version, pid, concurrency)
                              values ('test-worker', 'test-host', '0.2.0', 7, 2)$$), 1,
          'service_role can register a worker (1 row)');
select is(pg_temp.affected($$update public.workers set last_heartbeat_at = now(), running_count = 1 where id = 'test-worker'$$), 1,
          'service_role can record a heartbeat (1 row)');
select is(pg_temp.affected($$delete from public.workers where id = 'seed-worker'$$), 1,
          'service_role can delete a worker (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq($$select id, running_count from public.workers$$, $$values ('test-worker'::text, 1)$$,
                  'only service_role''s writes changed the workers');

select * from finish();
rollback;
