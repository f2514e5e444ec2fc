-- 25_my_sessions.sql — my_sessions() and revoke_my_session(uuid), behind the security page.
--
-- Proves: a user lists only their own Auth sessions, with the one their JWT carries marked
-- current; a user signs out one of their own sessions but not another user's (PT404, and
-- bob's session survives); anon can call neither (42501).
begin;
select plan(9);

insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip) values
  ('5e550000-0000-4000-8000-00000000000a', '22222222-2222-4222-8222-222222222222', now() - interval '2 days', now() - interval '2 days', 'aal1', 'Firefox on Linux', '10.0.0.1'),
  ('5e550000-0000-4000-8000-00000000000b', '22222222-2222-4222-8222-222222222222', now() - interval '1 hour', now() - interval '1 hour', 'aal2', 'Chromium on Android', '10.0.0.2'),
  ('5e550000-0000-4000-8000-00000000000c', '33333333-3333-4333-8333-333333333333', now(), now(), 'aal1', 'Safari', '10.0.0.3');

-- anon
set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select throws_ok($$select * from public.my_sessions()$$, '42501', null, 'anon cannot list sessions (42501)');
select throws_ok($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000000a')$$, '42501', null,
                 'anon cannot revoke a session (42501)');
reset role;

-- alice, on session b
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub":"22222222-2222-4222-8222-222222222222","role":"authenticated","session_id":"5e550000-0000-4000-8000-00000000000b"}', true);
select results_eq(
  $$select id::text, is_current, user_agent, ip from public.my_sessions()$$,
  $$values ('5e550000-0000-4000-8000-00000000000b', true, 'Chromium on Android'::text, '10.0.0.2'::text),
           ('5e550000-0000-4000-8000-00000000000a', false, 'Firefox on Linux', '10.0.0.1')$$,
  'alice lists her two sessions, newest first, the current one marked'
);
select throws_ok($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000000c')$$, 'PT404', 'Session not found',
                 'alice cannot sign out bob''s session: it is "not found" to her');
select lives_ok($$select public.revoke_my_session('5e550000-0000-4000-8000-00000000000a')$$,
                'alice signs out her other session');
select is((select count(*)::int from public.my_sessions()), 1, 'alice has one session left');
select throws_ok($$select * from auth.sessions$$, '42501', null, 'alice cannot read auth.sessions directly (42501)');
reset role;

select is((select count(*)::int from auth.sessions where id = '5e550000-0000-4000-8000-00000000000c'), 1,
          'bob''s session is still there');
select is((select count(*)::int from auth.sessions where id = '5e550000-0000-4000-8000-00000000000a'), 0,
          'alice''s revoked session is gone');

select * from finish();
rollback;
