-- Claims up to $3 tasks for this worker ($1) with a lease of $2 seconds, and opens each
-- attempt, in one statement (one round trip):
-- * rescued: running tasks whose lease expired (their worker is gone), oldest lease first,
--   except those this process runs itself ($4);
-- * pending: due pending tasks, most urgent first, oldest run_after first, filling what is
--   left of $3 (the two sets are disjoint: running vs pending); both skip rows other
--   workers hold, so concurrent workers never claim the same task;
-- * stale: the lost worker's executions of a rescued task, closed ("worker lost");
-- * execution: this attempt's task_executions row;
-- * logs: when it is not the task's first execution, its first lines ("Rescued: …",
--   "Attempt n of m started on worker …"), which set it apart from the earlier attempts
--   (a first attempt's start is told by its execution row, which the task page shows).
-- `updated_at = now()` is what the updated_at trigger would write; set here, the trigger
-- does not fire for these rows (migration 20250101001200_worker_batches). The English
-- texts copy the catalog's (i18n/en.txt), as tests/api/texts.rs checks.
with rescued as (
  update public.tasks t
     set locked_by = $1, locked_until = now() + make_interval(secs => $2),
         attempts = t.attempts + 1, progress = 0, updated_at = now()
   where t.id = any(array(
         select id from public.tasks
          where status = 'running' and locked_until < now()
            and not (id = any($4))
          order by locked_until
          limit $3
            for update skip locked))
  returning t.id, t.user_id, t.title, t.type, t.parameters, t.priority, t.attempts, t.max_attempts, t.recurrence, true as rescued),
pending as (
  update public.tasks t
     set status = 'running', locked_by = $1,
         locked_until = now() + make_interval(secs => $2),
         attempts = t.attempts + 1, started_at = coalesce(t.started_at, now()),
         progress = 0, updated_at = now()
   where t.id = any(array(
         select id from public.tasks
          where status = 'pending' and run_after <= now()
          order by priority_rank, run_after
          limit greatest($3 - (select count(*) from rescued), 0)
            for update skip locked))
  returning t.id, t.user_id, t.title, t.type, t.parameters, t.priority, t.attempts, t.max_attempts, t.recurrence, false as rescued),
claimed as (
  select * from rescued
  union all
  select * from pending),
stale as (
  update public.task_executions x
     set status = 'failed', completed_at = now(),
         error_message = 'The worker running it stopped responding',
         error_text = jsonb_build_object('code', 'execution_worker_lost'),
         duration_ms = greatest((extract(epoch from now() - x.started_at) * 1000)::bigint, 0)
   where x.task_id in (select id from rescued) and x.status = 'running'
   returning x.task_id),
execution as (
  insert into public.task_executions (task_id, attempt, worker_id, status)
  select c.id,
         coalesce((select max(x.attempt) from public.task_executions x
                    where x.task_id = c.id), 0) + 1,
         $1, 'running'
    from claimed c
  returning id, task_id, attempt),
opened as (
  select c.*, e.id as execution_id, e.attempt as execution_attempt,
         (select count(*) from stale s where s.task_id = c.id) as closed_executions
    from claimed c join execution e on e.task_id = c.id),
logs as (
  insert into public.execution_logs
    (execution_id, task_id, level, message, message_text, context)
  select o.execution_id, o.id, l.level, l.message,
         case l.ord
           when 1 then jsonb_build_object('code', 'rescued')
           else jsonb_build_object(
                  'code', 'attempt_started',
                  'args', jsonb_build_object('n', o.attempts, 'of', o.max_attempts,
                                             'worker', $1::text))
         end,
         case l.ord
           when 1 then jsonb_build_object('closedExecutions', o.closed_executions)
           else jsonb_build_object('worker', $1::text, 'attempt', o.attempts,
                                   'execution', o.execution_attempt)
         end
    from opened o
   cross join lateral (values
         (1, 'warn', 'Rescued: the previous worker''s lease expired'),
         (2, 'info', format('Attempt %s of %s started on worker %s',
                            o.attempts, o.max_attempts, $1::text)))
         as l(ord, level, message)
   where (l.ord = 1 and o.rescued) or (l.ord = 2 and o.execution_attempt > 1)
   order by o.id, l.ord)
select o.id as "id!", o.user_id as "user_id!", o.title as "title!",
       o.type as "task_type!", o.parameters as "parameters!", o.priority as "priority!",
       o.attempts as "attempts!", o.max_attempts as "max_attempts!",
       o.recurrence as "recurrence?", o.rescued as "rescued!",
       o.execution_id as "execution_id!", o.execution_attempt as "execution_attempt!",
       o.closed_executions as "closed_executions!"
  from opened o
