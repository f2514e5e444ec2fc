-- A recurring task's successful attempt (the others go through complete_many): the task
-- ($1) is completed with its result ($3), if this worker ($2) still holds it at the same
-- attempt ($4): not when it was cancelled, or taken over since (its attempts are higher).
update public.tasks
   set status = 'completed', progress = 100, result = $3, error_message = null,
       completed_at = now(), locked_by = null, locked_until = null
 where id = $1 and locked_by = $2 and status = 'running' and attempts = $4
