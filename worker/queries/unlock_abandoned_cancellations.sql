-- Cancelled tasks whose worker died before it recorded the cancellation (their lease
-- expired while still held): clears the lock, so that the owner may retry them at once.
-- At most 100 a sweep; rows another sweeper holds are skipped.
update public.tasks
   set locked_by = null, locked_until = null
 where id in (select id from public.tasks
               where status = 'cancelled' and locked_by is not null
                 and locked_until < now()
               limit 100
                 for update skip locked)
returning id
