-- This worker's row in `workers` ($1 its id), created at start and refreshed by every
-- heartbeat: host ($2), version ($3), pid ($4), slots ($5), status ($6: running, stopping
-- or stopped), tasks running ($7); `started_at` is reset only when it starts ($8).
insert into public.workers
  (id, hostname, version, pid, concurrency, status, running_count, started_at, last_heartbeat_at)
values ($1, $2, $3, $4, $5, $6, $7, now(), now())
on conflict (id) do update
  set hostname = excluded.hostname, version = excluded.version, pid = excluded.pid,
      concurrency = excluded.concurrency, status = excluded.status,
      running_count = excluded.running_count, last_heartbeat_at = now(),
      started_at = case when $8 then now() else public.workers.started_at end
