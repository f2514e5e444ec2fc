-- The reader's locale: the currency of business amounts (a system setting admins edit) and
-- the language a profile reads (`preferences.language`, beside `preferences.timezone`).
--
-- The SPA formats amounts in `currency` through the browser's Intl.NumberFormat, and the
-- worker writes reports in the owner's language, zone and this currency.
insert into public.system_settings (key, value, description) values
  ('currency', '"IDR"', 'Currency of business amounts in the dashboard, analytics and reports (an ISO 4217 code such as IDR or USD).')
on conflict (key) do nothing;

-- A currency is three capital letters; anything else would reach Intl and the reports and
-- fail there. Named so that the SPA can say which rule was broken.
alter table public.system_settings
  add constraint system_settings_currency_check
  check (key <> 'currency' or (jsonb_typeof(value) = 'string' and (value #>> '{}') ~ '^[A-Z]{3}$'));

-- The languages Taskdeck speaks. Absent means "as the browser prefers".
alter table public.profiles
  add constraint profiles_language_check
  check (not (preferences ? 'language') or (preferences ->> 'language') in ('en', 'id'));
