-- The worker's fast path (issue #3): fewer index writes per task and claim plans that do
-- not depend on how fresh the statistics are.

-- The claim (`status = 'pending'`, ordered by priority_rank, run_after) and the rescue
-- (`status = 'running'`, ordered by locked_until) have partial indexes of their own. A plain
-- index on status only gave the planner a worse choice: with statistics taken while no task
-- was pending, it read every pending task through it and sorted them all, for each claim.
-- It also cost an index entry per status change. Counting by status (admin overview) reads
-- the table instead.
drop index public.tasks_status_idx;

-- Every status change wrote a new entry into (user_id, status) as well; a user's tasks are
-- found by (user_id, created_at), which also serves a status filter over one user's tasks
-- (the task list, the failed count of the admin user list).
drop index public.tasks_user_status_idx;

-- Only follow-up runs of recurring tasks have a parent: the index (used by the foreign key's
-- ON DELETE SET NULL and by the "next run already queued?" check, both `parent_task_id = …`)
-- need not hold an entry for every other task, nor get a new one each time a task row changes.
drop index public.tasks_parent_task_id_idx;
create index tasks_parent_task_id_idx on public.tasks (parent_task_id) where parent_task_id is not null;

-- The task guard validates what people write (and, for everyone, the parameters, the
-- recurrence, the schedule and the title). The worker's own writes (claim, progress, lease,
-- completion) set none of those columns: for the service connection the guard now fires
-- only when an insert or an update sets one of them, so that each of those writes no longer
-- pays a PL/pgSQL call that could not change anything. For signed-in users (and anon) it
-- fires on every insert and update exactly as before.
drop trigger tasks_guard on public.tasks;
create trigger tasks_guard before insert or update on public.tasks
  for each row when (current_user in ('authenticated', 'anon'))
  execute function private.guard_task();
create trigger tasks_guard_service
  before insert or update of title, type, parameters, recurrence, scheduled_at, user_id on public.tasks
  for each row when (current_user not in ('authenticated', 'anon'))
  execute function private.guard_task();

-- The audit trail records what people do (auth.uid() is set); the function already returned
-- at once without a caller. Deciding that in the trigger's WHEN spares the worker's writes
-- the call (SECURITY DEFINER, with its own search_path) altogether.
drop trigger tasks_audit on public.tasks;
create trigger tasks_audit after insert or update or delete on public.tasks
  for each row when (auth.uid() is not null)
  execute function private.audit_tasks();
