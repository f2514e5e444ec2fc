-- One log line of an attempt ($1) of a task ($2): its level ($3), its English ($4), the
-- same as a code with values for the reader's language ($5), and its context ($6).
insert into public.execution_logs
  (execution_id, task_id, level, message, message_text, context)
values ($1, $2, $3, $4, $5, $6)
