-- 15_business_events.sql — RLS matrix of public.business_events.
--
-- A user's business events are their own data: they read, add, correct and delete them;
-- admins read everyone's. For anon, alice, bob, admin and service_role:
--   * anon: every operation refused with 42501;
--   * alice / bob: read exactly their own events (another user's: 0 rows visible); add events
--     for themselves (naming another user_id: 42501 from the policy; naming their own is
--     accepted, see 28b_own_user_id.sql); update and delete their own events, not another
--     user's (0 rows);
--   * admin: reads every event; adds their own; cannot update or delete another user's (0 rows);
--   * service_role: full access.
begin;
select plan(32);

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

-- Counts and one event id per user, taken as postgres, readable by every test identity.
create temp table fixture as
select (select count(*)::int from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_count,
       (select count(*)::int from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') as bob_count,
       (select count(*)::int from public.business_events) as all_count,
       (select min(id) from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_event,
       (select min(id) from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') as bob_event,
       (select max(id) from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') as alice_last_event,
       (select max(id) from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') as bob_last_event;
grant select on fixture to public;

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.business_events$$, '42501', 'permission denied for table business_events',
                 'anon cannot read business events (42501)');
select throws_ok($$insert into public.business_events (event_type) values ('visit')$$,
                 '42501', 'permission denied for table business_events', 'anon cannot insert a business event (42501)');
select throws_ok($$update public.business_events set amount = 0$$, '42501', 'permission denied for table business_events',
                 'anon cannot update business events (42501)');
select throws_ok($$delete from public.business_events$$, '42501', 'permission denied for table business_events',
                 'anon cannot delete business events (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select ok((select alice_count from fixture) > 0, 'the seed gives alice business events to work with');
select is((select count(*)::int from public.business_events), (select alice_count from fixture),
          'alice reads exactly her own business events');
select is((select count(*)::int from public.business_events where user_id <> '22222222-2222-4222-8222-222222222222'), 0,
          'alice cannot read bob''s or the admin''s events (0 rows visible)');
select is(pg_temp.affected($$insert into public.business_events (event_type, amount, metadata)
                              values ('order', 99.95, '{"channel":"test-alice"}')$$), 1,
          'alice can add an event (1 row)');
select is((select user_id from public.business_events where metadata ->> 'channel' = 'test-alice'),
          '22222222-2222-4222-8222-222222222222'::uuid, 'alice''s new event belongs to her (user_id defaults to auth.uid())');
select throws_ok($$insert into public.business_events (user_id, event_type, amount)
                   values ('33333333-3333-4333-8333-333333333333', 'order', 1000)$$,
                 '42501', 'new row violates row-level security policy for table "business_events"',
                 'alice cannot add an event to bob''s data (42501 from the policy)');
select is(pg_temp.affected($$update public.business_events set amount = 1.00 where id = (select alice_event from fixture)$$), 1,
          'alice can correct her own event (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 0 where id = (select bob_event from fixture)$$), 0,
          'alice cannot update bob''s event (0 rows)');
select throws_ok($$update public.business_events set user_id = '33333333-3333-4333-8333-333333333333' where id = (select alice_event from fixture)$$,
                 '42501', 'permission denied for table business_events', 'alice cannot move her event to bob (42501)');
select is(pg_temp.affected($$delete from public.business_events where id = (select alice_last_event from fixture)$$), 1,
          'alice can delete her own event (1 row)');
select is(pg_temp.affected($$delete from public.business_events where id = (select bob_event from fixture)$$), 0,
          'alice cannot delete bob''s event (0 rows)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select is((select count(*)::int from public.business_events), (select bob_count from fixture),
          'bob reads exactly his own business events');
select is((select count(*)::int from public.business_events where user_id = '22222222-2222-4222-8222-222222222222'), 0,
          'bob cannot read alice''s events (0 rows visible)');
select is(pg_temp.affected($$insert into public.business_events (event_type) values ('signup')$$), 1,
          'bob can add an event (1 row)');
select throws_ok($$insert into public.business_events (user_id, event_type)
                   values ('22222222-2222-4222-8222-222222222222', 'signup')$$,
                 '42501', 'new row violates row-level security policy for table "business_events"',
                 'bob cannot add an event to alice''s data (42501 from the policy)');
select is(pg_temp.affected($$update public.business_events set event_type = 'visit' where id = (select bob_event from fixture)$$), 1,
          'bob can correct his own event (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 0 where id = (select alice_event from fixture)$$), 0,
          'bob cannot update alice''s event (0 rows)');
select is(pg_temp.affected($$delete from public.business_events where id = (select bob_last_event from fixture)$$), 1,
          'bob can delete his own event (1 row)');
select is(pg_temp.affected($$delete from public.business_events where id = (select alice_event from fixture)$$), 0,
          'bob cannot delete alice''s event (0 rows)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.business_events), (select all_count from fixture),
          'admin reads every user''s events');
select is(pg_temp.affected($$insert into public.business_events (event_type, amount) values ('order', 5)$$), 1,
          'admin can add an event of their own (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 0 where id = (select bob_event from fixture)$$), 0,
          'admin cannot update bob''s event (0 rows)');
select is(pg_temp.affected($$delete from public.business_events where id = (select bob_event from fixture)$$), 0,
          'admin cannot delete bob''s event (0 rows)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.business_events), (select all_count + 1 from fixture),
          'service_role reads every event');
select is(pg_temp.affected($$insert into public.business_events (user_id, event_type, amount, metadata)
                              values ('33333333-3333-4333-8333-333333333333', 'order', 42, '{"channel":"import"}')$$), 1,
          'service_role can add an event for any user (1 row)');
select is(pg_temp.affected($$update public.business_events set amount = 43 where metadata ->> 'channel' = 'import'$$), 1,
          'service_role can update any event (1 row)');
select is(pg_temp.affected($$delete from public.business_events where metadata ->> 'channel' = 'import'$$), 1,
          'service_role can delete any event (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select (select amount from public.business_events where id = f.alice_event),
           (select event_type from public.business_events where id = f.bob_event),
           (select count(*)::int from public.business_events where id in (f.alice_last_event, f.bob_last_event)),
           (select count(*)::int from public.business_events where user_id = '22222222-2222-4222-8222-222222222222') - f.alice_count,
           (select count(*)::int from public.business_events where user_id = '33333333-3333-4333-8333-333333333333') - f.bob_count
      from fixture f$$,
  $$values (1.00::numeric(14, 2), 'visit'::text, 0, 0, 0)$$,
  'the owners'' corrections and deletions landed, and nobody else''s writes did'
);

select * from finish();
rollback;
