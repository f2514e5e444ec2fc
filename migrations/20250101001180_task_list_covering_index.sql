-- The task list's page 100 (issue #11): 11 ms p50 at 10,000 tasks of one owner, 5 ms the
-- target. Paging by offset walks the owner's slice of (user_id, created_at, id) to row
-- 2,000, and each of those rows was fetched from the table for the page's columns and the
-- policies. The same index now also carries the columns the list shows (the SPA's
-- LIST_COLUMNS), so the walk is an index-only scan wherever the visibility map is current
-- (every page of older, finished tasks once autovacuum has passed): 7.6 -> 1.5 ms p50 for
-- page 100 of 10,000 tasks in one run. Same name, same keys: the plans of
-- supabase/tests/31_list_plans.sql still go through it. Writes pay a wider entry in an
-- index they already update (a status change is never a HOT update).
--
-- On a large live table, build it first with `create index concurrently` under another
-- name outside a transaction, then drop the old one and rename.
drop index public.tasks_user_created_idx;
create index tasks_user_created_idx on public.tasks (user_id, created_at, id)
  include (title, type, status, priority, progress, updated_at, attempts, max_attempts, scheduled_at, completed_at);
