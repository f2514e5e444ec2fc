-- Ends an attempt ($1) that is still running otherwise than by success: its status ($2:
-- failed or cancelled), how long it ran ($3 ms) and why, in English ($4) and as a code
-- with values ($5). An attempt that has already ended is left alone (0 rows).
update public.task_executions
   set status = $2, completed_at = now(), duration_ms = $3, error_message = $4, error_text = $5
 where id = $1 and status = 'running'
