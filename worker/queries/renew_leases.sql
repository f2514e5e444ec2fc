-- The heartbeat: extends the lease of each of this worker's tasks ($2) that is still
-- running under it ($1) by $3 seconds, and says of every one of them what it is now: its
-- status (null: deleted) and whether the lease was renewed (false: cancelled, finished or
-- taken over by another worker, so the attempt must stop).
with renewed as (
  update public.tasks
     set locked_until = now() + make_interval(secs => $3)
   where id = any($2) and locked_by = $1 and status = 'running'
  returning id)
select i.id as "id!", t.status, (r.id is not null) as "renewed!"
  from unnest($2::uuid[]) as i(id)
  left join public.tasks t on t.id = i.id
  left join renewed r on r.id = i.id
