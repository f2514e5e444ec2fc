-- A handler's progress ($2, 0 to 100) on the task ($1), while this worker ($3) still runs
-- it (not once it was cancelled or taken over).
update public.tasks set progress = $2
 where id = $1 and locked_by = $3 and status = 'running'
