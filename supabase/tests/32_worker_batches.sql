-- 32_worker_batches.sql — what migration 20250101001200_worker_batches changed, and that
-- updated_at still follows every update.
--
--   * the updated_at trigger of tasks fires only when an update leaves updated_at as it was;
--   * so an update by the service connection that does not name updated_at (leases,
--     progress) still sets it to now(), and one that sets it (the worker's claims and
--     completions write `updated_at = now()`) keeps the value written;
--   * a user's update of her task, and cancel_task, still set it to now();
--   * a user cannot write updated_at herself (no column privilege).
begin;
select plan(7);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif who = 'alice' then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      '{"sub": "22222222-2222-4222-8222-222222222222", "role": "authenticated", "aud": "authenticated", "email": "alice@taskdeck.dev", "aal": "aal1"}', true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

select is(
  (select pg_get_triggerdef(oid) from pg_trigger
    where tgrelid = 'public.tasks'::regclass and tgname = 'tasks_set_updated_at'),
  'CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON public.tasks FOR EACH ROW WHEN ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) EXECUTE FUNCTION private.set_updated_at()',
  'the updated_at trigger fires only when an update leaves updated_at as it was'
);

select pg_temp.login_as('postgres');
insert into public.tasks (id, user_id, title, type, parameters, updated_at)
values ('32000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222',
        'Export for the batches test', 'data_export', '{"dataset": "tasks", "format": "csv"}',
        '2020-01-01 00:00:00+00');

-- The worker's lease renewal names locked_until only: updated_at moves to now().
update public.tasks set locked_until = now() + interval '30 seconds'
 where id = '32000000-0000-4000-8000-000000000001';
select is(
  (select updated_at from public.tasks where id = '32000000-0000-4000-8000-000000000001'),
  now(),
  'a service update that does not set updated_at still moves it to now()'
);

-- A claim or a completion sets it itself: the value written is kept.
update public.tasks set updated_at = '2021-06-01 12:00:00+00', progress = 10
 where id = '32000000-0000-4000-8000-000000000001';
select is(
  (select updated_at from public.tasks where id = '32000000-0000-4000-8000-000000000001'),
  '2021-06-01 12:00:00+00'::timestamptz,
  'an update that sets updated_at keeps the value it wrote'
);
update public.tasks set progress = 0, status = 'pending', locked_until = null
 where id = '32000000-0000-4000-8000-000000000001';
update public.tasks set updated_at = '2020-01-01 00:00:00+00'
 where id = '32000000-0000-4000-8000-000000000001';

-- alice edits her pending task: updated_at moves to now().
select pg_temp.login_as('alice');
update public.tasks set title = 'Export, renamed'
 where id = '32000000-0000-4000-8000-000000000001';
select pg_temp.login_as('postgres');
select is(
  (select updated_at from public.tasks where id = '32000000-0000-4000-8000-000000000001'),
  now(),
  'a user''s edit of her task moves updated_at to now()'
);

-- alice cancels it: updated_at moves to now() again.
update public.tasks set updated_at = '2020-01-01 00:00:00+00'
 where id = '32000000-0000-4000-8000-000000000001';
select pg_temp.login_as('alice');
select is(
  (select status from public.cancel_task('32000000-0000-4000-8000-000000000001')),
  'cancelled',
  'alice cancels her task'
);
select pg_temp.login_as('postgres');
select is(
  (select updated_at from public.tasks where id = '32000000-0000-4000-8000-000000000001'),
  now(),
  'cancel_task moves updated_at to now()'
);

-- alice cannot write updated_at herself.
select pg_temp.login_as('alice');
select throws_ok(
  $$update public.tasks set updated_at = '2000-01-01' where id = '32000000-0000-4000-8000-000000000001'$$,
  '42501', null,
  'a user cannot set updated_at'
);

select * from finish();
rollback;
