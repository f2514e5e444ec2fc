-- The running attempts of the tasks ($1) the sweep just unlocked: closed as cancelled,
-- with the time they ran and why they end this way.
update public.task_executions
   set status = 'cancelled', completed_at = now(),
       duration_ms = greatest((extract(epoch from now() - started_at) * 1000)::bigint, 0),
       error_message = 'Cancelled; the worker running it was lost before it stopped',
       error_text = jsonb_build_object('code', 'execution_cancelled_lost')
 where task_id = any($1) and status = 'running'
