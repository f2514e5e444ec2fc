-- An export's transaction: one snapshot for the count and the rows, and nothing written.
set transaction isolation level repeatable read, read only
