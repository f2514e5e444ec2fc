-- The clock a recurring task's ($1) expression is read on: its owner's zone when
-- PostgreSQL knows it (else UTC), and the time there now.
select z.zone as "zone!", (now() at time zone z.zone) as "local_now!"
  from (select coalesce(
         (select n.name from public.tasks t
            join public.profiles p on p.id = t.user_id
            join private.time_zone_names n
              on n.name = nullif(btrim(p.preferences ->> 'timezone'), '')
           where t.id = $1),
         'UTC') as zone) z
