-- Storage buckets and their policies. Every object lives under its owner's folder:
-- `<user id>/…`; policies compare the first folder with the caller's id.
--   reports  private  written by the worker (service key), read by the owner and admins
--   imports  private  CSV files a user uploads for data_import tasks
--   avatars  public   profile pictures (public download URLs; writes only in one's own folder)

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('reports', 'reports', false, 52428800, null),
  ('imports', 'imports', false, 10485760, array['text/csv', 'text/plain', 'application/vnd.ms-excel']),
  ('avatars', 'avatars', true, 2097152, array['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- reports: read own (and admins), delete own; no insert/update policy: only the worker writes.
create policy "reports: read own" on storage.objects
  for select to authenticated
  using (bucket_id = 'reports'
         and ((storage.foldername(name))[1] = (select auth.uid()::text) or (select public.is_admin())));
create policy "reports: delete own" on storage.objects
  for delete to authenticated
  using (bucket_id = 'reports' and (storage.foldername(name))[1] = (select auth.uid()::text));

-- imports: everything within one's own folder.
create policy "imports: read own" on storage.objects
  for select to authenticated
  using (bucket_id = 'imports' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "imports: upload own" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'imports' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "imports: replace own" on storage.objects
  for update to authenticated
  using (bucket_id = 'imports' and (storage.foldername(name))[1] = (select auth.uid()::text))
  with check (bucket_id = 'imports' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "imports: delete own" on storage.objects
  for delete to authenticated
  using (bucket_id = 'imports' and (storage.foldername(name))[1] = (select auth.uid()::text));

-- avatars: public to download through /object/public; the API rows are one's own.
create policy "avatars: read own" on storage.objects
  for select to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "avatars: upload own" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "avatars: replace own" on storage.objects
  for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text))
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text));
create policy "avatars: delete own" on storage.objects
  for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text));

-- Buckets themselves are visible to signed-in users (the client lists them); only the
-- service key creates or changes them.
create policy "buckets: signed-in users read" on storage.buckets
  for select to authenticated using (true);
