-- How many rows an event export writes: the owner's ($1) business events that occurred in
-- the range ($2 to $3, dates in UTC; either end may be open).
select count(*) as "count!"
  from public.business_events
 where user_id = $1
   and ($2::date is null or occurred_at >= $2::date::timestamptz)
   and ($3::date is null or occurred_at < ($3::date + 1)::timestamptz)
