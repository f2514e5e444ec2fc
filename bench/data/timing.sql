-- Timing helpers of scripts/bench-data, in a bench-only schema of the throwaway database.
create schema if not exists bench;

-- p50 and p95 (ms) of `reps` runs of `sql` (one statement returning one value), each in
-- PostgREST's setting: role `authenticated` and the JWT claims `claims`, so RLS applies.
-- The clock runs inside the server: no client or network time.
create or replace function bench.time_as(claims jsonb, sql text, reps integer)
returns table (p50 float8, p95 float8)
language plpgsql as $$
declare
  t0 timestamptz;
  samples float8[] := '{}';
  result text;
begin
  for i in 1..reps loop
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims', claims::text, true);
    t0 := clock_timestamp();
    execute sql into result;
    samples := samples || extract(epoch from clock_timestamp() - t0) * 1000;
    perform set_config('role', 'postgres', true);
    perform set_config('request.jwt.claims', '', true);
  end loop;
  return query
    select percentile_cont(0.5) within group (order by s), percentile_cont(0.95) within group (order by s)
      from unnest(samples) s;
end
$$;

-- Milliseconds one statement takes.
create or replace function bench.elapsed_ms(sql text) returns float8
language plpgsql as $$
declare
  t0 timestamptz := clock_timestamp();
begin
  execute sql;
  return extract(epoch from clock_timestamp() - t0) * 1000;
end
$$;
