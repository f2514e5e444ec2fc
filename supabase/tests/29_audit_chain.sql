-- 29_audit_chain.sql — the tamper-evident audit trail (migration 20250101000700_audit_chain).
--
--   * the worker's own writes take no part in the chain: no audit row, no chain lock;
--   * rows written by the real triggers (a profile, a task, a setting, a role change) and a
--     row the service key appends are chained: seq 1, 2, 3 …, prev_hash = the previous
--     row's hash, and hash = sha256(prev_hash || the documented canonical content), whatever
--     seq / hash a writer tried to supply;
--   * verify_audit_chain() reports the intact chain with its head;
--   * nobody but the owner holds UPDATE / DELETE / TRUNCATE: service_role, authenticated,
--     and a role holding what postgres holds on hosted Supabase all get 42501, and the owner
--     role itself is refused by the append-only guard; nobody is a member of the owner;
--   * a superuser who goes around the guard is caught: an edited row is named with
--     'hash mismatch', a row rewritten together with its hash makes the next one report
--     'prev_hash does not match the previous row', a deleted row a 'gap in sequence';
--   * only admins may call verify_audit_chain() (alice, a guest and anon: 42501).
begin;
select plan(46);

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
  elsif who = 'postgres_like' then
    -- A direct connection with postgres's hosted privileges: no JWT.
    perform set_config('role', 'postgres_like', true);
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
                        'aal', 'aal2', 'email', who || '@taskdeck.dev')::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

-- The chain as the migration documents it, recomputed here from the columns themselves (not
-- through private.audit_row_content), so a change of the canonical form fails this file.
create function pg_temp.expected_hash(l public.audit_logs) returns bytea
language sql stable as $$
  select sha256(l.prev_hash || convert_to(jsonb_build_array(
    l.seq, l.id, to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    l.actor_id, l.subject_user_id, l.action, l.table_name, l.record_id,
    l.old_data, l.new_data, l.ip_address, l.user_agent)::text, 'UTF8'))
$$;

create function pg_temp.verify() returns table (ok boolean, seq bigint, problem text)
language sql as $$
  select v.ok, v.seq, v.problem from public.verify_audit_chain() v
$$;

-- ---------------------------------------------------------------------------------------
-- Shape: owner, members, privileges
-- ---------------------------------------------------------------------------------------
select is((select c.relowner::regrole::text from pg_class c where c.oid = 'public.audit_logs'::regclass),
          'audit_keeper', 'public.audit_logs belongs to audit_keeper');
select ok((select not rolcanlogin from pg_roles where rolname = 'audit_keeper'),
          'audit_keeper cannot log in');
select is_empty($$select member::regrole::text from pg_auth_members where roleid = 'audit_keeper'::regrole$$,
                'nobody is a member of audit_keeper (postgres gave the membership back after the ownership change)');
select is_empty(
  $$select a.grantee::regrole::text || ' ' || a.privilege_type
      from pg_class c, aclexplode(c.relacl) a
     where c.oid = 'public.audit_logs'::regclass
       and a.privilege_type in ('UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES')
       and a.grantee <> 'audit_keeper'::regrole$$,
  'no role but the owner holds UPDATE, DELETE, TRUNCATE, TRIGGER or REFERENCES on audit_logs (not postgres either)');
select is_empty(
  $$select a.grantee::regrole::text || ' ' || a.privilege_type
      from pg_class c, aclexplode(c.relacl) a
     where c.oid = 'public.audit_logs_id_seq'::regclass and a.grantee <> 'audit_keeper'::regrole$$,
  'nobody but the owner holds a privilege on the id sequence (no setval to make inserts collide)');
select results_eq(
  $$select p.proname::text collate "default", p.proowner::regrole::text collate "default"
      from pg_proc p where p.oid in ('private.audit_chain_link()'::regprocedure,
                                     'private.audit_row_content(public.audit_logs)'::regprocedure,
                                     'private.audit_append_only()'::regprocedure)
     order by 1$$,
  $$values ('audit_append_only'::text, 'audit_keeper'::text), ('audit_chain_link', 'audit_keeper'),
           ('audit_row_content', 'audit_keeper')$$,
  'the chain trigger, the append-only guard and the canonical form belong to audit_keeper (postgres cannot replace them)');
select ok((select prosecdef and 'search_path=""' = any (proconfig) from pg_proc where oid = 'private.audit_chain_link()'::regprocedure),
          'the chain trigger is SECURITY DEFINER with an empty search_path');
select is_definer('public', 'verify_audit_chain', array[]::name[], 'verify_audit_chain() is SECURITY DEFINER');
select ok((select 'search_path=""' = any (proconfig) from pg_proc where oid = 'public.verify_audit_chain()'::regprocedure),
          'verify_audit_chain() runs with an empty search_path');

-- ---------------------------------------------------------------------------------------
-- The worker's fast path stays out of the chain
-- ---------------------------------------------------------------------------------------
select is((select count(*)::int from public.audit_logs), 0, 'the seed leaves the audit trail empty');
select pg_temp.login_as('postgres');
update public.tasks set status = 'running', progress = 40, locked_by = 'worker-29',
                        locked_until = now() + interval '30 seconds', started_at = now()
 where id = (select id from public.tasks where status = 'pending' order by created_at limit 1);
select is((select count(*)::int from public.audit_logs), 0, 'the worker''s claim and progress writes leave no audit row');
select is((select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()), 0,
          'and take no chain lock: the worker never waits for audited transactions');

-- ---------------------------------------------------------------------------------------
-- Rows written by the real triggers, and one appended by the service key, are chained
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
update public.profiles set name = 'Alice Chained' where id = '22222222-2222-4222-8222-222222222222';
insert into public.tasks (title, type, parameters)
values ('Chained export', 'data_export', '{"dataset":"events","format":"json"}');
update public.tasks set priority = 'high' where title = 'Chained export';
select pg_temp.login_as('admin');
update public.system_settings set value = '"Chained banner"' where key = 'maintenance_banner';
select from public.admin_set_role('33333333-3333-4333-8333-333333333333', 'guest');
select pg_temp.login_as('service_role');
insert into public.audit_logs (action, table_name, record_id, seq, prev_hash, hash)
values ('system.note', 'tasks', 'x', 1000, '\x00'::bytea, '\x00'::bytea);

select pg_temp.login_as('postgres');
select results_eq(
  $$select seq::int, action from public.audit_logs order by seq$$,
  $$values (1, 'profile.updated'::text), (2, 'task.created'), (3, 'task.updated'),
           (4, 'setting.update'), (5, 'profile.role_changed'), (6, 'system.note')$$,
  'each action has the next place in the chain: seq 1 to 6 without gaps, in the order they happened');
select is_empty(
  $$select seq from (select seq, prev_hash, lag(hash) over (order by seq) as before from public.audit_logs) c
     where prev_hash <> coalesce(before, decode(repeat('00', 32), 'hex'))$$,
  'every prev_hash is the previous row''s hash (32 zero bytes for the first)');
select is_empty($$select seq from public.audit_logs l where l.hash <> pg_temp.expected_hash(l)$$,
                'every hash recomputes as sha256(prev_hash || canonical content)');
select is((select count(distinct hash)::int from public.audit_logs), 6, 'the six hashes all differ');
select ok((select seq = 6 and hash = pg_temp.expected_hash(l) from public.audit_logs l where action = 'system.note'),
          'the seq and hash the service key supplied were replaced by the chain''s own');

select pg_temp.login_as('admin');
select results_eq(
  $$select ok, id, seq, problem, row_count::int, last_seq::int from public.verify_audit_chain()$$,
  $$values (true, null::bigint, null::bigint, null::text, 6, 6)$$,
  'verify_audit_chain() finds the chain intact: ok, no broken row, 6 rows checked, head at seq 6');
select is((select last_hash from public.verify_audit_chain()),
          (select encode(hash, 'hex') from public.audit_logs where seq = 6),
          'it returns the head''s hash in hex, to be kept elsewhere');

-- ---------------------------------------------------------------------------------------
-- Nobody rewrites history
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('service_role');
select throws_ok($$update public.audit_logs set action = 'hidden'$$, '42501', 'permission denied for table audit_logs',
                 'service_role cannot update audit rows (42501)');
select throws_ok($$delete from public.audit_logs where seq = 3$$, '42501', 'permission denied for table audit_logs',
                 'service_role cannot delete audit rows (42501)');
select throws_ok($$truncate public.audit_logs$$, '42501', 'permission denied for table audit_logs',
                 'service_role cannot truncate the audit trail (42501)');

select pg_temp.login_as('alice');
select throws_ok($$update public.audit_logs set action = 'hidden' where actor_id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table audit_logs', 'alice cannot update her audit rows (42501)');
select throws_ok($$delete from public.audit_logs where actor_id = '22222222-2222-4222-8222-222222222222'$$,
                 '42501', 'permission denied for table audit_logs', 'alice cannot delete her audit rows (42501)');
select throws_ok($$truncate public.audit_logs$$, '42501', 'permission denied for table audit_logs',
                 'alice cannot truncate the audit trail (42501)');

-- What postgres is on hosted Supabase: not a superuser, BYPASSRLS, granted the API roles.
select pg_temp.login_as('postgres');
create role postgres_like nologin bypassrls;
grant anon, authenticated, service_role to postgres_like;
grant usage, create on schema private to postgres_like;  -- hosted postgres owns private
select pg_temp.login_as('postgres_like');
select throws_ok($$update public.audit_logs set action = 'hidden' where seq = 2$$, '42501',
                 'permission denied for table audit_logs', 'a postgres-like role cannot update audit rows (42501)');
select throws_ok($$delete from public.audit_logs where seq = 2$$, '42501',
                 'permission denied for table audit_logs', 'a postgres-like role cannot delete audit rows (42501)');
select throws_ok($$truncate public.audit_logs$$, '42501',
                 'permission denied for table audit_logs', 'a postgres-like role cannot truncate the audit trail (42501)');
select throws_ok($$alter table public.audit_logs disable trigger audit_logs_chain$$, '42501',
                 'must be owner of table audit_logs', 'nor switch off the chain trigger (42501: not the owner)');
select ok(not pg_has_role('postgres_like', 'audit_keeper', 'MEMBER'),
          'nor act as the owner role (it is no member of audit_keeper)');
select throws_ok($$create or replace function private.audit_chain_link() returns trigger language plpgsql as 'begin return new; end'$$,
                 '42501', 'must be owner of function audit_chain_link', 'nor replace the chain function (42501: not the owner)');
select is((select count(*)::int from public.audit_logs), 6, 'it reads the whole trail (it bypasses RLS, as postgres does)');

-- The owner itself is held by the append-only guard (the role is switched inside each
-- statement under test, so pgTAP itself keeps running as postgres).
select pg_temp.login_as('postgres');
select throws_ok($$set local role audit_keeper; update public.audit_logs set action = 'hidden' where seq = 2$$, '42501',
                 'The audit trail is append-only: entries cannot be changed or removed',
                 'even the owner role cannot update an audit row (42501, append-only)');
select throws_ok($$set local role audit_keeper; delete from public.audit_logs where seq = 2$$, '42501',
                 'The audit trail is append-only: entries cannot be changed or removed',
                 'even the owner role cannot delete an audit row (42501, append-only)');
select throws_ok($$set local role audit_keeper; truncate public.audit_logs$$, '42501',
                 'The audit trail is append-only: entries cannot be changed or removed',
                 'even the owner role cannot truncate the audit trail (42501, append-only)');

-- ---------------------------------------------------------------------------------------
-- A superuser going around the guard is found out (local postgres is the superuser)
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('postgres');
select throws_ok($$update public.audit_logs set action = 'hidden' where seq = 3$$, '42501',
                 'The audit trail is append-only: entries cannot be changed or removed',
                 'a plain update by the superuser is refused too');

create temp table kept as select * from public.audit_logs;
grant select on kept to authenticated;

-- 1. Edit one row's content.
set local session_replication_role = replica;
update public.audit_logs set new_data = '{"title": "Chained export", "priority": "low", "parameters": {}}' where seq = 3;
set local session_replication_role = origin;
select pg_temp.login_as('admin');
select results_eq($$select ok, id, seq, problem from public.verify_audit_chain()$$,
                  format('values (false, %s::bigint, 3::bigint, %L::text)',
                         (select id from kept where seq = 3), 'hash mismatch'),
                  'an edited row is named exactly: its id, seq 3, ''hash mismatch''');

-- Put it back: the chain is content-addressed, so it is intact again.
select pg_temp.login_as('postgres');
set local session_replication_role = replica;
update public.audit_logs l set new_data = k.new_data from kept k where k.seq = 3 and l.seq = 3;
set local session_replication_role = origin;
select pg_temp.login_as('admin');
select results_eq($$select ok, seq from public.verify_audit_chain()$$, $$values (true, null::bigint)$$,
                  'with the original content back, the chain verifies again');

-- 2. Rewrite a row and recompute its own hash: the next row no longer follows.
select pg_temp.login_as('postgres');
set local session_replication_role = replica;
update public.audit_logs set action = 'setting.nothing' where seq = 4;
update public.audit_logs l set hash = pg_temp.expected_hash(l) where seq = 4;
set local session_replication_role = origin;
select pg_temp.login_as('admin');
select results_eq($$select * from pg_temp.verify()$$,
                  $$values (false, 5::bigint, 'prev_hash does not match the previous row'::text)$$,
                  'a row rewritten with a fresh hash of its own breaks the link to the next row (seq 5)');
select pg_temp.login_as('postgres');
set local session_replication_role = replica;
update public.audit_logs l set action = k.action, hash = k.hash from kept k where k.seq = 4 and l.seq = 4;
set local session_replication_role = origin;

-- 3. Delete a row in the middle.
set local session_replication_role = replica;
delete from public.audit_logs where seq = 4;
set local session_replication_role = origin;
select pg_temp.login_as('admin');
select results_eq($$select ok, id, seq, problem from public.verify_audit_chain()$$,
                  format('values (false, %s::bigint, 5::bigint, %L::text)',
                         (select id from kept where seq = 5), 'gap in sequence'),
                  'a deleted middle row is found: the row after it (seq 5) reports a gap in sequence');
select is((select row_count::int from public.verify_audit_chain()), 5, 'and 5 rows were checked');

-- Writing goes on after the damage: the next row is chained to the current head.
select pg_temp.login_as('alice');
update public.profiles set name = 'Alice Again' where id = '22222222-2222-4222-8222-222222222222';
select pg_temp.login_as('postgres');
select ok((select l.seq = 7 and l.prev_hash = (select hash from kept where seq = 6) and l.hash = pg_temp.expected_hash(l)
             from public.audit_logs l where l.action = 'profile.updated' and l.new_data ->> 'name' = 'Alice Again'),
          'a new action after the damage takes seq 7, chained to seq 6');

-- ---------------------------------------------------------------------------------------
-- Who may verify
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select throws_ok($$select * from public.verify_audit_chain()$$, '42501', 'Only administrators can do this',
                 'alice cannot verify the chain (42501)');
select pg_temp.login_as('bob');
select throws_ok($$select * from public.verify_audit_chain()$$, '42501', 'Only administrators can do this',
                 'bob, now a guest, cannot verify the chain (42501)');
select pg_temp.login_as('anon');
select throws_ok($$select * from public.verify_audit_chain()$$, '42501', 'permission denied for function verify_audit_chain',
                 'anon cannot call verify_audit_chain (42501)');
select pg_temp.login_as('service_role');
select throws_ok($$select * from public.verify_audit_chain()$$, '42501', 'Only administrators can do this',
                 'the service key, which is no administrator, cannot either (42501), like the other admin RPCs');

select * from finish();
rollback;
