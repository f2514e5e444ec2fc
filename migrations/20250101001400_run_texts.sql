-- What the worker tells people, in the reader's language: beside each English text the
-- worker (and `cancel_task`) writes, the same line as a code and values, which the SPA says
-- in the reader's language and zone. The codes are the `run.*` keys of `i18n/en.txt` and
-- `i18n/id.txt`; the form is `{"code": "attempt_started", "args": {"n": 2, "of": 3, ...}}`
-- (see worker/src/text.rs). The English columns stay: the worker's own log, administrators
-- reading the database and older clients read them.
--
-- A text is written together with its English column and describes it: `error_text`
-- describes `error_message`, `last_error_text` describes `last_error`. Rows written before
-- this migration have no text; the SPA shows their English. (`coalesce`: a CHECK that is
-- null passes, and `-> 'code'` of anything but an object with a code is null.)

alter table public.execution_logs
  add column message_text jsonb
    constraint execution_logs_message_text_check
    check (message_text is null or coalesce(jsonb_typeof(message_text -> 'code'), '') = 'string');

alter table public.task_executions
  add column error_text jsonb
    constraint task_executions_error_text_check
    check (error_text is null or coalesce(jsonb_typeof(error_text -> 'code'), '') = 'string');

alter table public.tasks
  add column error_text jsonb
    constraint tasks_error_text_check
    check (error_text is null or coalesce(jsonb_typeof(error_text -> 'code'), '') = 'string'),
  add column last_error_text jsonb
    constraint tasks_last_error_text_check
    check (last_error_text is null or coalesce(jsonb_typeof(last_error_text -> 'code'), '') = 'string');

-- cancel_task (20250101000600_mfa_enforcement) unchanged but for the text of its reason.
create or replace function public.cancel_task(task_id uuid) returns public.tasks
language plpgsql security definer set search_path = ''
as $$
declare
  t public.tasks;
  v_by_owner boolean;
begin
  perform private.require_mfa();
  select * into t from public.tasks where id = cancel_task.task_id for update;
  if not found or (t.user_id is distinct from auth.uid() and not public.is_admin()) then
    raise exception 'Task not found' using errcode = 'PT404', hint = 'It may have been deleted, or it is not yours.';
  end if;
  if t.status not in ('pending', 'running') then
    raise exception 'Only a pending or running task can be cancelled; this one is %', t.status
      using errcode = 'P0001';
  end if;
  v_by_owner := t.user_id = auth.uid();
  -- A running task keeps its lease: its worker sees the status at its next heartbeat,
  -- stops the handler and records the cancelled execution.
  update public.tasks
     set status = 'cancelled', completed_at = now(),
         error_message = 'Cancelled by ' || case when v_by_owner then 'you' else 'an administrator' end,
         error_text = jsonb_build_object(
           'code', case when v_by_owner then 'cancelled_by_you' else 'cancelled_by_admin' end)
   where id = t.id
   returning * into t;
  return t;
end
$$;
