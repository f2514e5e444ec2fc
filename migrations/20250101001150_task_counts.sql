-- Task counts per owner and status, exact and current, for the admin pages (issue #11).
--
-- admin_overview() counted every task by status (about 375 ms at 1M tasks) and
-- admin_list_users() counted each listed user's tasks and failed tasks row by row. Both now
-- read these counts instead:
--
--   * private.task_count_deltas: statement-level triggers on public.tasks (transition
--     tables) append, per statement that adds, removes or moves tasks between owners or
--     statuses, one row per (owner, status) with the signed change. Appending never waits on
--     a lock, so concurrent workers finishing one owner's tasks never queue behind each
--     other (a shared counter row would hold its lock until each writer's commit).
--   * private.task_counts: the folded totals. Now and then (about one statement in 32, and
--     only when no other transaction is folding) the trigger moves every visible delta into
--     it in one statement; only the folding transaction ever locks these rows, so no writer
--     waits on them and no lock order between tasks and counts can deadlock.
--
-- A count is the owner's row in task_counts plus their deltas: both read in one snapshot,
-- so a count is exact for that snapshot, including the caller's own uncommitted changes.
-- Statements that change neither owner nor status (progress, heartbeats, leases) add
-- nothing: their old and new rows cancel out.

create table private.task_counts (
  user_id uuid not null,
  status text not null,
  n bigint not null,
  primary key (user_id, status)
);
comment on table private.task_counts is
  'Per owner and status: the number of public.tasks rows, as of the last fold of '
  'private.task_count_deltas (add those for the current count). Kept by the triggers '
  'tasks_count_*; read by admin_overview and admin_list_users.';
alter table private.task_counts enable row level security;
revoke all on private.task_counts from public, anon, authenticated, service_role;

create table private.task_count_deltas (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  status text not null,
  n bigint not null
);
comment on table private.task_count_deltas is
  'Signed changes to private.task_counts not folded in yet, one row per (owner, status) per '
  'statement on public.tasks that changed them.';
alter table private.task_count_deltas enable row level security;
revoke all on private.task_count_deltas from public, anon, authenticated, service_role;

-- Moves every delta this transaction can see into task_counts (rows reaching 0 go away).
-- The advisory lock keeps it to one folding transaction at a time; the others skip it.
create or replace function private.fold_task_counts() returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if not pg_try_advisory_xact_lock(hashtext('taskdeck.task_counts')) then
    return;
  end if;
  with moved as (
    delete from private.task_count_deltas returning user_id, status, n
  ), summed as (
    select user_id, status, sum(n) as n from moved group by user_id, status having sum(n) <> 0
  )
  insert into private.task_counts as c (user_id, status, n)
  select user_id, status, n from summed order by user_id, status
  on conflict (user_id, status) do update set n = c.n + excluded.n;
  delete from private.task_counts where n = 0;
end
$$;

-- What the triggers call after appending: a fold about once in 32 statements, so the deltas
-- stay a few dozen rows without each writer paying for a fold.
create or replace function private.fold_task_counts_now_and_then() returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if random() < 1.0 / 32 then
    perform private.fold_task_counts();
  end if;
end
$$;

-- One function per operation: static SQL over the transition tables (plans kept per session).
create or replace function private.tasks_count_insert() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.task_count_deltas (user_id, status, n)
  select user_id, status, count(*) from new_rows group by user_id, status;
  perform private.fold_task_counts_now_and_then();
  return null;
end
$$;

create or replace function private.tasks_count_update() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.task_count_deltas (user_id, status, n)
  select user_id, status, sum(s)
    from (select user_id, status, -1 as s from old_rows
          union all
          select user_id, status, 1 from new_rows) c
   group by user_id, status
  having sum(s) <> 0;
  if found then
    perform private.fold_task_counts_now_and_then();
  end if;
  return null;
end
$$;

create or replace function private.tasks_count_delete() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into private.task_count_deltas (user_id, status, n)
  select user_id, status, -count(*) from old_rows group by user_id, status;
  perform private.fold_task_counts_now_and_then();
  return null;
end
$$;

create or replace function private.tasks_count_truncate() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  truncate private.task_counts, private.task_count_deltas;
  return null;
end
$$;

revoke all on function private.fold_task_counts() from public, anon, authenticated, service_role;
revoke all on function private.fold_task_counts_now_and_then() from public, anon, authenticated, service_role;
revoke all on function private.tasks_count_insert() from public, anon, authenticated, service_role;
revoke all on function private.tasks_count_update() from public, anon, authenticated, service_role;
revoke all on function private.tasks_count_delete() from public, anon, authenticated, service_role;
revoke all on function private.tasks_count_truncate() from public, anon, authenticated, service_role;

create trigger tasks_count_insert after insert on public.tasks
  referencing new table as new_rows
  for each statement execute function private.tasks_count_insert();
create trigger tasks_count_update after update on public.tasks
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.tasks_count_update();
create trigger tasks_count_delete after delete on public.tasks
  referencing old table as old_rows
  for each statement execute function private.tasks_count_delete();
create trigger tasks_count_truncate after truncate on public.tasks
  for each statement execute function private.tasks_count_truncate();

-- The counts of the tasks already there. CREATE TRIGGER took a SHARE ROW EXCLUSIVE lock on
-- tasks, held until this migration commits: no write can fall between the two.
insert into private.task_counts (user_id, status, n)
select user_id, status, count(*) from public.tasks group by user_id, status;

-- Finished tasks of the last 24 hours: an index range over the completed ones, beside the
-- failed ones' tasks_failed_idx (each as long as the day's finished tasks, not the table).
create index tasks_completed_idx on public.tasks (completed_at) where status = 'completed';

create or replace function public.admin_overview() returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v jsonb;
begin
  perform private.require_admin();
  select jsonb_build_object(
    'users', (select count(*) from public.profiles),
    'activeUsers', (select count(*) from public.profiles where is_active),
    'tasksByStatus', (select coalesce(jsonb_object_agg(status, n), '{}') from
                        (select status, sum(n) as n
                           from (select status, n from private.task_counts
                                 union all
                                 select status, n from private.task_count_deltas) c
                          group by status
                         having sum(n) <> 0) s),
    -- The queue is the pending tasks: through the claim index, as long as the queue.
    'queueByPriority', (select coalesce(jsonb_object_agg(priority, n), '{}') from
                        (select priority, count(*) n from public.tasks where status = 'pending' group by priority) q),
    'queueDepth', (select count(*) from public.tasks where status = 'pending'),
    'finishedLast24h', (select count(*) from public.tasks
                         where status = 'completed' and completed_at > now() - interval '24 hours')
                     + (select count(*) from public.tasks
                         where status = 'failed' and completed_at > now() - interval '24 hours'),
    'failedLast24h', (select count(*) from public.tasks
                       where status = 'failed' and completed_at > now() - interval '24 hours'),
    'liveWorkers', (select count(*) from public.workers
                     where status = 'running' and last_heartbeat_at > now() - interval '30 seconds')
  ) into v;
  return v;
end
$$;

-- The admin's user list: the page's users' counts from the maintained counts (one pass
-- over the deltas for the whole page).
create or replace function public.admin_list_users(
  search text default null,
  result_limit integer default 50,
  result_offset integer default 0
) returns table (
  id uuid,
  email text,
  name text,
  role text,
  is_active boolean,
  avatar_url text,
  last_login timestamptz,
  created_at timestamptz,
  task_count bigint,
  failed_task_count bigint,
  total_count bigint
)
language plpgsql stable security definer set search_path = ''
as $$
#variable_conflict use_column
begin
  perform private.require_admin();
  return query
    with matching as (
      select p.*
        from public.profiles p
       where search is null or search = ''
          or p.email ilike '%' || search || '%'
          or p.name ilike '%' || search || '%'
    ), page as (
      select m.*, count(*) over () as total
        from matching m
       order by m.created_at, m.id
       limit least(greatest(coalesce(result_limit, 50), 1), 500)
      offset greatest(coalesce(result_offset, 0), 0)
    ), counts as (
      select c.user_id, sum(c.n) as tasks, coalesce(sum(c.n) filter (where c.status = 'failed'), 0) as failed
        from (select k.user_id, k.status, k.n from private.task_counts k
               where k.user_id in (select pg.id from page pg)
              union all
              select d.user_id, d.status, d.n from private.task_count_deltas d
               where d.user_id in (select pg.id from page pg)) c
       group by c.user_id
    )
    select pg.id, pg.email, pg.name, pg.role, pg.is_active, pg.avatar_url, pg.last_login, pg.created_at,
           coalesce(c.tasks, 0)::bigint, coalesce(c.failed, 0)::bigint, pg.total
      from page pg
      left join counts c on c.user_id = pg.id
     order by pg.created_at, pg.id;
end
$$;
