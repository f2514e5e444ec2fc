-- A failed attempt that will be retried: the task ($1) goes back to pending, due in $3
-- seconds, with the attempt's error (English $4, code $6), if this worker ($2) still holds
-- it at the same attempt ($5).
update public.tasks
   set status = 'pending', run_after = now() + make_interval(secs => $3),
       locked_by = null, locked_until = null, last_error = $4, last_error_text = $6
 where id = $1 and locked_by = $2 and status = 'running' and attempts = $5
