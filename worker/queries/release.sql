-- On shutdown: puts a task this worker ($2) holds ($1) back in the queue at once, and
-- gives the attempt back (stopping a worker is not the task's fault).
update public.tasks
   set status = 'pending', locked_by = null, locked_until = null, run_after = now(),
       attempts = greatest(attempts - 1, 0), progress = 0
 where id = $1 and locked_by = $2 and status = 'running'
