-- Cleanup: the rows of workers not heard from for $1 days.
delete from public.workers
 where last_heartbeat_at < now() - make_interval(days => $1::int)
