-- The attempt ($1) of a completed task: completed, with how long it ran ($2 ms) and its
-- result ($3).
update public.task_executions
   set status = 'completed', completed_at = now(), duration_ms = $2, result = $3
 where id = $1 and status = 'running'
