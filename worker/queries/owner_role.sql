-- The role of a task's owner ($1), read by the cleanup handler: only an admin's cleanup
-- task may delete other people's rows.
select role from public.profiles where id = $1
