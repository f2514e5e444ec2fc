-- Records many successful attempts of this worker ($1) at once: one element per attempt
-- of $2 (task), $3 (its attempts as this worker's claim left them), $4 (execution), $5
-- (result), $6 (duration, ms), $7 (last log line, English), $8 (its context) and $9 (the
-- line as a code with values). Each task still running under $1 at the same attempt is
-- completed, with its execution and its last log line; the others (cancelled, rescued by
-- another worker, retried or deleted meanwhile) are left exactly as they are. Returns the
-- tasks it finished.
-- Each row is found by one primary-key probe per input row (`coalesce(status, '')` is
-- `status`, never null, written so that the planner does not pick the partial "running"
-- indexes, which a busy queue fills with dead entries; no `id = any($n)` besides the join,
-- which a generic plan would test against the whole array at every probe). It sets
-- `updated_at` itself, which spares each row the updated_at trigger.
with input as (
  select * from unnest($2::uuid[], $3::int4[], $4::uuid[], $5::jsonb[], $6::int8[],
                       $7::text[], $8::jsonb[], $9::jsonb[])
    as i(task_id, attempt, execution_id, result, duration_ms, message, context,
         message_text)),
task as (
  update public.tasks t
     set status = 'completed', progress = 100, result = i.result, error_message = null,
         completed_at = now(), locked_by = null, locked_until = null,
         updated_at = now()
    from input i
   where t.id = i.task_id and t.locked_by = $1 and t.attempts = i.attempt
     and coalesce(t.status, '') = 'running'
   returning t.id),
execution as (
  update public.task_executions e
     set status = 'completed', completed_at = now(), duration_ms = i.duration_ms,
         result = i.result
    from input i join task on task.id = i.task_id
   where e.id = i.execution_id
     and coalesce(e.status, '') = 'running'
   returning e.id),
log as (
  insert into public.execution_logs
    (execution_id, task_id, level, message, message_text, context)
  select i.execution_id, i.task_id, 'info', i.message, i.message_text, i.context
    from input i join task on task.id = i.task_id)
select id as "id!" from task
