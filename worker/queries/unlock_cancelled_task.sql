-- A task ($1) cancelled while this worker ($2) ran it: the lock cleared, so that its owner
-- may retry it at once.
update public.tasks set locked_by = null, locked_until = null
 where id = $1 and locked_by = $2 and status = 'cancelled'
