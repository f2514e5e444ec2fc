-- 23_analytics_metrics.sql — the analytics_metrics RPC.
--
-- Proves:
--   * as alice it counts only alice's events: its totals equal a direct count of alice's
--     orders, revenue, visits and conversions in the range, taken as postgres;
--   * passing owner = bob's id as alice yields zero totals (RLS on business_events, the
--     function is SECURITY INVOKER), while an admin passing owner = bob gets bob's numbers;
--   * the shape: {"metrics": {<name>: {total, trend, change, dataPoints}}, "timeZone", "generatedAt"},
--     one data point per day of the range, in order, summing to the total; change is the
--     percentage against the previous period of equal length, and trend follows it;
--   * bad inputs raise P0001 with a readable message; anon cannot call it (42501).
begin;
select plan(24);

-- Identity switch, done exactly as PostgREST does it: set_config('role', …, true) and the
-- JWT claims in request.jwt.claims, both local to this transaction. 'postgres' goes back
-- to the session user with no claims (for setup and for checking effects).
create function pg_temp.login_as(who text) returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
    when 'bob' then '33333333-3333-4333-8333-333333333333'
    else case when who ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then who end
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif who = 'anon' then
    perform set_config('role', 'anon', true);
    perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  elsif who = 'service_role' then
    perform set_config('role', 'service_role', true);
    perform set_config('request.jwt.claims', '{"role":"service_role"}', true);
  elsif v_sub is not null then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'email', case when who ~ '^[a-z]+$' then who || '@taskdeck.dev' end)::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

-- Runs one INSERT / UPDATE / DELETE as the current identity and returns how many rows it
-- affected (RLS hides rows silently, so "denied" is often 0). An error is reported as a
-- warning and gives -1, which fails the assertion without stopping the file.
create function pg_temp.affected(sql text) returns integer
language plpgsql as $$
declare
  n integer;
begin
  execute sql;
  get diagnostics n = row_count;
  return n;
exception when others then
  raise warning 'affected(): % (SQLSTATE %)', sqlerrm, sqlstate;
  return -1;
end
$$;

-- The range: the 29 days up to yesterday; the previous period: the 29 days before it.
-- Direct counts as postgres, for comparison. Days are local days: alice's in her preferred
-- zone (the seed gives her Europe/Paris), bob's as the admin sees them (no preference: UTC).
create temp table expected as
with r as (select current_date - 29 as s, current_date - 1 as e),
     z as (select (r.s::timestamp at time zone 'Europe/Paris') as lo, ((r.e + 1)::timestamp at time zone 'Europe/Paris') as hi,
                  ((r.s - 29)::timestamp at time zone 'Europe/Paris') as prev_lo from r)
select r.s, r.e,
       count(*) filter (where b.user_id = '22222222-2222-4222-8222-222222222222' and b.event_type = 'order'
                          and b.occurred_at >= z.lo and b.occurred_at < z.hi)::int as alice_orders,
       round(coalesce(sum(b.amount) filter (where b.user_id = '22222222-2222-4222-8222-222222222222' and b.event_type = 'order'
                          and b.occurred_at >= z.lo and b.occurred_at < z.hi), 0), 2) as alice_revenue,
       count(*) filter (where b.user_id = '22222222-2222-4222-8222-222222222222' and b.event_type = 'visit'
                          and b.occurred_at >= z.lo and b.occurred_at < z.hi)::int as alice_visits,
       count(*) filter (where b.user_id = '22222222-2222-4222-8222-222222222222' and b.event_type = 'conversion'
                          and b.occurred_at >= z.lo and b.occurred_at < z.hi)::int as alice_conversions,
       count(*) filter (where b.user_id = '22222222-2222-4222-8222-222222222222' and b.event_type = 'order'
                          and b.occurred_at >= z.prev_lo and b.occurred_at < z.lo)::int as alice_prev_orders,
       count(*) filter (where b.user_id = '33333333-3333-4333-8333-333333333333' and b.event_type = 'order'
                          and b.occurred_at >= r.s::timestamptz and b.occurred_at < (r.e + 1)::timestamptz)::int as bob_orders
  from r cross join z cross join public.business_events b
 group by r.s, r.e;
grant select on expected to public;

-- The function's answers, saved per caller.
create temp table answer (who text primary key, m jsonb);
grant select, insert on answer to public;

select pg_temp.login_as('alice');
insert into answer select 'alice', public.analytics_metrics(s, e, array['orders', 'revenue', 'conversion']) from expected;
insert into answer select 'alice as bob', public.analytics_metrics(s, e, array['orders', 'revenue'], '33333333-3333-4333-8333-333333333333') from expected;
insert into answer select 'alice default', public.analytics_metrics(s, e) from expected;
select pg_temp.login_as('admin');
insert into answer select 'admin as bob', public.analytics_metrics(s, e, array['orders'], '33333333-3333-4333-8333-333333333333') from expected;
select pg_temp.login_as('postgres');

-- ---------------------------------------------------------------------------------------
-- alice counts only her own events
-- ---------------------------------------------------------------------------------------
select ok((select alice_orders > 0 and alice_prev_orders > 0 and bob_orders > 0 from expected),
          'the seed gives alice and bob orders in both periods');
select is((select (m #>> '{metrics,orders,total}')::int from answer where who = 'alice'), (select alice_orders from expected),
          'as alice, the orders total equals the direct count of alice''s orders in the range');
select is((select (m #>> '{metrics,revenue,total}')::numeric from answer where who = 'alice'), (select alice_revenue from expected),
          'as alice, the revenue total equals the sum of alice''s order amounts in the range');
select is((select (m #>> '{metrics,conversion,total}')::numeric from answer where who = 'alice'),
          (select round(alice_conversions * 100.0 / alice_visits, 2) from expected),
          'as alice, the conversion total is her conversions per 100 visits in the range');
select is((select m -> 'metrics' -> 'orders' from answer where who = 'alice default'),
          (select m -> 'metrics' -> 'orders' from answer where who = 'alice'),
          'without an owner the function counts the caller''s own events');
select results_eq(
  $$select (m #>> '{metrics,orders,total}')::numeric, (m #>> '{metrics,revenue,total}')::numeric,
           (select count(*)::int from jsonb_array_elements(m #> '{metrics,orders,dataPoints}') p where (p ->> 'value')::numeric <> 0)
      from answer where who = 'alice as bob'$$,
  $$values (0::numeric, 0::numeric, 0)$$,
  'alice passing owner = bob''s id gets zero totals and only zero data points'
);
select is((select (m #>> '{metrics,orders,total}')::int from answer where who = 'admin as bob'), (select bob_orders from expected),
          'an admin passing owner = bob''s id gets bob''s order count');

-- ---------------------------------------------------------------------------------------
-- Shape
-- ---------------------------------------------------------------------------------------
select set_eq($$select jsonb_object_keys(m) from answer where who = 'alice'$$, array['metrics', 'timeZone', 'generatedAt'],
              'the answer has metrics, timeZone and generatedAt');
select ok((select m ->> 'generatedAt' ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$' from answer where who = 'alice'),
          'generatedAt is an ISO 8601 UTC timestamp');
select set_eq($$select jsonb_object_keys(m -> 'metrics') from answer where who = 'alice'$$, array['orders', 'revenue', 'conversion'],
              'metrics holds exactly the metrics asked for');
select set_eq($$select jsonb_object_keys(m -> 'metrics') from answer where who = 'alice default'$$,
              array['revenue', 'users', 'conversion', 'orders', 'visits'],
              'by default all five metrics are computed');
select set_eq($$select jsonb_object_keys(m -> 'metrics' -> 'orders') from answer where who = 'alice'$$,
              array['total', 'trend', 'change', 'dataPoints'],
              'each metric has total, trend, change and dataPoints');
select is((select jsonb_array_length(m #> '{metrics,revenue,dataPoints}') from answer where who = 'alice'), 29,
          'there is one data point per day of the 29-day range');
select results_eq(
  $$select (p ->> 'date')::date from answer, jsonb_array_elements(m #> '{metrics,orders,dataPoints}') with ordinality as x(p, n)
     where who = 'alice' order by n$$,
  $$select d::date from expected, generate_series(s, e, interval '1 day') d order by d$$,
  'the data points are the days of the range, in order, as YYYY-MM-DD'
);
select is((select sum((p ->> 'value')::int)::int from answer, jsonb_array_elements(m #> '{metrics,orders,dataPoints}') p
            where who = 'alice'), (select alice_orders from expected),
          'the daily order counts add up to the total');
select is((select sum((p ->> 'value')::numeric) from answer, jsonb_array_elements(m #> '{metrics,revenue,dataPoints}') p
            where who = 'alice'), (select alice_revenue from expected),
          'the daily revenues add up to the total');
select is((select (m #>> '{metrics,orders,change}')::numeric from answer where who = 'alice'),
          (select round((alice_orders - alice_prev_orders) * 100.0 / alice_prev_orders, 1) from expected),
          'change is the percentage change of the orders against the previous 29 days');
select is((select m #>> '{metrics,orders,trend}' from answer where who = 'alice'),
          (select case when c > 0.5 then 'up' when c < -0.5 then 'down' else 'flat' end
             from (select round((alice_orders - alice_prev_orders) * 100.0 / alice_prev_orders, 1) as c from expected) x),
          'trend is up, down or flat according to the change');

-- ---------------------------------------------------------------------------------------
-- Bad inputs and callers
-- ---------------------------------------------------------------------------------------
select pg_temp.login_as('alice');
select throws_ok($$select public.analytics_metrics(current_date, current_date - 1)$$,
                 'P0001', 'The start date must not be after the end date', 'a range that starts after it ends is refused (P0001)');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date, array['revenue', 'profit'])$$,
                 'P0001', 'Unknown metric "profit": expected one of revenue, users, conversion, orders, visits',
                 'an unknown metric is refused (P0001)');
select throws_ok($$select public.analytics_metrics(current_date - 400, current_date)$$,
                 'P0001', 'The date range may span at most 366 days', 'a range of more than a year is refused (P0001)');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date, array[]::text[])$$,
                 'P0001', 'Choose at least one metric', 'an empty list of metrics is refused (P0001)');
select throws_ok($$select public.analytics_metrics(null, current_date)$$,
                 'P0001', 'start_date and end_date are required', 'a missing date is refused (P0001)');
select pg_temp.login_as('anon');
select throws_ok($$select public.analytics_metrics(current_date - 7, current_date)$$,
                 '42501', 'permission denied for function analytics_metrics', 'anon cannot call analytics_metrics (42501)');

select * from finish();
rollback;
