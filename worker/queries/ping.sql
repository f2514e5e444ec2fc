-- /health: the database answers.
select 1 as "ok!"
