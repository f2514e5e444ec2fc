-- 33_locale.sql — the currency setting and the profile's language.
--
-- * `currency` exists with IDR as its default, every signed-in user reads it, an admin
--   changes it, a business user cannot (RLS: no row changed), and a value that is not an
--   ISO 4217 code is refused by `system_settings_currency_check`;
-- * `preferences.language` accepts `en` and `id` (and its absence), and refuses any other
--   value with `profiles_language_check`.
begin;
select plan(11);

create function pg_temp.login_as(who text) returns void
language plpgsql as $$
declare
  v_sub text := case who
    when 'admin' then '11111111-1111-4111-8111-111111111111'
    when 'alice' then '22222222-2222-4222-8222-222222222222'
  end;
begin
  if who = 'postgres' then
    perform set_config('role', 'none', true);
    perform set_config('request.jwt.claims', '', true);
  elsif v_sub is not null then
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims',
      json_build_object('sub', v_sub, 'role', 'authenticated', 'aud', 'authenticated',
                        'aal', 'aal2', 'email', who || '@taskdeck.dev')::text, true);
  else
    raise exception 'login_as: unknown identity %', who;
  end if;
end
$$;

select is((select value from public.system_settings where key = 'currency'), '"IDR"'::jsonb,
  'the currency of business amounts is IDR by default');

select pg_temp.login_as('alice');
select is((select value #>> '{}' from public.system_settings where key = 'currency'), 'IDR',
  'a business user reads the currency');
update public.system_settings set value = '"USD"' where key = 'currency';
select pg_temp.login_as('postgres');
select is((select value from public.system_settings where key = 'currency'), '"IDR"'::jsonb,
  'a business user cannot change the currency');

select pg_temp.login_as('admin');
update public.system_settings set value = '"USD"' where key = 'currency';
select is((select value from public.system_settings where key = 'currency'), '"USD"'::jsonb,
  'an admin changes the currency');
select throws_ok($$update public.system_settings set value = '"rupiah"' where key = 'currency'$$,
  '23514', null, 'a currency that is not three capital letters is refused');
select throws_ok($$update public.system_settings set value = '360' where key = 'currency'$$,
  '23514', null, 'a currency that is not a string is refused');
select lives_ok($$update public.system_settings set value = '7' where key = 'log_retention_days'$$,
  'the currency rule leaves the other settings alone');

select pg_temp.login_as('alice');
select lives_ok($$update public.profiles set preferences = preferences || '{"language": "id"}'
  where id = auth.uid()$$, 'a user chooses Bahasa Indonesia');
select is((select preferences ->> 'language' from public.profiles where id = auth.uid()), 'id',
  'and it is saved');
select lives_ok($$update public.profiles set preferences = preferences - 'language' || '{"language": "en"}'
  where id = auth.uid()$$, 'or English');
select throws_ok($$update public.profiles set preferences = preferences || '{"language": "fr"}'
  where id = auth.uid()$$, '23514', null, 'a language Taskdeck does not speak is refused');

select * from finish();
rollback;
