-- 26_guests.sql — guests only read.
--
-- Proves: a user whose role is guest (set by an admin) reads their own rows like anyone,
-- but cannot create, edit or retry tasks, nor add, edit or delete business events (42501
-- or 0 rows); promoted back to business_user, they can create tasks again.
begin;
select plan(9);

-- bob becomes a guest (as the seed's admin would do it, through the admin function)
set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}', true);
select lives_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest')$$,
                'the admin makes bob a guest');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"33333333-3333-4333-8333-333333333333","role":"authenticated"}', true);
select is((select count(*)::int from public.tasks), 2, 'guest bob still reads his own two tasks');
select throws_ok(
  $$insert into public.tasks (title, type, parameters) values ('x', 'data_export', '{"dataset":"events","format":"csv"}')$$,
  '42501', null, 'guest bob cannot create a task (42501)');
with u as (update public.tasks set title = 'renamed' where id = 'b0000000-0000-4000-8000-000000000002' returning 1)
select is(count(*)::int, 0, 'guest bob cannot edit his pending task (0 rows)') from u;
select throws_ok($$select public.retry_task('b0000000-0000-4000-8000-000000000001')$$, '42501', null,
                 'guest bob cannot re-queue a task (42501)');
select throws_ok($$insert into public.business_events (event_type, amount) values ('order', 10)$$, '42501', null,
                 'guest bob cannot add a business event (42501)');
with d as (delete from public.business_events returning 1)
select is(count(*)::int, 0, 'guest bob cannot delete his business events (0 rows)') from d;
reset role;

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}', true);
select lives_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'business_user')$$,
                'the admin makes bob a business user again');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"33333333-3333-4333-8333-333333333333","role":"authenticated"}', true);
select lives_ok(
  $$insert into public.tasks (title, type, parameters) values ('x', 'data_export', '{"dataset":"events","format":"csv"}')$$,
  'business user bob can create a task again');
reset role;

select * from finish();
rollback;
