-- A retried report attempt replaces its earlier row: the one of this task ($1) and file ($2).
delete from public.analytics_reports where task_id = $1 and storage_path = $2
