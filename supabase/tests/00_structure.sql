-- 00_structure.sql — the shape of the authorization, checked from the catalogs.
--
-- Proves, for whatever tables and functions exist (so a table or function added later
-- without the same care makes this file fail):
--   * the public tables are the ones the RLS matrix files (10_…19_) cover;
--   * every table in public has row level security enabled, and so has storage.objects;
--   * anon holds no privilege at all on any public table, sequence or function;
--   * authenticated can never TRUNCATE (which ignores RLS) nor add triggers/references;
--   * every policy in public names its roles (`to authenticated`), none applies to PUBLIC;
--   * the helper and RPC functions that must bypass RLS are SECURITY DEFINER with an empty
--     search_path, every SECURITY DEFINER function in public/private pins its search_path,
--     and analytics_metrics stays SECURITY INVOKER (RLS decides what it counts);
--   * the storage buckets exist with the right public flag and limits;
--   * every foreign key column in public is the leading column of some index.
begin;
select plan(36);

-- ---------------------------------------------------------------------------------------
-- Tables and row level security
-- ---------------------------------------------------------------------------------------
select tables_are(
  'public',
  array['profiles', 'tasks', 'task_executions', 'execution_logs', 'analytics_reports',
        'business_events', 'audit_logs', 'workers', 'system_settings'],
  'public holds exactly the tables the RLS matrix covers (add a matrix file for a new one)'
);

select is_empty(
  $$select c.relname::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity$$,
  'every table in public has row level security enabled'
);

select ok(
  (select c.relrowsecurity from pg_class c where c.oid = 'storage.objects'::regclass),
  'storage.objects has row level security enabled'
);

select is_empty(
  $$select c.relname::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('v', 'm')$$,
  'public has no views, which would bypass RLS'
);

-- ---------------------------------------------------------------------------------------
-- Privileges of anon and authenticated
-- ---------------------------------------------------------------------------------------
select is_empty(
  $$select c.relname::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
       and (has_table_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
            or has_any_column_privilege('anon', c.oid, 'SELECT, INSERT, UPDATE, REFERENCES'))$$,
  'anon has no privilege on any table in public, not even on a single column'
);

select is_empty(
  $$select c.relname::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public'
       and case when c.relkind = 'S' then has_sequence_privilege('anon', c.oid, 'USAGE, SELECT, UPDATE') end$$,
  'anon has no privilege on any sequence in public'
);

select is_empty(
  $$select p.oid::regprocedure::text
      from pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and has_function_privilege('anon', p.oid, 'EXECUTE')$$,
  'anon cannot execute any function in public'
);

select is_empty(
  $$select p.oid::regprocedure::text
      from pg_proc p
     where p.pronamespace = 'private'::regnamespace
       and has_function_privilege('anon', p.oid, 'EXECUTE')$$,
  'anon cannot execute any function in private'
);

select is_empty(
  $$select c.relname::text
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
       and has_table_privilege('authenticated', c.oid, 'TRUNCATE, REFERENCES, TRIGGER')$$,
  'authenticated cannot truncate (which skips RLS), reference or add triggers to any public table'
);

select ok(
  not has_function_privilege('authenticated', 'private.write_audit(text,text,text,uuid,jsonb,jsonb)', 'EXECUTE'),
  'authenticated cannot call private.write_audit directly'
);

select is_empty(
  $$select tablename || ': ' || policyname
      from pg_policies
     where schemaname in ('public', 'storage') and 'public' = any (roles)$$,
  'every policy in public and storage names its roles (none applies to PUBLIC)'
);

-- ---------------------------------------------------------------------------------------
-- Functions that bypass RLS: SECURITY DEFINER with a fixed, empty search_path
-- ---------------------------------------------------------------------------------------
select is_definer('public', 'is_admin', array[]::name[], 'is_admin() is SECURITY DEFINER');
select is_definer('public', 'cancel_task', array['uuid']::name[], 'cancel_task(uuid) is SECURITY DEFINER');
select is_definer('public', 'retry_task', array['uuid']::name[], 'retry_task(uuid) is SECURITY DEFINER');
select is_definer('public', 'admin_list_users', array['text', 'integer', 'integer']::name[],
                  'admin_list_users(text, integer, integer) is SECURITY DEFINER');
select is_definer('public', 'admin_set_role', array['uuid', 'text']::name[], 'admin_set_role(uuid, text) is SECURITY DEFINER');
select is_definer('public', 'admin_set_active', array['uuid', 'boolean']::name[],
                  'admin_set_active(uuid, boolean) is SECURITY DEFINER');
select is_definer('public', 'admin_overview', array[]::name[], 'admin_overview() is SECURITY DEFINER');
select isnt_definer('public', 'analytics_metrics', array['date', 'date', 'text[]', 'uuid', 'text']::name[],
                    'analytics_metrics is SECURITY INVOKER, so RLS on business_events decides what it counts');

select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.is_admin()'::regprocedure),
          'is_admin() runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.cancel_task(uuid)'::regprocedure),
          'cancel_task(uuid) runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.retry_task(uuid)'::regprocedure),
          'retry_task(uuid) runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.admin_list_users(text,integer,integer)'::regprocedure),
          'admin_list_users runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.admin_set_role(uuid,text)'::regprocedure),
          'admin_set_role runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.admin_set_active(uuid,boolean)'::regprocedure),
          'admin_set_active runs with an empty search_path');
select ok((select coalesce('search_path=""' = any (proconfig), false) from pg_proc where oid = 'public.admin_overview()'::regprocedure),
          'admin_overview runs with an empty search_path');

select is_empty(
  $$select p.oid::regprocedure::text
      from pg_proc p
     where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
       and p.prosecdef
       and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')$$,
  'every SECURITY DEFINER function in public and private pins its search_path'
);

select is_empty(
  $$select p.oid::regprocedure::text
      from pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and p.oid::regprocedure::text <> all (array[
         'is_admin()', 'cancel_task(uuid)', 'retry_task(uuid)',
         'analytics_metrics(date,date,text[],uuid,text)', 'admin_list_users(text,integer,integer)',
         'admin_set_role(uuid,text)', 'admin_set_active(uuid,boolean)', 'admin_overview()',
         'my_sessions()', 'revoke_my_session(uuid)', 'verify_audit_chain()'])$$,
  'public exposes no function beyond the known RPCs (a new one needs its own tests)'
);

-- ---------------------------------------------------------------------------------------
-- Storage buckets
-- ---------------------------------------------------------------------------------------
select results_eq(
  $$select id, public from storage.buckets where id in ('reports', 'imports', 'avatars') order by id$$,
  $$values ('avatars'::text, true), ('imports'::text, false), ('reports'::text, false)$$,
  'the buckets reports and imports are private and avatars is public'
);

select is((select file_size_limit from storage.buckets where id = 'reports'), 52428800::bigint,
          'the reports bucket accepts files up to 50 MiB');
select is((select file_size_limit from storage.buckets where id = 'imports'), 52428800::bigint,
          'the imports bucket accepts files up to 50 MiB (a million-row CSV)');
select is((select file_size_limit from storage.buckets where id = 'avatars'), 2097152::bigint,
          'the avatars bucket accepts files up to 2 MiB');
select is((select allowed_mime_types from storage.buckets where id = 'imports'),
          array['text/csv', 'text/plain', 'application/vnd.ms-excel'],
          'the imports bucket accepts only CSV and text files');
select is((select allowed_mime_types from storage.buckets where id = 'avatars'),
          array['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
          'the avatars bucket accepts only images');

-- ---------------------------------------------------------------------------------------
-- Every foreign key in public is the leading part of an index
-- ---------------------------------------------------------------------------------------
select is_empty(
  $$select c.conrelid::regclass::text || '(' ||
           (select string_agg(a.attname, ', ') from pg_attribute a
             where a.attrelid = c.conrelid and a.attnum = any (c.conkey)) || ')'
      from pg_constraint c
     where c.contype = 'f'
       and c.connamespace = 'public'::regnamespace
       and not exists (
         select 1 from pg_index i
          where i.indrelid = c.conrelid
            and (select array_agg(k order by k)
                   from unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)]) k)
                = (select array_agg(k order by k) from unnest(c.conkey) k)
       )$$,
  'every foreign key column in public is the first column of an index'
);

select ok(
  (select count(*) from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace) >= 9,
  'the foreign key check above really looked at the schema''s foreign keys'
);

select * from finish();
rollback;
