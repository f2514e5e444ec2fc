-- Auth password rules that admins edit: the minimum length localbase's /auth/v1 enforces on
-- sign-up, password changes and the recovery flow's new password. (On hosted Supabase the
-- dashboard's "Minimum password length" is the setting that counts; keep the two in step.)
insert into public.system_settings (key, value, description) values
  ('password_min_length', '8', 'Shortest password accepted on sign-up, password change and recovery (at least 6, at most 72).')
on conflict (key) do nothing;
