-- 28b_own_user_id.sql — naming one's own user_id on insert (issue #9, item 4).
--
-- The official clients send what the app gives them, and `insert({user_id: auth.uid(), …})`
-- is the usual Supabase idiom. Proves:
--   * alice and bob can insert a task and a business event that name their own user_id
--     (1 row, owned by them), and the default still fills it when they leave it out;
--   * naming another user's id is refused by the policy (42501 "new row violates row-level
--     security policy"), for a business user and for the admin alike, and also for a
--     data_import task whose path is in that other user's folder;
--   * a guest naming their own id is still refused (guests only read);
--   * user_id is insertable but not updatable (a row never changes owner), and no column
--     beyond user_id became writable for authenticated.
begin;
select plan(17);

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
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif v_sub is not null then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'email', who || '@taskdeck.dev', 'aal', 'aal1')::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

-- Runs one INSERT / UPDATE / DELETE as the current identity and returns how many rows it
-- affected. An error is reported as a warning and gives -1, which fails the assertion
-- without stopping the file.
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
-- Their own id: accepted
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select is(pg_temp.affected($$insert into public.tasks (user_id, title, type, parameters)
                              values ('22222222-2222-4222-8222-222222222222', 'Named export', 'data_export',
                                      '{"dataset":"events","format":"csv"}')$$), 1,
          'alice can create a task naming her own user_id (1 row)');
select is(pg_temp.affected($$insert into public.business_events (user_id, event_type, amount, metadata)
                              values ('22222222-2222-4222-8222-222222222222', 'order', 12.50, '{"channel":"named"}')$$), 1,
          'alice can add a business event naming her own user_id (1 row)');
select is(pg_temp.affected($$insert into public.tasks (user_id, title, type, parameters)
                              values ('22222222-2222-4222-8222-222222222222', 'Named import', 'data_import',
                                      '{"path":"22222222-2222-4222-8222-222222222222/events.csv"}')$$), 1,
          'alice can create a data_import task from her own folder naming her user_id (1 row)');
select is(pg_temp.affected($$insert into public.tasks (title, type, parameters)
                              values ('Unnamed export', 'data_export', '{"dataset":"tasks","format":"json"}')$$), 1,
          'alice can still leave user_id out (1 row)');

select pg_temp.login_as('bob');
select is(pg_temp.affected($$insert into public.tasks (user_id, title, type, parameters)
                              values ('33333333-3333-4333-8333-333333333333', 'Bob named', 'data_export',
                                      '{"dataset":"events","format":"json"}')$$), 1,
          'bob can create a task naming his own user_id (1 row)');

-- ---------------------------------------------------------------------------------------
-- Someone else's id: refused by the policy
-- ---------------------------------------------------------------------------------------
select throws_ok($$insert into public.business_events (user_id, event_type)
                   values ('22222222-2222-4222-8222-222222222222', 'visit')$$,
                 '42501', 'new row violates row-level security policy for table "business_events"',
                 'bob cannot add an event to alice''s data by naming her user_id (42501)');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('22222222-2222-4222-8222-222222222222', 'Into alice''s data', 'data_import',
                           '{"path":"22222222-2222-4222-8222-222222222222/events.csv"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'bob cannot create a data_import task as alice, even with a path in her folder (42501)');

select pg_temp.login_as('admin');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('22222222-2222-4222-8222-222222222222', 'Admin for alice', 'data_export',
                           '{"dataset":"events","format":"csv"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'the admin cannot create a task in alice''s name either (42501)');
select throws_ok($$insert into public.business_events (user_id, event_type)
                   values ('33333333-3333-4333-8333-333333333333', 'signup')$$,
                 '42501', 'new row violates row-level security policy for table "business_events"',
                 'the admin cannot add an event to bob''s data (42501)');

-- ---------------------------------------------------------------------------------------
-- A guest naming their own id: still only reads
-- ---------------------------------------------------------------------------------------
select lives_ok($$select public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest')$$,
                'the admin makes bob a guest');
select pg_temp.login_as('bob');
select throws_ok($$insert into public.tasks (user_id, title, type, parameters)
                   values ('33333333-3333-4333-8333-333333333333', 'Guest named', 'data_export',
                           '{"dataset":"events","format":"csv"}')$$,
                 '42501', 'new row violates row-level security policy for table "tasks"',
                 'guest bob cannot create a task even naming his own user_id (42501)');

-- ---------------------------------------------------------------------------------------
-- Owners never change, and nothing else became writable
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select throws_ok($$update public.tasks set user_id = '22222222-2222-4222-8222-222222222222'
                    where id = 'a0000000-0000-4000-8000-000000000003'$$,
                 '42501', 'permission denied for table tasks',
                 'alice cannot update user_id, not even to her own id (42501: the column is insert-only)');
select throws_ok($$update public.business_events set user_id = '22222222-2222-4222-8222-222222222222'
                    where user_id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table business_events',
                 'alice cannot update the user_id of her events (42501)');

select pg_temp.login_as('postgres');
select set_eq(
  $$select a.attname::text from pg_attribute a
     where a.attrelid = 'public.tasks'::regclass and a.attnum > 0 and not a.attisdropped
       and has_column_privilege('authenticated', a.attrelid, a.attnum, 'INSERT')$$,
  array['user_id', 'title', 'description', 'type', 'parameters', 'priority', 'scheduled_at', 'max_attempts', 'recurrence'],
  'authenticated may insert exactly the user''s columns of tasks, user_id now among them'
);
select set_eq(
  $$select a.attname::text from pg_attribute a
     where a.attrelid = 'public.business_events'::regclass and a.attnum > 0 and not a.attisdropped
       and has_column_privilege('authenticated', a.attrelid, a.attnum, 'INSERT')$$,
  array['user_id', 'event_type', 'amount', 'occurred_at', 'metadata'],
  'authenticated may insert exactly user_id, event_type, amount, occurred_at and metadata of business_events'
);
select is_empty(
  $$select a.attrelid::regclass::text || '.' || a.attname from pg_attribute a
     where a.attrelid in ('public.tasks'::regclass, 'public.business_events'::regclass)
       and a.attname = 'user_id'
       and has_column_privilege('authenticated', a.attrelid, a.attnum, 'UPDATE')$$,
  'authenticated may not update user_id of tasks or business_events'
);

select results_eq(
  $$select title, user_id from public.tasks
     where title in ('Named export', 'Named import', 'Unnamed export', 'Bob named', 'Into alice''s data',
                     'Admin for alice', 'Guest named')
     order by title$$,
  $$values ('Bob named'::text, '33333333-3333-4333-8333-333333333333'::uuid),
           ('Named export', '22222222-2222-4222-8222-222222222222'),
           ('Named import', '22222222-2222-4222-8222-222222222222'),
           ('Unnamed export', '22222222-2222-4222-8222-222222222222')$$,
  'exactly the inserts naming the caller''s own id (or none) landed, each owned by its caller'
);

select * from finish();
rollback;
