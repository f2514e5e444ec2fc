-- Imports of a business's real volume: a million events as CSV take about 35 MB, more than
-- the imports bucket's first limit of 10 MiB. The worker streams imports in bounded memory
-- (worker/src/handlers/data_import.rs), so the bucket now takes files up to 50 MiB, the
-- global upload limit a Supabase project has by default (raise both together on a paid plan).
update storage.buckets set file_size_limit = 52428800 where id = 'imports';
