-- What became of a task ($1) this worker could not finish: its status and who holds it
-- (no row: deleted).
select status, locked_by from public.tasks where id = $1
