-- The ORIGINAL analytics_metrics of migrations/20250101000200_functions_and_triggers.sql
-- (a raw scan of business_events per call), copied verbatim into a bench-only schema
-- so scripts/bench-data can time it beside whatever public.analytics_metrics is now.
create schema if not exists bench_old;
create or replace function bench_old.analytics_metrics(
  start_date date,
  end_date date,
  metrics text[] default array['revenue', 'users', 'conversion', 'orders', 'visits'],
  owner uuid default null
) returns jsonb
language plpgsql stable set search_path = ''
as $$
declare
  v_owner uuid := coalesce(owner, auth.uid());
  v_days integer;
  v_prev_start date;
  v_result jsonb := '{}';
  v_metric text;
  v_points jsonb;
  v_total numeric;
  v_prev numeric;
  v_change numeric;
  cur record;
  prev record;
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
  if v_owner is null then
    raise exception 'Sign in to see analytics' using errcode = '42501';
  end if;

  v_days := end_date - start_date + 1;
  v_prev_start := start_date - v_days;

  -- Totals of the current and the previous period.
  select coalesce(sum(e.amount) filter (where e.event_type = 'order'), 0) as revenue,
         count(*) filter (where e.event_type = 'order') as orders,
         count(*) filter (where e.event_type = 'signup') as users,
         count(*) filter (where e.event_type = 'visit') as visits,
         count(*) filter (where e.event_type = 'conversion') as conversions
    into cur
    from public.business_events e
   where e.user_id = v_owner
     and e.occurred_at >= start_date::timestamptz and e.occurred_at < (end_date + 1)::timestamptz;

  select coalesce(sum(e.amount) filter (where e.event_type = 'order'), 0) as revenue,
         count(*) filter (where e.event_type = 'order') as orders,
         count(*) filter (where e.event_type = 'signup') as users,
         count(*) filter (where e.event_type = 'visit') as visits,
         count(*) filter (where e.event_type = 'conversion') as conversions
    into prev
    from public.business_events e
   where e.user_id = v_owner
     and e.occurred_at >= v_prev_start::timestamptz and e.occurred_at < start_date::timestamptz;

  foreach v_metric in array metrics loop
    if v_result ? v_metric then
      continue;
    end if;
    with days as (
      select d::date as day from generate_series(start_date, end_date, interval '1 day') d
    ), ev as (
      select e.occurred_at::date as day, e.event_type, e.amount
        from public.business_events e
       where e.user_id = v_owner
         and e.occurred_at >= start_date::timestamptz and e.occurred_at < (end_date + 1)::timestamptz
    ), daily as (
      select days.day,
             coalesce(sum(ev.amount) filter (where ev.event_type = 'order'), 0) as revenue,
             count(ev.*) filter (where ev.event_type = 'order') as orders,
             count(ev.*) filter (where ev.event_type = 'signup') as users,
             count(ev.*) filter (where ev.event_type = 'visit') as visits,
             count(ev.*) filter (where ev.event_type = 'conversion') as conversions
        from days left join ev on ev.day = days.day
       group by days.day
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'date', to_char(daily.day, 'YYYY-MM-DD'),
             'value', case v_metric
               when 'revenue' then round(daily.revenue, 2)
               when 'orders' then daily.orders
               when 'users' then daily.users
               when 'visits' then daily.visits
               else case when daily.visits = 0 then 0
                         else round(daily.conversions * 100.0 / daily.visits, 2) end
             end) order by daily.day), '[]'::jsonb)
      into v_points
      from daily;

    v_total := case v_metric
      when 'revenue' then round(cur.revenue, 2)
      when 'orders' then cur.orders
      when 'users' then cur.users
      when 'visits' then cur.visits
      else case when cur.visits = 0 then 0 else round(cur.conversions * 100.0 / cur.visits, 2) end
    end;
    v_prev := case v_metric
      when 'revenue' then round(prev.revenue, 2)
      when 'orders' then prev.orders
      when 'users' then prev.users
      when 'visits' then prev.visits
      else case when prev.visits = 0 then 0 else round(prev.conversions * 100.0 / prev.visits, 2) end
    end;
    v_change := case
      when v_prev = 0 and v_total = 0 then 0
      when v_prev = 0 then 100
      else round((v_total - v_prev) * 100.0 / v_prev, 1)
    end;

    v_result := v_result || jsonb_build_object(v_metric, jsonb_build_object(
      'total', v_total,
      'trend', case when v_change > 0.5 then 'up' when v_change < -0.5 then 'down' else 'flat' end,
      'change', v_change,
      'dataPoints', v_points));
  end loop;

  return jsonb_build_object(
    'metrics', v_result,
    'generatedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
end
$$;
grant usage on schema bench_old to authenticated;
grant execute on function bench_old.analytics_metrics(date, date, text[], uuid) to authenticated;
