-- Realtime (issue #12): the tables the SPA listens to, in Supabase's `supabase_realtime`
-- publication (Supabase creates it empty; supabase/bootstrap.sql does the same on a plain
-- PostgreSQL). Nothing else is published: profiles, audit_logs, business_events and the
-- storage tables stay out, so their changes never leave the database through Realtime.
--
-- How Supabase Realtime (postgres_cdc_rls, `realtime.apply_rls`) uses what is published:
-- * INSERT/UPDATE reach a subscriber only when its filters match the new row and, with RLS on,
--   `select exists(select 1 from <table> where <pk> = <value>)` is true under the subscriber's
--   role and JWT claims: the table's SELECT policies decide, the replica identity plays no part.
-- * DELETE cannot be checked against RLS (the row is gone): with RLS on, `old_record` carries
--   only the primary key, and the subscriber's filters are matched against the old row, which
--   holds more than the key only with `replica identity full`.
-- * An UPDATE's `record` takes unchanged TOASTed values (large text/jsonb) from the old row;
--   without `full` they are missing from the message.
alter publication supabase_realtime
  add table public.tasks, public.task_executions, public.execution_logs, public.analytics_reports;

-- tasks: pages listen with the owner filter (`user_id=eq.<me>`, Supabase's RLS advice) or
-- `id=eq.<task>`; a deleted task must still match `user_id=eq.<me>`, and parameters/result
-- are jsonb that PostgreSQL may TOAST. The worker's lease renewals log the old row too:
-- a few hundred bytes of WAL per heartbeat.
alter table public.tasks replica identity full;
-- task_executions: the task page filters on `task_id=eq.<task>`; executions are deleted by
-- the cascade from their task, and `result` is jsonb.
alter table public.task_executions replica identity full;
-- analytics_reports: filtered on `user_id`, rarely updated or deleted, `data` is large jsonb.
alter table public.analytics_reports replica identity full;
-- execution_logs keeps the default (primary key): rows are inserted and never updated, and
-- every INSERT carries the whole new row whatever the replica identity. Its only deletes are
-- the retention cleanup's bulk deletes of old lines, which a live log view has no use for;
-- `full` would write each deleted row into the WAL again.
