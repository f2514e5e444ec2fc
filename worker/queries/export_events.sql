-- An event export's rows: the owner's ($1) business events in the range ($2 to $3, as in
-- export_count_events.sql), oldest first, amounts as exact text.
select id, event_type, amount::text as "amount!", occurred_at, metadata
  from public.business_events
 where user_id = $1
   and ($2::date is null or occurred_at >= $2::date::timestamptz)
   and ($3::date is null or occurred_at < ($3::date + 1)::timestamptz)
 order by occurred_at, id
