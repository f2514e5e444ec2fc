-- Analytics from rollups, days in the user's time zone (issue #11, items 1–2).
--
-- 1. private.business_event_hourly: per owner, UTC hour and event type, the count and the
--    amount sum of business_events, kept by statement-level triggers (transition tables)
--    in the writing transaction, so a query right after a write sees it. analytics_metrics
--    reads it instead of scanning the raw events once per metric.
-- 2. analytics_metrics(start_date, end_date, metrics, owner, time_zone): days, totals and the
--    previous period follow an IANA time zone (default: the caller's
--    profiles.preferences->>'timezone', else UTC).

-- ---------------------------------------------------------------------------------------
-- 1. The hourly rollup
-- ---------------------------------------------------------------------------------------
-- `hour` is the start of a UTC hour. Besides the hour's count and sum, each row keeps the
-- count and sum of the events in its first 15, 30 and 45 minutes: a day boundary of a zone
-- whose offset is not a whole number of hours (Asia/Kolkata +5:30, Asia/Kathmandu +5:45,
-- Australia/Adelaide +9:30/+10:30, Pacific/Chatham +12:45…) falls on a quarter hour of UTC,
-- and those columns split the hour exactly at it. A boundary that is not on a quarter hour
-- (only local mean times of the 19th and early 20th century, e.g. Africa/Monrovia -0:44:30
-- until 1972) is served from the raw events of that one hour. See private.analytics_daily.
--
-- Not in `public`: the API cannot reach it. RLS on and no policy, no grant to the API roles;
-- only SECURITY DEFINER functions (the triggers, private.analytics_daily) read and write it.
-- No foreign key to profiles: deleting a user cascades to business_events, whose delete
-- trigger takes the rows out of the rollup (a foreign key here would race that cascade).
create table private.business_event_hourly (
  user_id uuid not null,
  hour timestamptz not null,
  event_type text not null,
  events bigint not null,
  amount numeric not null,
  events_15 bigint not null,
  amount_15 numeric not null,
  events_30 bigint not null,
  amount_30 numeric not null,
  events_45 bigint not null,
  amount_45 numeric not null,
  primary key (user_id, hour, event_type),
  -- No CHECK on the counts: `insert … on conflict do update` checks the row it proposes
  -- (here a negative delta) before it finds the conflict. pgTAP 30 checks the counts.
  check (hour = date_trunc('hour', hour, 'UTC'))
);
comment on table private.business_event_hourly is
  'Per owner, UTC hour and event type: count and amount sum of public.business_events (and of the '
  'first 15/30/45 minutes of the hour). Kept by the triggers business_events_rollup_*; read by '
  'private.analytics_daily.';
alter table private.business_event_hourly enable row level security;
revoke all on private.business_event_hourly from public, anon, authenticated, service_role;

-- Adds the changes of one statement: the rows of `source` (a query over the transition
-- tables yielding user_id, occurred_at, event_type, amount and a sign s = +1 or -1) are
-- aggregated per bucket, then `insert … on conflict do update` adds the deltas, in key order
-- (so concurrent writers lock the buckets they share in the same order), and buckets whose
-- count reaches 0 are deleted.
create or replace function private.business_events_rollup() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v_source text;
  v_users uuid[];
  v_hours timestamptz[];
  v_types text[];
begin
  v_source := case tg_op
    when 'INSERT' then 'select user_id, occurred_at, event_type, amount, 1 as s from new_rows'
    when 'DELETE' then 'select user_id, occurred_at, event_type, amount, -1 as s from old_rows'
    else 'select user_id, occurred_at, event_type, amount, -1 as s from old_rows
          union all
          select user_id, occurred_at, event_type, amount, 1 as s from new_rows'
  end;
  execute format($q$
    with changes as (
      select c.user_id, date_trunc('hour', c.occurred_at, 'UTC') as hour, c.event_type, c.amount, c.s,
             extract(minute from c.occurred_at at time zone 'UTC') as minute
        from (%s) c
    ), deltas as (
      select user_id, hour, event_type,
             sum(s) as events, sum(s * amount) as amount,
             coalesce(sum(s) filter (where minute < 15), 0) as events_15,
             coalesce(sum(s * amount) filter (where minute < 15), 0) as amount_15,
             coalesce(sum(s) filter (where minute < 30), 0) as events_30,
             coalesce(sum(s * amount) filter (where minute < 30), 0) as amount_30,
             coalesce(sum(s) filter (where minute < 45), 0) as events_45,
             coalesce(sum(s * amount) filter (where minute < 45), 0) as amount_45
        from changes
       group by user_id, hour, event_type
    ), applied as (
      insert into private.business_event_hourly as r
        (user_id, hour, event_type, events, amount, events_15, amount_15, events_30, amount_30, events_45, amount_45)
      select * from deltas
       where (events, amount, events_15, amount_15, events_30, amount_30, events_45, amount_45)
             is distinct from (0, 0, 0, 0, 0, 0, 0, 0)
       order by user_id, hour, event_type
      on conflict (user_id, hour, event_type) do update
        set events = r.events + excluded.events, amount = r.amount + excluded.amount,
            events_15 = r.events_15 + excluded.events_15, amount_15 = r.amount_15 + excluded.amount_15,
            events_30 = r.events_30 + excluded.events_30, amount_30 = r.amount_30 + excluded.amount_30,
            events_45 = r.events_45 + excluded.events_45, amount_45 = r.amount_45 + excluded.amount_45
      returning r.user_id, r.hour, r.event_type, r.events
    )
    select coalesce(array_agg(user_id), '{}'), coalesce(array_agg(hour), '{}'), coalesce(array_agg(event_type), '{}')
      from applied where events = 0$q$, v_source)
    into v_users, v_hours, v_types;
  -- A bucket that lost its last event goes away.
  if cardinality(v_users) > 0 then
    delete from private.business_event_hourly r
     using unnest(v_users, v_hours, v_types) as z(user_id, hour, event_type)
     where r.user_id = z.user_id and r.hour = z.hour and r.event_type = z.event_type and r.events = 0;
  end if;
  return null;
end
$$;

create or replace function private.business_events_rollup_truncate() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  truncate private.business_event_hourly;
  return null;
end
$$;
revoke all on function private.business_events_rollup() from public, anon, authenticated, service_role;
revoke all on function private.business_events_rollup_truncate() from public, anon, authenticated, service_role;

create trigger business_events_rollup_insert after insert on public.business_events
  referencing new table as new_rows
  for each statement execute function private.business_events_rollup();
create trigger business_events_rollup_update after update on public.business_events
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.business_events_rollup();
create trigger business_events_rollup_delete after delete on public.business_events
  referencing old table as old_rows
  for each statement execute function private.business_events_rollup();
create trigger business_events_rollup_truncate after truncate on public.business_events
  for each statement execute function private.business_events_rollup_truncate();

-- Backfill what is there already.
insert into private.business_event_hourly
  (user_id, hour, event_type, events, amount, events_15, amount_15, events_30, amount_30, events_45, amount_45)
select user_id, date_trunc('hour', occurred_at, 'UTC'), event_type,
       count(*), sum(amount),
       count(*) filter (where extract(minute from occurred_at at time zone 'UTC') < 15),
       coalesce(sum(amount) filter (where extract(minute from occurred_at at time zone 'UTC') < 15), 0),
       count(*) filter (where extract(minute from occurred_at at time zone 'UTC') < 30),
       coalesce(sum(amount) filter (where extract(minute from occurred_at at time zone 'UTC') < 30), 0),
       count(*) filter (where extract(minute from occurred_at at time zone 'UTC') < 45),
       coalesce(sum(amount) filter (where extract(minute from occurred_at at time zone 'UTC') < 45), 0)
  from public.business_events
 group by 1, 2, 3;

-- ---------------------------------------------------------------------------------------
-- 2. Time zones
-- ---------------------------------------------------------------------------------------
-- The IANA names this server knows, copied once from pg_timezone_names: asking that view
-- takes ~150 ms (it reads the whole zone directory), a lookup here a few microseconds.
-- `at time zone` alone would also accept POSIX specs ('XYZ+3') and abbreviations ('PST'),
-- which are not the names a user chooses. (After an upgrade of the server's tzdata, rerun
-- the insert below to learn new names.)
create table private.time_zone_names (name text primary key);
insert into private.time_zone_names (name)
  select name from pg_catalog.pg_timezone_names on conflict do nothing;
alter table private.time_zone_names enable row level security;
revoke all on private.time_zone_names from public, anon, authenticated, service_role;
grant select on private.time_zone_names to authenticated, service_role;
create policy "time_zone_names: everyone signed in reads" on private.time_zone_names
  for select to authenticated using (true);

-- One row per day of [p_first, p_last] in p_time_zone: the owner's orders (count and
-- revenue), signups, visits and conversions, from the rollup.
--
-- How it stays exact in every zone: a local day is [b(d), b(d+1)) with
-- b(d) = d::timestamp at time zone p_time_zone, the instant its local midnight happens (DST
-- included: days of 23 or 25 hours). A rollup hour that holds no boundary lies wholly in
-- one local day, (hour at time zone p_time_zone)::date. In zones whose offsets are whole
-- hours (Asia/Jakarta, Asia/Makassar, Asia/Jayapura, UTC, America/New_York…) every boundary
-- starts an hour, so that is every hour. A boundary inside an hour (Asia/Kolkata's midnight
-- is 18:30 UTC) splits it: at a quarter hour the row's events_15/30/45 give the part before
-- and the rest the part after; anywhere else (historic local mean times) the events of that
-- one hour are read from business_events. The part of a split hour that falls outside the
-- range belongs to a day outside it and is left out.
--
-- `jit = off`: the planner cannot know how few split hours there are and costs the raw
-- branch at millions of rows, which made PostgreSQL spend ~400 ms compiling the query for
-- a run of under 10 ms.
--
-- SECURITY DEFINER (the rollup has no grants): the owner must be the caller, or the
-- caller an admin, or there is no signed-in caller (the worker, the service key). A NULL
-- owner yields zeros: analytics_metrics passes NULL when RLS lets the caller see none of
-- the owner's events.
create or replace function private.analytics_daily(p_owner uuid, p_first date, p_last date, p_time_zone text)
returns table (day date, orders bigint, revenue numeric, users bigint, visits bigint, conversions bigint)
language plpgsql stable security definer set search_path = '' set jit = off
as $$
begin
  -- A NULL owner reads nothing: zeros for everyone (also for an aal1 session that the
  -- two-step policies keep from the events, as before).
  if p_owner is not null then
    perform private.require_mfa();
    if auth.uid() is not null and p_owner <> auth.uid() and not public.is_admin() then
      raise exception 'You can only see your own analytics' using errcode = '42501';
    end if;
  end if;
  return query
  with bounds as (
    select d::date as day, (d::timestamp at time zone p_time_zone) as at
      from generate_series(p_first, p_last + 1, interval '1 day') d
  ), span as (
    select min(b.at) as lo, max(b.at) as hi from bounds b
  ), split as materialized (
    -- hours with a day boundary inside, and how far into the hour it is
    select date_trunc('hour', b.at, 'UTC') as hour,
           extract(epoch from b.at - date_trunc('hour', b.at, 'UTC')) as secs
      from bounds b
     where b.at <> date_trunc('hour', b.at, 'UTC')
  ), parts as (
    -- hours wholly inside one day
    select (r.hour at time zone p_time_zone)::date as day, r.event_type, r.events as n, r.amount as a
      from private.business_event_hourly r, span
     where r.user_id = p_owner
       and r.hour >= date_trunc('hour', span.lo, 'UTC') and r.hour < span.hi
       and not exists (select 1 from split s where s.hour = r.hour)
    union all
    -- hours split at a quarter: the part before the boundary…
    select (r.hour at time zone p_time_zone)::date, r.event_type,
           case s.secs when 900 then r.events_15 when 1800 then r.events_30 else r.events_45 end,
           case s.secs when 900 then r.amount_15 when 1800 then r.amount_30 else r.amount_45 end
      from split s
     cross join lateral (
       select * from private.business_event_hourly r where r.user_id = p_owner and r.hour = s.hour
     ) r
     where s.secs in (900, 1800, 2700)
    union all
    -- …and the part after it
    select ((r.hour + s.secs * interval '1 second') at time zone p_time_zone)::date, r.event_type,
           r.events - case s.secs when 900 then r.events_15 when 1800 then r.events_30 else r.events_45 end,
           r.amount - case s.secs when 900 then r.amount_15 when 1800 then r.amount_30 else r.amount_45 end
      from split s
     cross join lateral (
       select * from private.business_event_hourly r where r.user_id = p_owner and r.hour = s.hour
     ) r
     where s.secs in (900, 1800, 2700)
    union all
    -- hours split elsewhere: their raw events
    select (e.occurred_at at time zone p_time_zone)::date, e.event_type, 1::bigint, e.amount
      from split s
     cross join lateral (
       select e.occurred_at, e.event_type, e.amount
         from public.business_events e
        where e.user_id = p_owner and e.occurred_at >= s.hour and e.occurred_at < s.hour + interval '1 hour'
     ) e
     where s.secs not in (900, 1800, 2700)
  )
  select b.day,
         coalesce(sum(p.n) filter (where p.event_type = 'order'), 0)::bigint,
         coalesce(sum(p.a) filter (where p.event_type = 'order'), 0)::numeric,
         coalesce(sum(p.n) filter (where p.event_type = 'signup'), 0)::bigint,
         coalesce(sum(p.n) filter (where p.event_type = 'visit'), 0)::bigint,
         coalesce(sum(p.n) filter (where p.event_type = 'conversion'), 0)::bigint
    from bounds b
    left join parts p on p.day = b.day
   where b.day <= p_last
   group by b.day
   order by b.day;
end
$$;

-- The value of a metric from the day's (or the period's) sums, as analytics_metrics has
-- always given it: money rounded to cents, conversion = conversions per 100 visits.
create or replace function private.metric_value(
  p_metric text, p_orders numeric, p_revenue numeric, p_users numeric, p_visits numeric, p_conversions numeric
) returns numeric
language sql immutable set search_path = ''
as $$
  select case p_metric
    when 'revenue' then round(p_revenue, 2)
    when 'orders' then p_orders
    when 'users' then p_users
    when 'visits' then p_visits
    else case when p_visits = 0 then 0 else round(p_conversions * 100.0 / p_visits, 2) end
  end
$$;

-- analytics_metrics, now with the time zone. Replaced, not overloaded: two functions that
-- both accept (start_date, end_date, metrics) would make PostgREST's call ambiguous
-- (PGRST203). Every existing call shape still works: the SPA's named
-- (start_date, end_date, metrics), the worker's positional ($1, $2, $3, $4).
drop function public.analytics_metrics(date, date, text[], uuid);

-- Daily series of each metric over [start_date, end_date] for one owner's business events,
-- with totals, trend and change against the previous period of equal length:
--   {"metrics": {"revenue": {"total", "trend", "change", "dataPoints": [{"date","value"}]}, …},
--    "timeZone": "Asia/Jakarta", "generatedAt": "…"}
-- Days are local days of `time_zone` (an IANA name; default: the caller's
-- profiles.preferences->>'timezone' — the owner's when there is no signed-in caller — else
-- UTC); an unknown name raises P0001 "Unknown time zone 'Foo/Bar'".
-- SECURITY INVOKER: RLS on business_events decides whose numbers the caller gets (another
-- user's: zeros, as before); the numbers come from the hourly rollup through
-- private.analytics_daily. `owner` defaults to the caller; the worker passes the task's owner.
create function public.analytics_metrics(
  start_date date,
  end_date date,
  metrics text[] default array['revenue', 'users', 'conversion', 'orders', 'visits'],
  owner uuid default null,
  time_zone text default null
) returns jsonb
language plpgsql stable set search_path = ''
as $$
declare
  v_owner uuid := coalesce(owner, auth.uid());
  v_zone text := nullif(btrim(time_zone), '');
  v_from_profile boolean := false;
  v_prev_start date;
  v_visible boolean;
  v_metric text;
  v_result jsonb;
begin
  if start_date is null or end_date is null then
    raise exception 'start_date and end_date are required' using errcode = 'P0001';
  end if;
  if start_date > end_date then
    raise exception 'The start date must not be after the end date' using errcode = 'P0001';
  end if;
  if end_date - start_date > 365 then
    raise exception 'The date range may span at most 366 days' using errcode = 'P0001';
  end if;
  if metrics is null or cardinality(metrics) = 0 then
    raise exception 'Choose at least one metric' using errcode = 'P0001';
  end if;
  foreach v_metric in array metrics loop
    if not (v_metric = any (array['revenue', 'users', 'conversion', 'orders', 'visits'])) then
      raise exception 'Unknown metric "%": expected one of revenue, users, conversion, orders, visits', v_metric
        using errcode = 'P0001';
    end if;
  end loop;
  if v_zone is null then
    select nullif(btrim(p.preferences ->> 'timezone'), '') into v_zone
      from public.profiles p where p.id = coalesce(auth.uid(), v_owner);
    v_from_profile := v_zone is not null;
  end if;
  v_zone := coalesce(v_zone, 'UTC');
  if not exists (select 1 from private.time_zone_names z where z.name = v_zone) then
    raise exception 'Unknown time zone ''%''', v_zone using errcode = 'P0001',
      hint = case when v_from_profile then 'Choose your time zone again under Settings, Profile.'
                  else 'Use an IANA time zone name, like Asia/Jakarta, America/New_York or UTC.' end;
  end if;
  if v_owner is null then
    raise exception 'Sign in to see analytics' using errcode = '42501';
  end if;

  v_prev_start := start_date - (end_date - start_date + 1);
  -- What RLS lets the caller read of the owner's events is all or nothing (the policies
  -- look at user_id only): one visible row means all of them.
  v_visible := exists (select 1 from public.business_events e where e.user_id = v_owner);

  with daily as (
    select * from private.analytics_daily(case when v_visible then v_owner end, v_prev_start, end_date, v_zone)
  ), period as (
    select d.day >= start_date as current,
           sum(d.orders) as orders, sum(d.revenue) as revenue, sum(d.users) as users,
           sum(d.visits) as visits, sum(d.conversions) as conversions
      from daily d group by 1
  ), asked as (
    select distinct m.metric from unnest(metrics) as m(metric)
  ), totals as (
    select a.metric,
           (select private.metric_value(a.metric, p.orders, p.revenue, p.users, p.visits, p.conversions)
              from period p where p.current) as total,
           (select private.metric_value(a.metric, p.orders, p.revenue, p.users, p.visits, p.conversions)
              from period p where not p.current) as prev
      from asked a
  ), changes as (
    select t.metric, t.total,
           case when t.prev = 0 and t.total = 0 then 0
                when t.prev = 0 then 100
                else round((t.total - t.prev) * 100.0 / t.prev, 1) end as change
      from totals t
  )
  select jsonb_object_agg(c.metric, jsonb_build_object(
           'total', c.total,
           'trend', case when c.change > 0.5 then 'up' when c.change < -0.5 then 'down' else 'flat' end,
           'change', c.change,
           'dataPoints', (select coalesce(jsonb_agg(jsonb_build_object(
                                   'date', to_char(d.day, 'YYYY-MM-DD'),
                                   'value', private.metric_value(c.metric, d.orders, d.revenue, d.users, d.visits, d.conversions))
                                 order by d.day), '[]'::jsonb)
                            from daily d where d.day >= start_date)))
    into v_result
    from changes c;

  return jsonb_build_object(
    'metrics', v_result,
    'timeZone', v_zone,
    'generatedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
end
$$;

revoke all on function private.analytics_daily(uuid, date, date, text) from public, anon;
revoke all on function private.metric_value(text, numeric, numeric, numeric, numeric, numeric) from public, anon;
revoke all on function public.analytics_metrics(date, date, text[], uuid, text) from public, anon;
grant execute on function private.analytics_daily(uuid, date, date, text) to authenticated, service_role;
grant execute on function private.metric_value(text, numeric, numeric, numeric, numeric, numeric) to authenticated, service_role;
grant execute on function public.analytics_metrics(date, date, text[], uuid, text) to authenticated, service_role;

