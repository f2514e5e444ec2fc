-- 19_storage_objects.sql — RLS matrix of storage.objects (and what storage.buckets shows).
--
-- Every object lives under its owner's folder `<user id>/…`. Storage runs each request as
-- plain SQL on storage.objects under the caller's role and claims, so these are its rules:
--   * anon: reads nothing (0 rows), uploads nothing (42501 from the policies), updates and
--     deletes nothing (0 rows);
--   * alice / bob: reports — read and delete their own objects, never upload or change them
--     (42501 / 0 rows), never see another user's; imports and avatars — read, upload, replace
--     and delete within their own folder only (another user's folder: 42501 on upload,
--     0 rows otherwise);
--   * admin: reads everyone's reports (not their imports or avatars); uploads, changes and
--     deletes nothing of another user's;
--   * service_role: full access (the worker writes reports with the service key).
begin;
select plan(40);

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

-- Recent Storage versions add a statement trigger (storage.protect_delete) that refuses any
-- DELETE on storage tables unless storage.allow_delete_query is 'true'; the Storage API sets
-- it for its own deletes, so the tests do too (where the trigger is absent it is unused).
select from set_config('storage.allow_delete_query', 'true', true);

-- Objects already stored, as Storage would record them (owner_id = the uploader's id).
insert into storage.objects (bucket_id, name, owner_id, metadata) values
  ('reports', '22222222-2222-4222-8222-222222222222/q3.json', null, '{"mimetype":"application/json"}'),
  ('reports', '22222222-2222-4222-8222-222222222222/old.json', null, '{"mimetype":"application/json"}'),
  ('reports', '33333333-3333-4333-8333-333333333333/monthly.csv', null, '{"mimetype":"text/csv"}'),
  ('imports', '22222222-2222-4222-8222-222222222222/old.csv', '22222222-2222-4222-8222-222222222222', '{"mimetype":"text/csv"}'),
  ('imports', '33333333-3333-4333-8333-333333333333/march-events.csv', '33333333-3333-4333-8333-333333333333', '{"mimetype":"text/csv"}'),
  ('avatars', '22222222-2222-4222-8222-222222222222/me.png', '22222222-2222-4222-8222-222222222222', '{"mimetype":"image/png"}'),
  ('avatars', '33333333-3333-4333-8333-333333333333/me.png', '33333333-3333-4333-8333-333333333333', '{"mimetype":"image/png"}');

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select is((select count(*)::int from storage.objects), 0, 'anon reads no object, not even public avatars rows (0 rows visible)');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('imports', 'anon/x.csv')$$,
                 '42501', 'new row violates row-level security policy for table "objects"', 'anon cannot upload an object (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}'$$), 0, 'anon cannot update objects (0 rows)');
select is(pg_temp.affected($$delete from storage.objects$$), 0, 'anon cannot delete objects (0 rows)');
select is((select count(*)::int from storage.buckets), 0, 'anon sees no bucket rows (0 rows visible)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select set_eq($$select bucket_id || ':' || name from storage.objects$$,
              array['reports:22222222-2222-4222-8222-222222222222/q3.json',
                    'reports:22222222-2222-4222-8222-222222222222/old.json',
                    'imports:22222222-2222-4222-8222-222222222222/old.csv',
                    'avatars:22222222-2222-4222-8222-222222222222/me.png'],
              'alice reads her own reports, imports and avatar, and nothing else');
select is((select count(*)::int from storage.objects where bucket_id = 'reports' and name like '33333333-%'), 0,
          'alice cannot read bob''s reports (0 rows visible)');
select is((select count(*)::int from storage.objects where bucket_id = 'imports' and name like '33333333-%'), 0,
          'alice cannot read bob''s imports (0 rows visible)');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name, owner_id)
                              values ('imports', '22222222-2222-4222-8222-222222222222/x.csv', '22222222-2222-4222-8222-222222222222')$$), 1,
          'alice can upload imports/<alice id>/x.csv (1 row)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', '33333333-3333-4333-8333-333333333333/x.csv', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice cannot upload imports/<bob id>/x.csv (42501)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', 'x.csv', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice cannot upload to the root of imports, outside any folder (42501)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('reports', '22222222-2222-4222-8222-222222222222/fake.json', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice cannot upload into reports, not even her own folder (42501; only the worker writes reports)');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name, owner_id)
                              values ('avatars', '22222222-2222-4222-8222-222222222222/new.png', '22222222-2222-4222-8222-222222222222')$$), 1,
          'alice can upload avatars/<alice id>/new.png (1 row)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('avatars', '33333333-3333-4333-8333-333333333333/new.png', '22222222-2222-4222-8222-222222222222')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice cannot upload into bob''s avatar folder (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{"mimetype":"text/plain"}'
                              where bucket_id = 'imports' and name = '22222222-2222-4222-8222-222222222222/old.csv'$$), 1,
          'alice can replace her own import (1 row)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}'
                              where bucket_id = 'imports' and name = '33333333-3333-4333-8333-333333333333/march-events.csv'$$), 0,
          'alice cannot replace bob''s import (0 rows)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}'
                              where bucket_id = 'reports' and name = '22222222-2222-4222-8222-222222222222/q3.json'$$), 0,
          'alice cannot change her own report file (0 rows; reports are the worker''s)');
select throws_ok($$update storage.objects set name = '33333333-3333-4333-8333-333333333333/moved.csv'
                   where bucket_id = 'imports' and name = '22222222-2222-4222-8222-222222222222/old.csv'$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'alice cannot move her import into bob''s folder (42501)');
select is(pg_temp.affected($$delete from storage.objects
                              where bucket_id = 'reports' and name = '22222222-2222-4222-8222-222222222222/old.json'$$), 1,
          'alice can delete her own report file (1 row)');
select is(pg_temp.affected($$delete from storage.objects where name like '33333333-%'$$), 0,
          'alice cannot delete any of bob''s objects (0 rows)');
select is((select count(*)::int from storage.buckets where id in ('reports', 'imports', 'avatars')), 3,
          'alice sees the three buckets');
select throws_ok($$insert into storage.buckets (id, name, public) values ('alice-bucket', 'alice-bucket', true)$$,
                 '42501', 'new row violates row-level security policy for table "buckets"',
                 'alice cannot create a bucket (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select set_eq($$select bucket_id || ':' || name from storage.objects$$,
              array['reports:33333333-3333-4333-8333-333333333333/monthly.csv',
                    'imports:33333333-3333-4333-8333-333333333333/march-events.csv',
                    'avatars:33333333-3333-4333-8333-333333333333/me.png'],
              'bob reads his own reports, imports and avatar, and nothing else');
select is((select count(*)::int from storage.objects where name like '22222222-%'), 0,
          'bob cannot read any of alice''s objects (0 rows visible)');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name, owner_id)
                              values ('imports', '33333333-3333-4333-8333-333333333333/april.csv', '33333333-3333-4333-8333-333333333333')$$), 1,
          'bob can upload imports/<bob id>/april.csv (1 row)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', '22222222-2222-4222-8222-222222222222/evil.csv', '33333333-3333-4333-8333-333333333333')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'bob cannot upload into alice''s import folder (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}' where name like '22222222-%'$$), 0,
          'bob cannot change any of alice''s objects (0 rows)');
select is(pg_temp.affected($$delete from storage.objects
                              where bucket_id = 'reports' and name = '22222222-2222-4222-8222-222222222222/q3.json'$$), 0,
          'bob cannot delete alice''s report (0 rows)');
select is(pg_temp.affected($$delete from storage.objects
                              where bucket_id = 'avatars' and name = '33333333-3333-4333-8333-333333333333/me.png'$$), 1,
          'bob can delete his own avatar (1 row)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select set_eq($$select name from storage.objects where bucket_id = 'reports'$$,
              array['22222222-2222-4222-8222-222222222222/q3.json', '33333333-3333-4333-8333-333333333333/monthly.csv'],
              'admin reads every user''s reports (alice''s and bob''s)');
select is((select count(*)::int from storage.objects where bucket_id <> 'reports'), 0,
          'admin cannot read other users'' imports or avatars (0 rows visible)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('reports', '33333333-3333-4333-8333-333333333333/fake.csv', '11111111-1111-4111-8111-111111111111')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'admin cannot upload into bob''s reports (42501)');
select throws_ok($$insert into storage.objects (bucket_id, name, owner_id)
                   values ('imports', '33333333-3333-4333-8333-333333333333/fake.csv', '11111111-1111-4111-8111-111111111111')$$,
                 '42501', 'new row violates row-level security policy for table "objects"',
                 'admin cannot upload into bob''s imports (42501)');
select is(pg_temp.affected($$update storage.objects set metadata = '{}'
                              where bucket_id = 'reports' and name = '33333333-3333-4333-8333-333333333333/monthly.csv'$$), 0,
          'admin cannot change bob''s report file (0 rows)');
select is(pg_temp.affected($$delete from storage.objects
                              where bucket_id = 'reports' and name = '33333333-3333-4333-8333-333333333333/monthly.csv'$$), 0,
          'admin cannot delete bob''s report file (0 rows)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from storage.objects), 8, 'service_role reads every object');
select is(pg_temp.affected($$insert into storage.objects (bucket_id, name)
                              values ('reports', '22222222-2222-4222-8222-222222222222/new.json')$$), 1,
          'service_role can write a report into alice''s folder (1 row)');
select is(pg_temp.affected($$update storage.objects set metadata = '{"size":10}'
                              where bucket_id = 'reports' and name = '22222222-2222-4222-8222-222222222222/new.json'$$), 1,
          'service_role can update any object (1 row)');
select is(pg_temp.affected($$delete from storage.objects
                              where bucket_id = 'imports' and name = '33333333-3333-4333-8333-333333333333/april.csv'$$), 1,
          'service_role can delete any object (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq(
  $$select bucket_id, name from storage.objects order by bucket_id, name$$,
  $$values ('avatars'::text, '22222222-2222-4222-8222-222222222222/me.png'::text),
           ('avatars', '22222222-2222-4222-8222-222222222222/new.png'),
           ('imports', '22222222-2222-4222-8222-222222222222/old.csv'),
           ('imports', '22222222-2222-4222-8222-222222222222/x.csv'),
           ('imports', '33333333-3333-4333-8333-333333333333/march-events.csv'),
           ('reports', '22222222-2222-4222-8222-222222222222/new.json'),
           ('reports', '22222222-2222-4222-8222-222222222222/q3.json'),
           ('reports', '33333333-3333-4333-8333-333333333333/monthly.csv')$$,
  'exactly the allowed uploads and deletions landed'
);

select * from finish();
rollback;
