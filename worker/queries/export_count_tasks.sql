-- How many rows a task export writes: the owner's ($1) tasks created in the range ($2 to
-- $3, dates in UTC; either end may be open), counted in the export's own snapshot.
select count(*) as "count!"
  from public.tasks
 where user_id = $1
   and ($2::date is null or created_at >= $2::date::timestamptz)
   and ($3::date is null or created_at < ($3::date + 1)::timestamptz)
