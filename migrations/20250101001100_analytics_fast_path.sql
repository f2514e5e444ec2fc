-- analytics_metrics at a year's range (issue #11): 42 ms p50 over 10M events, of which
-- the rollup read was ~8 ms. The rest went to dividing hours that no day boundary divides
-- (an anti-join against an empty list of split hours, a union of four branches) and to one
-- sub-select over the days per metric. Now:
--   * private.analytics_daily first checks whether any day boundary of the range falls
--     inside a UTC hour; when none does (every whole-hour zone, UTC and Indonesia's three
--     included), it reads the owner's rollup hours once and pivots them per local day. The
--     quarter-hour and raw-event branches stay for the other zones, unchanged;
--   * analytics_metrics builds every metric's data points in one grouped pass, with the
--     value expression of private.metric_value written out (that function has its own
--     search_path, so PostgreSQL calls it instead of inlining it: ~5 µs a point).
-- Same results: supabase/tests/30_analytics_rollups.sql compares both paths with the raw
-- events (its random zones include whole-hour, quarter-hour and historic offsets).

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
  -- Whole-hour zones (no day boundary of the range inside a UTC hour: Asia/Jakarta,
  -- Asia/Makassar, Asia/Jayapura, UTC, America/New_York across DST…): every rollup hour
  -- lies in one local day, so one pass over the owner's hours, pivoted per day, is all.
  if not exists (
    select 1 from generate_series(p_first, p_last + 1, interval '1 day') d
     where (d::timestamp at time zone p_time_zone)
           <> date_trunc('hour', d::timestamp at time zone p_time_zone, 'UTC')
  ) then
    return query
    with per_day as (
      select (r.hour at time zone p_time_zone)::date as day,
             sum(r.events) filter (where r.event_type = 'order') as orders,
             sum(r.amount) filter (where r.event_type = 'order') as revenue,
             sum(r.events) filter (where r.event_type = 'signup') as users,
             sum(r.events) filter (where r.event_type = 'visit') as visits,
             sum(r.events) filter (where r.event_type = 'conversion') as conversions
        from private.business_event_hourly r
       where r.user_id = p_owner
         and r.hour >= (p_first::timestamp at time zone p_time_zone)
         and r.hour < ((p_last + 1)::timestamp at time zone p_time_zone)
       group by 1
    )
    select d::date,
           coalesce(p.orders, 0)::bigint, coalesce(p.revenue, 0)::numeric, coalesce(p.users, 0)::bigint,
           coalesce(p.visits, 0)::bigint, coalesce(p.conversions, 0)::bigint
      from generate_series(p_first, p_last, interval '1 day') d
      left join per_day p on p.day = d::date
     order by 1;
    return;
  end if;
  -- Otherwise some boundaries split an hour: the rows of those hours are divided.
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

create or replace function public.analytics_metrics(
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
  ), points as (
    -- every series in one pass over the days
    select a.metric,
           jsonb_agg(jsonb_build_object(
             'date', to_char(d.day, 'YYYY-MM-DD'),
             -- private.metric_value, written out: a function with its own search_path is
             -- never inlined, and 1,825 calls for a year of five metrics cost ~9 ms
             'value', case a.metric
                        when 'revenue' then round(d.revenue, 2)
                        when 'orders' then d.orders
                        when 'users' then d.users
                        when 'visits' then d.visits
                        else case when d.visits = 0 then 0
                                  else round(d.conversions * 100.0 / d.visits, 2) end
                      end)
             order by d.day) as data
      from asked a cross join daily d
     where d.day >= start_date
     group by a.metric
  )
  select jsonb_object_agg(c.metric, jsonb_build_object(
           'total', c.total,
           'trend', case when c.change > 0.5 then 'up' when c.change < -0.5 then 'down' else 'flat' end,
           'change', c.change,
           'dataPoints', coalesce(p.data, '[]'::jsonb)))
    into v_result
    from changes c left join points p on p.metric = c.metric;

  return jsonb_build_object(
    'metrics', v_result,
    'timeZone', v_zone,
    'generatedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
end
$$;

