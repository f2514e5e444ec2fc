-- A wall-clock time ($1) in a zone ($2) as a moment; a time that a clock change skips
-- moves forward, as PostgreSQL reads it.
select $1::timestamp at time zone $2 as "moment!"
