-- Cleanup: up to $3 finished tasks (completed, failed or cancelled) that ended more than
-- $1 days ago, deleted with their executions and logs (foreign keys cascade); never the
-- cleanup task itself ($2).
delete from public.tasks
 where id in (select id from public.tasks
               where status in ('completed', 'failed', 'cancelled')
                 and coalesce(completed_at, updated_at) < now() - make_interval(days => $1::int)
                 and id <> $2
               limit $3)
