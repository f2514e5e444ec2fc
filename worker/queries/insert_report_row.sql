-- A report's row, for the reports page: its task ($1), owner ($2), title ($3), format
-- ($4), range ($5, $6), metrics ($7), the file in Storage ($8, $9 bytes) and its figures ($10).
insert into public.analytics_reports
  (task_id, user_id, title, format, date_range_start, date_range_end, metrics,
   storage_path, size_bytes, data)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
returning id
