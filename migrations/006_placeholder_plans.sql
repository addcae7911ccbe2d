-- TEMPORARY placeholder for branch i14-enforce only: the plans migration
-- 006 lands with branch i14-plans. Delete this file when merging it
-- (tern refuses a gap in the numbering, so 007_quota.sql needs a 006).
select 1;

---- create above / drop below ----

select 1;
