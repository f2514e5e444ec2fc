-- 10_profiles.sql — RLS matrix of public.profiles.
--
-- For anon, alice (user A), bob (user B), admin and service_role, each of SELECT / INSERT /
-- UPDATE / DELETE is asserted allowed or denied ("0 rows" = RLS hides the row silently,
-- "42501" = the statement is refused):
--   * anon: every operation refused with 42501 (no table privilege at all);
--   * alice / bob: read only their own row; update name, avatar_url and preferences of their
--     own row; another user's row: 0 rows; role, is_active, email: 42501 (column grants);
--     never insert or delete (42501);
--   * admin: reads every profile; updates only their own personal columns (another user's
--     row: 0 rows; role: 42501 — role changes go through admin_set_role); no insert/delete;
--   * service_role: full access (BYPASSRLS and all privileges).
begin;
select plan(33);

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

-- A fourth account whose profile service_role will create (the trigger-made one is removed).
insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', '44444444-4444-4444-8444-444444444444', 'authenticated',
        'authenticated', 'carol@taskdeck.dev', '{}', '{}', now(), now());
delete from public.profiles where id = '44444444-4444-4444-8444-444444444444';

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('anon');
select throws_ok($$select * from public.profiles$$, '42501', 'permission denied for table profiles',
                 'anon cannot read profiles (42501)');
select throws_ok($$insert into public.profiles (id, email) values ('44444444-4444-4444-8444-444444444444', 'carol@taskdeck.dev')$$,
                 '42501', 'permission denied for table profiles', 'anon cannot insert a profile (42501)');
select throws_ok($$update public.profiles set name = 'anon was here'$$, '42501', 'permission denied for table profiles',
                 'anon cannot update profiles (42501)');
select throws_ok($$delete from public.profiles$$, '42501', 'permission denied for table profiles',
                 'anon cannot delete profiles (42501)');

-- ---------------------------------------------------------------------------------------
-- alice (user A)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select results_eq($$select id, email from public.profiles$$,
                  $$values ('22222222-2222-4222-8222-222222222222'::uuid, 'alice@taskdeck.dev'::text)$$,
                  'alice reads exactly one profile: her own');
select is((select count(*)::int from public.profiles where id = '33333333-3333-4333-8333-333333333333'), 0,
          'alice cannot read bob''s profile (0 rows visible)');
select throws_ok($$insert into public.profiles (id, email) values ('44444444-4444-4444-8444-444444444444', 'carol@taskdeck.dev')$$,
                 '42501', 'permission denied for table profiles', 'alice cannot insert a profile (42501)');
select is(pg_temp.affected($$update public.profiles
                                set name = 'Alice A.', avatar_url = 'https://example.com/alice.png',
                                    preferences = '{"theme":"dark"}'
                              where id = '22222222-2222-4222-8222-222222222222'$$), 1,
          'alice can update her own name, avatar_url and preferences (1 row)');
select results_eq($$select name, avatar_url, preferences from public.profiles where id = '22222222-2222-4222-8222-222222222222'$$,
                  $$values ('Alice A.'::text, 'https://example.com/alice.png'::text, '{"theme":"dark"}'::jsonb)$$,
                  'alice''s profile now shows the new name, avatar_url and preferences');
select is(pg_temp.affected($$update public.profiles set name = 'Hacked by alice'
                              where id = '33333333-3333-4333-8333-333333333333'$$), 0,
          'alice cannot update bob''s profile (0 rows)');
select throws_ok($$update public.profiles set role = 'admin' where id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table profiles', 'alice cannot raise her own role (42501)');
select throws_ok($$update public.profiles set is_active = true where id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table profiles', 'alice cannot set her own is_active (42501)');
select throws_ok($$update public.profiles set email = 'boss@taskdeck.dev' where id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table profiles', 'alice cannot change her profile email (42501; Auth owns it)');
select throws_ok($$delete from public.profiles where id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table profiles', 'alice cannot delete her profile (42501)');
select throws_ok($$delete from public.profiles where id = '33333333-3333-4333-8333-333333333333'$$,
                 '42501', 'permission denied for table profiles', 'alice cannot delete bob''s profile (42501)');

-- ---------------------------------------------------------------------------------------
-- bob (user B)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('bob');
select results_eq($$select id from public.profiles$$,
                  $$values ('33333333-3333-4333-8333-333333333333'::uuid)$$,
                  'bob reads exactly one profile: his own');
select is((select count(*)::int from public.profiles where id = '22222222-2222-4222-8222-222222222222'), 0,
          'bob cannot read alice''s profile (0 rows visible)');
select throws_ok($$insert into public.profiles (id, email) values ('44444444-4444-4444-8444-444444444444', 'carol@taskdeck.dev')$$,
                 '42501', 'permission denied for table profiles', 'bob cannot insert a profile (42501)');
select is(pg_temp.affected($$update public.profiles set name = 'Robert' where id = '33333333-3333-4333-8333-333333333333'$$), 1,
          'bob can rename himself (1 row)');
select is(pg_temp.affected($$update public.profiles set preferences = '{}' where id = '22222222-2222-4222-8222-222222222222'$$), 0,
          'bob cannot update alice''s profile (0 rows)');
select throws_ok($$update public.profiles set role = 'admin' where id = '33333333-3333-4333-8333-333333333333'$$,
                 '42501', 'permission denied for table profiles', 'bob cannot raise his own role (42501)');
select throws_ok($$delete from public.profiles where id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table profiles', 'bob cannot delete alice''s profile (42501)');

-- ---------------------------------------------------------------------------------------
-- admin
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('admin');
select is((select count(*)::int from public.profiles
            where id in ('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
                         '33333333-3333-4333-8333-333333333333')), 3,
          'admin reads every profile (admin, alice and bob)');
select throws_ok($$insert into public.profiles (id, email) values ('44444444-4444-4444-8444-444444444444', 'carol@taskdeck.dev')$$,
                 '42501', 'permission denied for table profiles', 'admin cannot insert a profile (42501; the auth trigger does)');
select is(pg_temp.affected($$update public.profiles set name = 'Ada' where id = '11111111-1111-4111-8111-111111111111'$$), 1,
          'admin can rename themselves (1 row)');
select is(pg_temp.affected($$update public.profiles set name = 'Renamed by admin' where id = '33333333-3333-4333-8333-333333333333'$$), 0,
          'admin cannot edit bob''s profile directly (0 rows)');
select throws_ok($$update public.profiles set role = 'guest' where id = '33333333-3333-4333-8333-333333333333'$$,
                 '42501', 'permission denied for table profiles', 'admin cannot set a role by UPDATE (42501; admin_set_role does)');
select throws_ok($$delete from public.profiles where id = '33333333-3333-4333-8333-333333333333'$$,
                 '42501', 'permission denied for table profiles', 'admin cannot delete a profile (42501)');

-- ---------------------------------------------------------------------------------------
-- service_role
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select is((select count(*)::int from public.profiles), 3, 'service_role reads every profile');
select is(pg_temp.affected($$insert into public.profiles (id, email, name)
                              values ('44444444-4444-4444-8444-444444444444', 'carol@taskdeck.dev', 'Carol')$$), 1,
          'service_role can insert a profile (1 row)');
select is(pg_temp.affected($$update public.profiles set role = 'guest', is_active = false
                              where id = '44444444-4444-4444-8444-444444444444'$$), 1,
          'service_role can update any column of any profile (1 row)');
select is(pg_temp.affected($$delete from public.profiles where id = '44444444-4444-4444-8444-444444444444'$$), 1,
          'service_role can delete a profile (1 row)');

-- ---------------------------------------------------------------------------------------
-- Effects, checked as postgres
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select results_eq($$select id, name, role from public.profiles order by id$$,
                  $$values ('11111111-1111-4111-8111-111111111111'::uuid, 'Ada'::text, 'admin'::text),
                           ('22222222-2222-4222-8222-222222222222'::uuid, 'Alice A.'::text, 'business_user'::text),
                           ('33333333-3333-4333-8333-333333333333'::uuid, 'Robert'::text, 'business_user'::text)$$,
                  'only the allowed changes landed: each user renamed themselves, nobody''s role changed, carol is gone');

select * from finish();
rollback;
