-- The worker's batches (issue #14). Its claims and completions now write hundreds of task
-- rows per statement, and each of those rows paid a PL/pgSQL call of set_updated_at that
-- only wrote now() into updated_at. Those statements set `updated_at = now()` themselves;
-- the trigger now fires only for an update that leaves updated_at as it was, which is every
-- other update: users cannot write the column at all (no column grant), and cancel_task,
-- retry_task and the worker's other writes (leases, progress, retries) do not set it. So
-- every update still moves updated_at to the time of its transaction, as before.
drop trigger tasks_set_updated_at on public.tasks;
create trigger tasks_set_updated_at before update on public.tasks
  for each row when (new.updated_at is not distinct from old.updated_at)
  execute function private.set_updated_at();
