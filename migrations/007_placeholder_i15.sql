-- TEMPORARY placeholder for branch i15-dispatch only: migration 007 lands
-- with the plans branches (i14-plans, i14-enforce). Delete this file when
-- merging them (tern refuses a gap in the numbering, so
-- 008_webhooks.sql needs a 007).
select 1;

---- create above / drop below ----

select 1;
