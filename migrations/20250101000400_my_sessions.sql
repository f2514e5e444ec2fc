-- The security page lists a user's signed-in sessions and signs one out. Supabase Auth has
-- no endpoint that lists sessions, so these read auth.sessions (Auth's own table) for the
-- caller only. Signing out everywhere else stays with Auth (`POST /logout?scope=others`).

create or replace function public.my_sessions()
returns table (
  id uuid,
  created_at timestamptz,
  updated_at timestamptz,
  refreshed_at timestamptz,
  user_agent text,
  ip text,
  aal text,
  is_current boolean
)
language sql stable security definer set search_path = ''
as $$
  select s.id, s.created_at, s.updated_at, s.refreshed_at::timestamptz, s.user_agent,
         host(s.ip), s.aal::text,
         s.id::text = (auth.jwt() ->> 'session_id')
    from auth.sessions s
   where s.user_id = auth.uid()
     and (s.not_after is null or s.not_after > now())
   order by coalesce(s.refreshed_at::timestamptz, s.updated_at, s.created_at) desc
$$;

create or replace function public.revoke_my_session(session_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception 'Sign in first' using errcode = '42501';
  end if;
  delete from auth.sessions s where s.id = revoke_my_session.session_id and s.user_id = auth.uid();
  if not found then
    raise exception 'Session not found' using errcode = 'PT404',
      hint = 'It may have ended already.';
  end if;
end
$$;

revoke all on function public.my_sessions() from public, anon;
revoke all on function public.revoke_my_session(uuid) from public, anon;
grant execute on function public.my_sessions() to authenticated;
grant execute on function public.revoke_my_session(uuid) to authenticated;
