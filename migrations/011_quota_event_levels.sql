-- Quota events by level (docs/billing.md, "Soft enforcement and
-- reporting"): quota_warning at 80% of a quota, quota_reached at 100% (at
-- the limit) and quota_exceeded past it (more than the limit). Before,
-- the 100% crossing was called exceeded even at the limit, and made the
-- period over_quota; only quota_exceeded does now. A row is one level of
-- one quota of an account in a period, so the level joins the key.
alter table quota_events add column event text;
update quota_events set event = case
    when threshold < 100 then 'quota_warning'
    when used > quota_limit then 'quota_exceeded'
    else 'quota_reached' end;
alter table quota_events alter column event set not null;
alter table quota_events drop constraint quota_events_pkey;
alter table quota_events add primary key (account_id, quota, event, period_start);

-- A past crossing over the limit also reached it: its reached row, as
-- announced already, so that the reporter does not announce it now.
insert into quota_events (account_id, quota, threshold, period_start, crossed_at, quota_limit, used,
                          plan, enforcement, webhook_published_at, event)
select account_id, quota, threshold, period_start, crossed_at, quota_limit, quota_limit,
       plan, enforcement, coalesce(webhook_published_at, crossed_at), 'quota_reached'
from quota_events where event = 'quota_exceeded';

-- An operator endpoint that chose quota_exceeded was sent the 100%
-- crossing, which is quota_reached now: it keeps being sent it.
update webhook_endpoints set events = array_append(events, 'quota_reached')
where app_id is null and 'quota_exceeded' = any(events) and not 'quota_reached' = any(events);

---- create above / drop below ----

update webhook_endpoints set events = array_remove(events, 'quota_reached') where app_id is null;

delete from quota_events r where r.event = 'quota_reached' and exists (
    select 1 from quota_events x where x.event = 'quota_exceeded' and x.account_id = r.account_id
        and x.quota = r.quota and x.period_start = r.period_start);
alter table quota_events drop constraint quota_events_pkey;
alter table quota_events add primary key (account_id, quota, threshold, period_start);
alter table quota_events drop column event;
