-- One of the admins' system settings ($1 its key), as stored (jsonb).
select value from public.system_settings where key = $1
