-- A failed attempt that is the last: the task ($1) fails for good, with what to show (English
-- $3, code $6) and the attempt's own error (English $4, code $7), if this worker ($2) still
-- holds it at the same attempt ($5).
update public.tasks
   set status = 'failed', error_message = $3, last_error = $4,
       error_text = $6, last_error_text = $7,
       completed_at = now(), locked_by = null, locked_until = null
 where id = $1 and locked_by = $2 and status = 'running' and attempts = $5
