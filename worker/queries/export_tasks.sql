-- A task export's rows: the owner's ($1) tasks created in the range ($2 to $3, as in
-- export_count_tasks.sql), oldest first, streamed in the same snapshot as the count.
select id, title, type as task_type, status, priority, progress, attempts, created_at,
       started_at, completed_at, error_message
  from public.tasks
 where user_id = $1
   and ($2::date is null or created_at >= $2::date::timestamptz)
   and ($3::date is null or created_at < ($3::date + 1)::timestamptz)
 order by created_at, id
