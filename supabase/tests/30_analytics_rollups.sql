-- 30_analytics_rollups.sql — analytics_metrics from the hourly rollup, in time zones.
--
-- Proves:
--   * after random inserts, updates (moving events across hours, owners and types, changing
--     amounts) and deletes, in single- and multi-row statements, the rollup holds exactly
--     what the raw events give (count, sum, and the first 15/30/45 minutes of each hour),
--     with no bucket left at zero;
--   * analytics_metrics equals a straightforward computation over the raw events, written
--     here, for random ranges, metrics and owners in zones of whole hours (Asia/Jakarta,
--     Asia/Makassar, Asia/Jayapura, UTC, America/New_York across both DST changes), of
--     half and quarter hours (Asia/Kolkata, Asia/Kathmandu, Australia/Adelaide,
--     Australia/Lord_Howe, Pacific/Chatham) and a historic -0:44:30 (Africa/Monrovia in
--     1971, served from the raw events of the split hours); events sit on and next to
--     local midnights too;
--   * sums are exact numerics (amounts near the column's maximum, where float8 loses cents);
--   * a write is seen by the next query in the same transaction;
--   * time_zone: the caller's profile preference by default, UTC without one, named in the
--     result; an unknown name is refused with P0001 "Unknown time zone 'Foo/Bar'";
--   * the rollup is out of the API's reach, and private.analytics_daily refuses another
--     user's owner.
-- Reproducible: setseed() fixes every random choice.
begin;
select plan(51);

create function pg_temp.login_as(sub text) returns void
language plpgsql as $$
begin
  if sub is null then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  else
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', sub, 'role', 'authenticated', 'aud', 'authenticated')::text, true);
  end if;
end
$$;

-- Three owners of our own (the seed's events stay untouched beside them).
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'authenticated',
        'authenticated', 'roll-1@taskdeck.test', '', now(), '{"provider":"email"}', '{}', now(), now()),
       ('00000000-0000-0000-0000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'authenticated',
        'authenticated', 'roll-2@taskdeck.test', '', now(), '{"provider":"email"}', '{}', now(), now()),
       ('00000000-0000-0000-0000-000000000000', 'a0000000-0000-4000-8000-000000000003', 'authenticated',
        'authenticated', 'roll-3@taskdeck.test', '', now(), '{"provider":"email"}', '{}', now(), now());
update public.profiles set preferences = '{"timezone":"Asia/Jayapura"}' where id = 'a0000000-0000-4000-8000-000000000001';

create temp table zones (n int primary key, name text);
insert into zones values (1, 'Asia/Jakarta'), (2, 'Asia/Makassar'), (3, 'Asia/Jayapura'), (4, 'UTC'),
  (5, 'America/New_York'), (6, 'Asia/Kolkata'), (7, 'Asia/Kathmandu'), (8, 'Australia/Adelaide'),
  (9, 'Australia/Lord_Howe'), (10, 'Pacific/Chatham');

-- The raw computation, the plain way: each event's local day, per-day sums, period sums.
create function pg_temp.raw_metrics(p_owner uuid, s date, e date, ms text[], tz text) returns jsonb
language sql as $$
  with days as (
    select d::date as day from generate_series(s - (e - s + 1), e, interval '1 day') d
  ), ev as (
    select (b.occurred_at at time zone tz)::date as day, b.event_type, b.amount
      from public.business_events b where b.user_id = p_owner
  ), daily as (
    select days.day,
           count(ev.event_type) filter (where ev.event_type = 'order') as orders,
           coalesce(sum(ev.amount) filter (where ev.event_type = 'order'), 0) as revenue,
           count(ev.event_type) filter (where ev.event_type = 'signup') as users,
           count(ev.event_type) filter (where ev.event_type = 'visit') as visits,
           count(ev.event_type) filter (where ev.event_type = 'conversion') as conversions
      from days left join ev on ev.day = days.day
     group by days.day
  ), val as (
    select m.metric, d.day, d.day >= s as current,
           case m.metric
             when 'revenue' then round(d.revenue, 2) when 'orders' then d.orders
             when 'users' then d.users when 'visits' then d.visits
             else case when d.visits = 0 then 0 else round(d.conversions * 100.0 / d.visits, 2) end
           end as value
      from daily d, (select distinct unnest(ms) as metric) m
  ), period as (
    select m.metric, p.current,
           case m.metric
             when 'revenue' then round(sum(d.revenue), 2) when 'orders' then sum(d.orders)
             when 'users' then sum(d.users) when 'visits' then sum(d.visits)
             else case when sum(d.visits) = 0 then 0 else round(sum(d.conversions) * 100.0 / sum(d.visits), 2) end
           end as total
      from daily d, (select distinct unnest(ms) as metric) m, lateral (select d.day >= s as current) p
     group by m.metric, p.current
  ), summary as (
    select c.metric, c.total,
           case when p.total = 0 and c.total = 0 then 0 when p.total = 0 then 100
                else round((c.total - p.total) * 100.0 / p.total, 1) end as change
      from period c join period p on p.metric = c.metric and not p.current
     where c.current
  )
  select jsonb_object_agg(sm.metric, jsonb_build_object(
           'total', sm.total,
           'change', sm.change,
           'trend', case when sm.change > 0.5 then 'up' when sm.change < -0.5 then 'down' else 'flat' end,
           'dataPoints', (select jsonb_agg(jsonb_build_object('date', to_char(v.day, 'YYYY-MM-DD'), 'value', v.value)
                                           order by v.day)
                            from val v where v.metric = sm.metric and v.current)))
    from summary sm
$$;

-- What the rollup must hold, from the raw events: per owner and UTC hour, the count of
-- every event and each metric's figure, for the hour and its first 15, 30 and 45 minutes.
create function pg_temp.rollup_diff() returns bigint
language sql as $$
  with raw as (
    select user_id, date_trunc('hour', occurred_at, 'UTC') as hour,
           count(*) as events,
           coalesce(sum(1) filter (where event_type = 'order'), 0) as orders,
           coalesce(sum(amount) filter (where event_type = 'order'), 0) as revenue,
           coalesce(sum(1) filter (where event_type = 'signup'), 0) as signups,
           coalesce(sum(1) filter (where event_type = 'visit'), 0) as visits,
           coalesce(sum(1) filter (where event_type = 'conversion'), 0) as conversions,
           coalesce(sum(1) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 15), 0) as orders_15,
           coalesce(sum(amount) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 15), 0) as revenue_15,
           coalesce(sum(1) filter (where event_type = 'signup' and extract(minute from occurred_at at time zone 'UTC') < 15), 0) as signups_15,
           coalesce(sum(1) filter (where event_type = 'visit' and extract(minute from occurred_at at time zone 'UTC') < 15), 0) as visits_15,
           coalesce(sum(1) filter (where event_type = 'conversion' and extract(minute from occurred_at at time zone 'UTC') < 15), 0) as conversions_15,
           coalesce(sum(1) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 30), 0) as orders_30,
           coalesce(sum(amount) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 30), 0) as revenue_30,
           coalesce(sum(1) filter (where event_type = 'signup' and extract(minute from occurred_at at time zone 'UTC') < 30), 0) as signups_30,
           coalesce(sum(1) filter (where event_type = 'visit' and extract(minute from occurred_at at time zone 'UTC') < 30), 0) as visits_30,
           coalesce(sum(1) filter (where event_type = 'conversion' and extract(minute from occurred_at at time zone 'UTC') < 30), 0) as conversions_30,
           coalesce(sum(1) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 45), 0) as orders_45,
           coalesce(sum(amount) filter (where event_type = 'order' and extract(minute from occurred_at at time zone 'UTC') < 45), 0) as revenue_45,
           coalesce(sum(1) filter (where event_type = 'signup' and extract(minute from occurred_at at time zone 'UTC') < 45), 0) as signups_45,
           coalesce(sum(1) filter (where event_type = 'visit' and extract(minute from occurred_at at time zone 'UTC') < 45), 0) as visits_45,
           coalesce(sum(1) filter (where event_type = 'conversion' and extract(minute from occurred_at at time zone 'UTC') < 45), 0) as conversions_45
      from public.business_events group by 1, 2
  ), kept as (
    select user_id, hour, events, orders, revenue, signups, visits, conversions, orders_15, revenue_15, signups_15, visits_15, conversions_15, orders_30, revenue_30, signups_30, visits_30, conversions_30, orders_45, revenue_45, signups_45, visits_45, conversions_45
      from private.business_event_hours
  )
  select (select count(*) from (select * from raw except select * from kept) a)
       + (select count(*) from (select * from kept except select * from raw) b)
$$;

select setseed(0.1108);

-- (random() in a WHERE would be drawn once per row: draw first, then look up.)
create function pg_temp.random_zone() returns text
language plpgsql volatile as $$
declare
  k int := 1 + floor(random() * 10)::int;
begin
  return (select name from zones where n = k);
end
$$;

-- A random instant: mostly inside the two DST windows of 2024 (New York: 10 March and
-- 3 November; Adelaide and Lord Howe: 7 April and 6 October), a third right on or next to
-- a local midnight of one of the zones.
create function pg_temp.random_instant() returns timestamptz
language plpgsql volatile as $$
declare
  r float8 := random();
  base timestamptz;
  zone text;
begin
  if r < 0.35 then
    return timestamptz '2024-02-26 00:00Z' + random() * interval '50 days';
  elsif r < 0.65 then
    return timestamptz '2024-09-28 00:00Z' + random() * interval '45 days';
  end if;
  zone := pg_temp.random_zone();
  base := ((date '2024-03-01' + (random() * 40)::int + case when random() < 0.5 then 212 else 0 end)::timestamp
           at time zone zone);
  r := random();
  return base + case when r < 0.3 then interval '0' when r < 0.5 then interval '-1 microsecond'
                     when r < 0.6 then interval '1 microsecond'
                     else (random() * 40 - 20) * interval '1 minute' end;
end
$$;

create function pg_temp.random_type() returns text
language sql volatile as $$ select (array['order', 'order', 'visit', 'visit', 'visit', 'signup', 'conversion'])[1 + floor(random() * 7)::int] $$;

create function pg_temp.random_owner() returns uuid
language sql volatile as $$ select case when random() < 0.6 then 'a0000000-0000-4000-8000-000000000001'::uuid
                                        else 'a0000000-0000-4000-8000-000000000002'::uuid end $$;

-- ---------------------------------------------------------------------------------------
-- Writes: 600 events in statements of 1 to 150 rows, then updates and deletes.
-- ---------------------------------------------------------------------------------------
do $$
declare
  left_to_add int := 600;
  batch int;
begin
  while left_to_add > 0 loop
    batch := least(left_to_add, case when random() < 0.3 then 1 else 1 + floor(random() * 150)::int end);
    insert into public.business_events (user_id, event_type, amount, occurred_at)
    select pg_temp.random_owner(), pg_temp.random_type(),
           case when random() < 0.2 then 0 else round((random() * 900)::numeric, 2) end,
           pg_temp.random_instant()
      from generate_series(1, batch);
    left_to_add := left_to_add - batch;
  end loop;
end
$$;
select is(pg_temp.rollup_diff(), 0::bigint, 'after random inserts the rollup equals the raw aggregate exactly');

do $$
begin
  for i in 1..12 loop
    update public.business_events e
       set occurred_at = case when random() < 0.5 then e.occurred_at + (random() * 96 - 48) * interval '1 hour'
                              else pg_temp.random_instant() end,
           user_id = case when random() < 0.3 then pg_temp.random_owner() else e.user_id end,
           event_type = case when random() < 0.3 then pg_temp.random_type() else e.event_type end,
           amount = case when random() < 0.4 then round((random() * 900)::numeric, 2) else e.amount end
     where e.id in (select b.id from public.business_events b
                     where b.user_id in ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002')
                     order by random() limit 1 + floor(random() * 40)::int);
  end loop;
end
$$;
select is(pg_temp.rollup_diff(), 0::bigint, 'after random updates across hours, owners and types the rollup still equals the raw aggregate');

do $$
begin
  for i in 1..6 loop
    delete from public.business_events e
     where e.id in (select b.id from public.business_events b
                     where b.user_id in ('a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002')
                     order by random() limit 1 + floor(random() * 25)::int);
  end loop;
end
$$;
select is(pg_temp.rollup_diff(), 0::bigint, 'after random deletes the rollup still equals the raw aggregate');
select is((select count(*) from private.business_event_hours where events <= 0), 0::bigint,
          'no rollup bucket is left with a count of zero');
select ok((select count(*) from public.business_events where user_id = 'a0000000-0000-4000-8000-000000000001') > 200
          and (select count(*) from public.business_events where user_id = 'a0000000-0000-4000-8000-000000000002') > 100,
          'both owners keep a few hundred events for the comparisons');
select ok((select count(*) from public.business_events e, zones z
            where z.n >= 6 and e.user_id = 'a0000000-0000-4000-8000-000000000001'
              and extract(minute from e.occurred_at at time zone z.name) <> extract(minute from e.occurred_at at time zone 'UTC')
              and ((e.occurred_at at time zone z.name)::time < '00:20' or (e.occurred_at at time zone z.name)::time > '23:40')) > 30,
          'many events lie within 20 minutes of a midnight that splits a UTC hour (the quarter columns are exercised)');

-- ---------------------------------------------------------------------------------------
-- analytics_metrics = the raw computation
-- ---------------------------------------------------------------------------------------
create temp table cases (n serial primary key, owner uuid, s date, e date, ms text[], tz text);
-- Fixed: every zone over each DST window, all metrics.
insert into cases (owner, s, e, ms, tz)
select 'a0000000-0000-4000-8000-000000000001', w.s, w.e, array['revenue', 'users', 'conversion', 'orders', 'visits'], z.name
  from zones z, (values (date '2024-03-01', date '2024-04-12'), (date '2024-09-30', date '2024-11-08')) w(s, e)
 order by z.n, w.s;
-- Random: owner, zone, range (1 to 45 days, some reaching outside the events), metrics.
insert into cases (owner, s, e, ms, tz)
select o, s, s + len, ms, z
  from (select pg_temp.random_owner() as o,
               date '2024-02-20' + floor(random() * 60)::int + case when random() < 0.5 then 214 else 0 end as s,
               floor(random() * 45)::int as len,
               (select array_agg(m) from unnest(array['revenue', 'users', 'conversion', 'orders', 'visits']) m
                 where random() < 0.6) as ms,
               pg_temp.random_zone() as z,
               g
          from generate_series(1, 60) g) r
 where ms is not null
 order by g;

create temp table compared as
select c.n, c.tz, c.s, c.e, c.ms,
       public.analytics_metrics(c.s, c.e, c.ms, c.owner, c.tz) as got,
       pg_temp.raw_metrics(c.owner, c.s, c.e, c.ms, c.tz) as want
  from cases c;
select ok((select count(*) from cases) >= 70, 'at least 70 ranges are compared');
select is(got -> 'metrics', want,
          format('%s, %s to %s, %s: analytics_metrics equals the raw computation', tz, s, e, array_to_string(ms, ',')))
  from compared where n <= 20 order by n;
select is((select count(*) from compared where got -> 'metrics' is distinct from want), 0::bigint,
          'every random range, zone and set of metrics gives what the raw events give');
select is((select count(*) from compared where got ->> 'timeZone' is distinct from tz), 0::bigint,
          'each result names the zone its days are in');
select ok((select count(*) from compared c
            where exists (select 1 from jsonb_each(c.want) kv where (kv.value ->> 'total')::numeric > 0)) > 40,
          'the compared ranges hold events (not only zeros)');

-- New York: the day of the spring change has 23 hours, the autumn one 25; the totals over
-- the window and the data points of those days match.
select is((select jsonb_path_query_first(got, '$.metrics.visits.dataPoints[*] ? (@.date == "2024-03-10")')
             from compared where tz = 'America/New_York' and s = '2024-03-01' and n <= 20),
          (select jsonb_build_object('date', '2024-03-10', 'value', count(*)) from public.business_events
            where user_id = 'a0000000-0000-4000-8000-000000000001' and event_type = 'visit'
              and occurred_at >= timestamptz '2024-03-10 05:00Z' and occurred_at < timestamptz '2024-03-11 04:00Z'),
          'America/New_York: 10 March 2024 counts the 23 hours from 05:00 to 04:00 UTC');
select is((select jsonb_path_query_first(got, '$.metrics.visits.dataPoints[*] ? (@.date == "2024-11-03")')
             from compared where tz = 'America/New_York' and s = '2024-09-30' and n <= 20),
          (select jsonb_build_object('date', '2024-11-03', 'value', count(*)) from public.business_events
            where user_id = 'a0000000-0000-4000-8000-000000000001' and event_type = 'visit'
              and occurred_at >= timestamptz '2024-11-03 04:00Z' and occurred_at < timestamptz '2024-11-04 05:00Z'),
          'America/New_York: 3 November 2024 counts the 25 hours from 04:00 to 05:00 UTC');

-- Africa/Monrovia was -0:44:30 until 1972: its midnights fall 44.5 minutes into a UTC
-- hour, which the rollup cannot split; those hours come from the raw events.
insert into public.business_events (user_id, event_type, amount, occurred_at)
select 'a0000000-0000-4000-8000-000000000003', pg_temp.random_type(), round((random() * 500)::numeric, 2),
       case when random() < 0.5 then timestamptz '1971-06-01 00:00Z' + random() * interval '20 days'
            else timestamptz '1971-06-01 00:44:30Z' + floor(random() * 20) * interval '1 day'
                 + (random() * 4 - 2) * interval '1 minute' end
  from generate_series(1, 300);
select is(public.analytics_metrics(date '1971-06-03', date '1971-06-12', array['orders', 'revenue', 'visits'],
                                   'a0000000-0000-4000-8000-000000000003', 'Africa/Monrovia') -> 'metrics',
          pg_temp.raw_metrics('a0000000-0000-4000-8000-000000000003', date '1971-06-03', date '1971-06-12',
                              array['orders', 'revenue', 'visits'], 'Africa/Monrovia'),
          'Africa/Monrovia in 1971 (-0:44:30): equal to the raw computation, through the raw events of split hours');
select isnt(public.analytics_metrics(date '1971-06-03', date '1971-06-12', array['visits'],
                                     'a0000000-0000-4000-8000-000000000003', 'Africa/Monrovia') -> 'metrics',
            public.analytics_metrics(date '1971-06-03', date '1971-06-12', array['visits'],
                                     'a0000000-0000-4000-8000-000000000003', 'UTC') -> 'metrics',
            'Monrovia''s days of 1971 differ from UTC''s (the events straddle its midnights)');

-- ---------------------------------------------------------------------------------------
-- Exact sums
-- ---------------------------------------------------------------------------------------
insert into public.business_events (user_id, event_type, amount, occurred_at)
select 'a0000000-0000-4000-8000-000000000003', 'order', a, timestamptz '2024-05-05 10:00Z' + g * interval '1 minute'
  from unnest(array_fill(999999999999.99::numeric, array[40]) || array[0.01, 0.10, 0.20]::numeric[])
       with ordinality as x(a, g);
select is((public.analytics_metrics(date '2024-05-05', date '2024-05-05', array['revenue'],
                                    'a0000000-0000-4000-8000-000000000003', 'UTC') #>> '{metrics,revenue,total}'),
          '39999999999999.91',
          'revenue sums exactly: 40 × 999,999,999,999.99 (the largest amount) + 0.01 + 0.10 + 0.20 = 39,999,999,999,999.91');
select isnt((select sum(amount::float8) from public.business_events
              where user_id = 'a0000000-0000-4000-8000-000000000003' and occurred_at::date = '2024-05-05')::numeric,
            39999999999999.91::numeric,
            'float8 would not give that sum (so the check above can tell numeric from float)');
select is((select pg_typeof(revenue)::text from private.business_event_hours limit 1), 'numeric',
          'the rollup keeps amounts as numeric');

-- ---------------------------------------------------------------------------------------
-- A write is seen at once
-- ---------------------------------------------------------------------------------------
create temp table seen (step text primary key, m jsonb);
insert into seen select 'before', public.analytics_metrics(date '2024-03-05', date '2024-03-05', array['orders', 'revenue'],
                                                           'a0000000-0000-4000-8000-000000000001', 'Asia/Jakarta');
insert into public.business_events (user_id, event_type, amount, occurred_at)
values ('a0000000-0000-4000-8000-000000000001', 'order', 12.34, timestamptz '2024-03-05 00:00 Asia/Jakarta');
insert into seen select 'after', public.analytics_metrics(date '2024-03-05', date '2024-03-05', array['orders', 'revenue'],
                                                          'a0000000-0000-4000-8000-000000000001', 'Asia/Jakarta');
select is((select (a.m #>> '{metrics,orders,total}')::int - (b.m #>> '{metrics,orders,total}')::int
             from seen a, seen b where a.step = 'after' and b.step = 'before'), 1,
          'an order inserted at local midnight counts on that day in the very next query');
select is((select (a.m #>> '{metrics,revenue,total}')::numeric - (b.m #>> '{metrics,revenue,total}')::numeric
             from seen a, seen b where a.step = 'after' and b.step = 'before'), 12.34,
          '…and its amount is in the revenue');

-- ---------------------------------------------------------------------------------------
-- time_zone: default, the result, bad names
-- ---------------------------------------------------------------------------------------
create temp table calls (who text primary key, m jsonb);
grant select, insert on calls to public;
select pg_temp.login_as('a0000000-0000-4000-8000-000000000001');
insert into calls select 'default', public.analytics_metrics(date '2024-03-01', date '2024-03-20', array['orders', 'visits']);
insert into calls select 'jayapura', public.analytics_metrics(date '2024-03-01', date '2024-03-20', array['orders', 'visits'],
                                                              time_zone => 'Asia/Jayapura');
insert into calls select 'utc', public.analytics_metrics(date '2024-03-01', date '2024-03-20', array['orders', 'visits'],
                                                         time_zone => 'UTC');
select pg_temp.login_as('a0000000-0000-4000-8000-000000000002');
insert into calls select 'no preference', public.analytics_metrics(date '2024-03-01', date '2024-03-20', array['orders']);
insert into calls select 'no preference utc', public.analytics_metrics(date '2024-03-01', date '2024-03-20', array['orders'],
                                                                       time_zone => 'UTC');
select pg_temp.login_as(null);

select is((select m ->> 'timeZone' from calls where who = 'default'), 'Asia/Jayapura',
          'without time_zone the caller''s preferred zone is used, and named in the result');
select is((select m -> 'metrics' from calls where who = 'default'), (select m -> 'metrics' from calls where who = 'jayapura'),
          'the default gives the same numbers as naming that zone');
select isnt((select m -> 'metrics' from calls where who = 'jayapura'), (select m -> 'metrics' from calls where who = 'utc'),
            'Jayapura''s days give other numbers than UTC''s');
select is((select m ->> 'timeZone' from calls where who = 'no preference'), 'UTC',
          'a caller without a preferred zone gets UTC days');
select is((select m -> 'metrics' from calls where who = 'no preference'), (select m -> 'metrics' from calls where who = 'no preference utc'),
          '…the same numbers as naming UTC');
select is((select m -> 'metrics' from calls where who = 'default'),
          pg_temp.raw_metrics('a0000000-0000-4000-8000-000000000001', date '2024-03-01', date '2024-03-20',
                              array['orders', 'visits'], 'Asia/Jayapura'),
          'as the owner (through RLS) the numbers equal the raw computation');

select pg_temp.login_as('a0000000-0000-4000-8000-000000000001');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date, array['orders'], null, 'Foo/Bar')$$,
                 'P0001', 'Unknown time zone ''Foo/Bar''', 'an unknown time zone is refused (P0001)');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date, array['orders'], null, 'XYZ+3')$$,
                 'P0001', 'Unknown time zone ''XYZ+3''', 'a POSIX zone spec is not an IANA name (P0001)');
select throws_ok($$select * from private.business_event_hours$$,
                 '42501', 'permission denied for table business_event_hours', 'users cannot read the rollup itself');
select throws_ok($$select * from private.analytics_daily('a0000000-0000-4000-8000-000000000002', date '2024-03-01', date '2024-03-02', 'UTC')$$,
                 '42501', 'You can only see your own analytics', 'private.analytics_daily refuses another user''s owner');
select is((public.analytics_metrics(date '2024-03-01', date '2024-04-12', array['orders'],
                                    'a0000000-0000-4000-8000-000000000002', 'UTC') #>> '{metrics,orders,total}')::int, 0,
          'asking for another user''s numbers gives zeros, as RLS on business_events always did');
select pg_temp.login_as(null);

update public.profiles set preferences = '{"timezone":"Mars/Olympus"}' where id = 'a0000000-0000-4000-8000-000000000002';
select pg_temp.login_as('a0000000-0000-4000-8000-000000000002');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date)$$,
                 'P0001', 'Unknown time zone ''Mars/Olympus''', 'an unknown preferred zone is refused with its name');
select pg_temp.login_as(null);

select * from finish();
rollback;
