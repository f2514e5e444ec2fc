-- What a report needs of its owner ($1) and of the system, in one row even when the profile
-- is gone: the owner's language, their zone when PostgreSQL knows it (null otherwise), and
-- the `currency` setting when it is a string.
select p.preferences ->> 'language' as language,
       (select z.name from private.time_zone_names z
         where z.name = nullif(btrim(p.preferences ->> 'timezone'), '')) as zone,
       (select s.value #>> '{}' from public.system_settings s
         where s.key = 'currency' and jsonb_typeof(s.value) = 'string') as currency
  from (select 1) as one
  left join public.profiles p on p.id = $1
