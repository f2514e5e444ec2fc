-- An import's batch of business events for its owner ($1): one row per element of the
-- types ($2), amounts ($3, as text, exact) and moments ($4), with the import's metadata ($5).
insert into public.business_events (user_id, event_type, amount, occurred_at, metadata)
select $1, t, a::numeric, o, $5
  from unnest($2::text[], $3::text[], $4::timestamptz[]) as r(t, a, o)
