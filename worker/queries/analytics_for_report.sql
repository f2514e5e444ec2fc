-- An analytics report's figures: analytics_metrics over the range ($1 to $2) for the
-- metrics ($3) of the task's owner ($4), in the owner's zone ($5). The worker's role
-- bypasses RLS, so the owner is named.
select public.analytics_metrics($1, $2, $3, $4, $5) as "data!"
