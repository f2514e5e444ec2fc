-- A recurring task's ($1) next run, due at $2: a copy of the task with it as parent, made
-- once (a task retried by hand and finishing again makes no second one: no row then).
insert into public.tasks
  (user_id, title, description, type, parameters, priority, max_attempts,
   recurrence, parent_task_id, scheduled_at)
select user_id, title, description, type, parameters, priority, max_attempts,
       recurrence, id, $2
  from public.tasks p
 where p.id = $1
   and not exists (select 1 from public.tasks c where c.parent_task_id = p.id)
returning id
