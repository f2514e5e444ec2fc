-- 24_new_user_trigger.sql — profiles follow auth.users.
--
-- Proves:
--   * a new auth user gets a profile with role business_user, even when the sign-up data
--     (raw_user_meta_data, which the person chooses) says role admin; name and avatar come
--     from that sign-up data;
--   * the role comes from raw_app_meta_data (which only the service key writes): admin or
--     guest, and an unknown role there falls back to business_user;
--   * such a user is really not an admin (is_admin() false, admin RPCs refused), while an
--     app_metadata admin really is;
--   * changing the auth email or signing in updates the profile; deleting the auth user
--     deletes the profile.
begin;
select plan(10);

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

insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values
  ('00000000-0000-0000-0000-000000000000', '44444444-4444-4444-8444-444444444444', 'authenticated', 'authenticated',
   'mallory@example.com', '{"provider":"email","providers":["email"]}',
   '{"role":"admin","name":"  Mallory  ","avatar_url":"https://example.com/m.png"}', now(), now()),
  ('00000000-0000-0000-0000-000000000000', '55555555-5555-4555-8555-555555555555', 'authenticated', 'authenticated',
   'grace@example.com', '{"provider":"email","role":"admin"}', '{"full_name":"Grace Hopper"}', now(), now()),
  ('00000000-0000-0000-0000-000000000000', '66666666-6666-4666-8666-666666666666', 'authenticated', 'authenticated',
   'gus@example.com', '{"role":"guest"}', '{}', now(), now()),
  ('00000000-0000-0000-0000-000000000000', '77777777-7777-4777-8777-777777777777', 'authenticated', 'authenticated',
   'root@example.com', '{"role":"superuser"}', null, now(), now());

select results_eq(
  $$select email, name, role, avatar_url, is_active from public.profiles where id = '44444444-4444-4444-8444-444444444444'$$,
  $$values ('mallory@example.com'::text, 'Mallory'::text, 'business_user'::text, 'https://example.com/m.png'::text, true)$$,
  'a sign-up claiming role admin in its user metadata gets a business_user profile (name and avatar from the metadata)'
);
select results_eq(
  $$select name, role from public.profiles where id = '55555555-5555-4555-8555-555555555555'$$,
  $$values ('Grace Hopper'::text, 'admin'::text)$$,
  'a user whose app_metadata says admin gets an admin profile (name from full_name)'
);
select is((select role from public.profiles where id = '66666666-6666-4666-8666-666666666666'), 'guest',
          'a user whose app_metadata says guest gets a guest profile');
select results_eq(
  $$select name, role from public.profiles where id = '77777777-7777-4777-8777-777777777777'$$,
  $$values (null::text, 'business_user'::text)$$,
  'an unknown role in app_metadata falls back to business_user'
);

select pg_temp.login_as('44444444-4444-4444-8444-444444444444');
select is(public.is_admin(), false, 'the user who claimed admin at sign-up is not an admin');
select throws_ok($$select public.admin_overview()$$, '42501', 'Only administrators can do this',
                 'the user who claimed admin at sign-up cannot call the admin functions (42501)');
select is((select count(*)::int from public.profiles), 1, 'the user who claimed admin at sign-up reads only their own profile');
select pg_temp.login_as('55555555-5555-4555-8555-555555555555');
select is(public.is_admin(), true, 'the app_metadata admin is an admin');

select pg_temp.login_as('postgres');
update auth.users set email = 'mallory@example.org', last_sign_in_at = '2026-01-02 03:04:05+00'
 where id = '44444444-4444-4444-8444-444444444444';
select results_eq(
  $$select email, last_login from public.profiles where id = '44444444-4444-4444-8444-444444444444'$$,
  $$values ('mallory@example.org'::text, '2026-01-02 03:04:05+00'::timestamptz)$$,
  'a new auth email and a sign-in are copied to the profile'
);
delete from auth.users where id = '44444444-4444-4444-8444-444444444444';
select is((select count(*)::int from public.profiles where id = '44444444-4444-4444-8444-444444444444'), 0,
          'deleting the auth user deletes the profile');

select * from finish();
rollback;
