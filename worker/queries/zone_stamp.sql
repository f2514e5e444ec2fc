-- A moment ($1) as the report states it in the zone ($2, also the transaction's TimeZone):
-- the zone's abbreviation then (WIB), its offset from UTC in seconds, and the local time.
select to_char($1::timestamptz, 'TZ') as "abbreviation!",
       extract(timezone from $1::timestamptz)::int as "offset!",
       $1::timestamptz at time zone $2 as "local!"
