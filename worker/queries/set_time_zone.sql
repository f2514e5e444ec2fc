-- The transaction's TimeZone ($1), for zone_stamp.sql (to_char's `TZ` reads it).
select set_config('TimeZone', $1, true)
