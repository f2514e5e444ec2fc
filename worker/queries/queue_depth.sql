-- The queue's depth for the metrics: pending tasks that are due.
select count(*) as "count!" from public.tasks where status = 'pending' and run_after <= now()
