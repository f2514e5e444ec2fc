-- A tamper-evident audit trail (issue #9, item 5).
--
-- 1. Every row of public.audit_logs is chained to the one before it:
--      seq       1, 2, 3 … without gaps, in commit order;
--      prev_hash the previous row's hash (32 zero bytes for seq 1);
--      hash      sha256(prev_hash || convert_to(private.audit_row_content(row), 'UTF8')).
--    A BEFORE INSERT trigger fills the three columns whatever the writer supplied, under a
--    transaction-scoped advisory lock, so two transactions can never take the same place in
--    the chain. public.verify_audit_chain() (admins) recomputes the chain and names the first
--    row that does not fit.
-- 2. The table belongs to audit_keeper, a NOLOGIN role nobody is a member of. Nobody else
--    holds UPDATE, DELETE, TRUNCATE (nor TRIGGER or REFERENCES) on it: not anon,
--    authenticated or service_role, and not postgres, which on hosted Supabase runs the
--    migrations and the worker and is not a superuser there. An append-only guard trigger
--    refuses updates and deletes even from the owner.
--
-- What this does and does not prove. The chain is a plain hash, not a keyed one: whoever can
-- write the table anyway can disable the triggers and recompute every hash after an edit.
-- That is any superuser, and in this project's own clusters (scripts/test-cluster,
-- localbase) `postgres` IS the superuser: there these privileges bind only the API roles.
-- What the chain catches is every change made without rewriting the rest of it: an edited,
-- inserted, reordered or deleted row, a restore from a partial copy. Removing the newest rows
-- leaves a valid shorter chain; keep the `last_seq` / `last_hash` that verify_audit_chain()
-- returns somewhere else to catch that. On hosted Supabase `postgres` has CREATEROLE, so it
-- could still deliberately `grant audit_keeper to postgres`, switch the guard off and rewrite:
-- an explicit act, not something a migration, the worker or a mistyped statement does by
-- accident. And the owner of schema public (there: the database owner) can DROP the whole
-- table, which is loud (every audited action fails afterwards), not silent.
--
-- Later migrations cannot ALTER public.audit_logs as plain postgres any more (it is not the
-- owner): wrap such a change in `grant audit_keeper to current_user; set role audit_keeper;
-- … reset role; revoke audit_keeper from current_user;`.

-- ---------------------------------------------------------------------------------------
-- The owner role. CREATE ROLE needs CREATEROLE, which hosted Supabase's postgres has; the
-- role is cluster-wide, so other databases of the same cluster find it already there.
-- ---------------------------------------------------------------------------------------
do $$
begin
  if not exists (select from pg_roles where rolname = 'audit_keeper') then
    create role audit_keeper nologin;
  end if;
end
$$;

-- Giving an object to another role requires being able to become it (membership) and the
-- new owner's CREATE right on the object's schema. Both are taken back at the end.
grant audit_keeper to current_user;
grant usage, create on schema public to audit_keeper;
grant usage, create on schema private to audit_keeper;

-- No writer may slip in while the existing rows are chained.
lock table public.audit_logs in exclusive mode;

alter table public.audit_logs
  add column seq bigint,
  add column prev_hash bytea,
  add column hash bytea;

comment on column public.audit_logs.seq is
  'Place in the hash chain: 1, 2, 3 … without gaps, in commit order.';
comment on column public.audit_logs.prev_hash is
  'The hash of the row with seq - 1 (32 zero bytes for seq 1).';
comment on column public.audit_logs.hash is
  'sha256(prev_hash || convert_to(private.audit_row_content(row), ''UTF8'')).';

-- ---------------------------------------------------------------------------------------
-- The canonical content of a row: a JSON array of these columns, in this order, rendered
-- as text by PostgreSQL's jsonb output (which also normalizes old_data / new_data: each key
-- once, keys in jsonb's order, fixed spacing):
--   [seq, id, created_at, actor_id, subject_user_id, action, table_name, record_id,
--    old_data, new_data, ip_address, user_agent]
-- created_at is written in UTC with microseconds ("2025-01-01T12:00:00.123456Z"), so the
-- session's TimeZone never changes the hash. A column added to audit_logs later is not
-- part of the hash unless a new version of this function says so (and old rows keep theirs).
-- ---------------------------------------------------------------------------------------
-- Plain SQL without SET clauses, so the planner inlines it into verify_audit_chain()'s scan
-- (a SET clause would cost a function call per row). Both of its callers that matter, the
-- chain trigger and verify_audit_chain(), run with an empty search_path, so the names in
-- it are always pg_catalog's.
create function private.audit_row_content(r public.audit_logs) returns text
language sql stable
as $$
  select jsonb_build_array(
    r.seq, r.id,
    to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    r.actor_id, r.subject_user_id, r.action, r.table_name, r.record_id,
    r.old_data, r.new_data, r.ip_address, r.user_agent
  )::text
$$;

-- ---------------------------------------------------------------------------------------
-- Chain the rows already there (on a fresh database the seed leaves none), in insertion
-- order: id is the identity, so it follows the inserts; created_at is each transaction's
-- start time and may disagree with that order.
-- ---------------------------------------------------------------------------------------
do $$
declare
  r public.audit_logs;
  v_seq bigint := 0;
  v_prev bytea := decode(repeat('00', 32), 'hex');
begin
  for r in select * from public.audit_logs order by id loop
    v_seq := v_seq + 1;
    r.seq := v_seq;
    r.prev_hash := v_prev;
    r.hash := sha256(v_prev || convert_to(private.audit_row_content(r), 'UTF8'));
    update public.audit_logs l set seq = r.seq, prev_hash = r.prev_hash, hash = r.hash where l.id = r.id;
    v_prev := r.hash;
  end loop;
end
$$;

alter table public.audit_logs
  alter column seq set not null,
  alter column prev_hash set not null,
  alter column hash set not null,
  add constraint audit_logs_seq_key unique (seq),
  add constraint audit_logs_seq_positive check (seq > 0),
  add constraint audit_logs_hash_sha256 check (octet_length(hash) = 32 and octet_length(prev_hash) = 32);

-- ---------------------------------------------------------------------------------------
-- The link: every insert, whoever writes it (private.write_audit, or the service key),
-- gets the next place in the chain. It must see the row's final content: any BEFORE INSERT
-- trigger added later (only the owner can add one) must sort before audit_logs_chain. The advisory lock is held until the transaction ends, so the
-- next writer reads this row only once it is committed (or gone with a rollback, leaving no
-- gap): seq follows commit order. Audited transactions therefore commit one after another
-- (from their first audit row to their commit); the worker's own writes are not audited and
-- never take this lock.
--
-- Run in READ COMMITTED (PostgREST's and the worker's level), each statement sees the last
-- committed row. A REPEATABLE READ / SERIALIZABLE transaction whose snapshot is older than
-- another's audit rows would compute a seq already taken: its insert then fails on
-- audit_logs_seq_key (23505) and can be retried; the chain never forks.
--
-- enable_seqscan = off: PL/pgSQL plans the head lookup once per session. Planned while the
-- table is empty (a new project, or the first write after this migration), it would scan the
-- table instead of reading one entry of the seq index, and a transaction writing 10,000
-- audit rows would then read 50 million.
-- ---------------------------------------------------------------------------------------
create function private.audit_chain_link() returns trigger
language plpgsql security definer set search_path = '' set enable_seqscan = off
as $$
declare
  v_prev_seq bigint;
  v_prev_hash bytea;
begin
  perform pg_advisory_xact_lock(hashtextextended('taskdeck.audit_chain', 0));
  select l.seq, l.hash into v_prev_seq, v_prev_hash
    from public.audit_logs l
   order by l.seq desc
   limit 1;
  new.seq := coalesce(v_prev_seq, 0) + 1;
  new.prev_hash := coalesce(v_prev_hash, decode(repeat('00', 32), 'hex'));
  new.hash := sha256(new.prev_hash || convert_to(private.audit_row_content(new), 'UTF8'));
  return new;
end
$$;

create trigger audit_logs_chain before insert on public.audit_logs
  for each row execute function private.audit_chain_link();

-- Append-only, even for the owner: privileges already refuse everyone else, this refuses
-- audit_keeper too. Getting past it takes the owner (ALTER TABLE … DISABLE TRIGGER) or a
-- superuser (session_replication_role = replica), and then verify_audit_chain() shows what
-- was changed.
create function private.audit_append_only() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'The audit trail is append-only: entries cannot be changed or removed'
    using errcode = '42501';
end
$$;

create trigger audit_logs_append_only before update or delete on public.audit_logs
  for each row execute function private.audit_append_only();
create trigger audit_logs_no_truncate before truncate on public.audit_logs
  for each statement execute function private.audit_append_only();

-- ---------------------------------------------------------------------------------------
-- Ownership and privileges. The identity sequence follows its table. postgres keeps
-- write_audit and the audit_* triggers (they need auth.uid() and the request headers, and
-- can only append, which postgres may do anyway).
-- ---------------------------------------------------------------------------------------
alter table public.audit_logs owner to audit_keeper;
alter function private.audit_row_content(public.audit_logs) owner to audit_keeper;
alter function private.audit_chain_link() owner to audit_keeper;
alter function private.audit_append_only() owner to audit_keeper;

revoke all on public.audit_logs from public, anon, authenticated, service_role, postgres;
grant select on public.audit_logs to authenticated;                -- RLS: own trail, admins all
grant select, insert on public.audit_logs to service_role, postgres; -- append and read, nothing else
-- The identity needs no privilege on its sequence; setval() by anyone else would only make
-- inserts collide.
revoke all on sequence public.audit_logs_id_seq from public, anon, authenticated, service_role, postgres;

revoke all on function private.audit_row_content(public.audit_logs) from public, anon, authenticated;
revoke all on function private.audit_chain_link() from public, anon, authenticated;
revoke all on function private.audit_append_only() from public, anon, authenticated;
-- verify_audit_chain (owned by postgres) recomputes hashes with it; the service key may too.
grant execute on function private.audit_row_content(public.audit_logs) to postgres, service_role;

-- ---------------------------------------------------------------------------------------
-- RPC: verify the chain (admins). One linear scan in seq order.
--
-- Returns exactly one row (PostgREST: POST or GET /rpc/verify_audit_chain, an array of one
-- object; `Accept: application/vnd.pgrst.object+json` for the object itself):
--   ok         true when every row fits the chain;
--   id, seq    the first row (in seq order) that does not fit, NULL when ok;
--   problem    what is wrong with it, NULL when ok:
--                'gap in sequence'                            seq is not the previous seq + 1
--                                                             (a row before it was removed);
--                'prev_hash does not match the previous row'  it was not chained to the row
--                                                             before it (one inserted, rewritten
--                                                             or removed there);
--                'hash mismatch'                              its content or hash was changed;
--   row_count  the number of rows checked (all of them);
--   last_seq, last_hash (hex)  the head of the chain: keep them elsewhere to notice later
--              that the newest rows were removed. NULL on an empty trail.
-- Cost: one sequential scan, building each row's content and one sha256 per row: about
-- 0.8-0.9 s for 100,000 rows of ~500 bytes on 2 busy cores (8 us a row), so the
-- authenticated role's 8 s statement_timeout is reached near a million rows.
-- ---------------------------------------------------------------------------------------
create function public.verify_audit_chain()
returns table (
  ok boolean,
  id bigint,
  seq bigint,
  problem text,
  row_count bigint,
  last_seq bigint,
  last_hash text
)
language plpgsql stable security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_admin();
  return query
    with chain as (
      select l.id, l.seq, l.prev_hash, l.hash,
             lag(l.seq) over w as before_seq,
             lag(l.hash) over w as before_hash,
             sha256(l.prev_hash || convert_to(private.audit_row_content(l), 'UTF8')) as computed
        from public.audit_logs l
      window w as (order by l.seq)
    ), checked as (
      select c.id, c.seq, c.hash,
             case
               when c.seq <> coalesce(c.before_seq, 0) + 1 then 'gap in sequence'
               when c.prev_hash <> coalesce(c.before_hash, decode(repeat('00', 32), 'hex'))
                 then 'prev_hash does not match the previous row'
               when c.hash <> c.computed then 'hash mismatch'
             end as problem
        from chain c
    ), first_broken as (
      select k.id, k.seq, k.problem from checked k where k.problem is not null order by k.seq limit 1
    ), head as (
      select k.seq, k.hash from checked k order by k.seq desc limit 1
    )
    select (select count(*) from first_broken) = 0,
           (select b.id from first_broken b),
           (select b.seq from first_broken b),
           (select b.problem from first_broken b),
           (select count(*) from checked),
           (select h.seq from head h),
           (select encode(h.hash, 'hex') from head h);
end
$$;
comment on function public.verify_audit_chain() is
  'Admins: recomputes the audit hash chain; one row (ok, id, seq, problem, row_count, last_seq, last_hash).';

revoke all on function public.verify_audit_chain() from public, anon;
grant execute on function public.verify_audit_chain() to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Give back what the ownership change needed: audit_keeper creates nothing more, and
-- nobody is a member of it.
-- ---------------------------------------------------------------------------------------
revoke create on schema public from audit_keeper;
revoke create on schema private from audit_keeper;
revoke audit_keeper from current_user;
