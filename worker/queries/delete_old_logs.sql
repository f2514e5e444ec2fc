-- Cleanup: up to $2 execution log lines older than $1 days, deleted (the handler repeats
-- it until fewer than $2 go, so that no statement holds locks for long).
delete from public.execution_logs
 where id in (select id from public.execution_logs
               where created_at < now() - make_interval(days => $1::int)
               limit $2)
