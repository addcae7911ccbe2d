-- Quota events (docs/billing.md, "Quotas and enforcement"): an account
-- crossing 80% or 100% of a quota of its plan, once per account, quota,
-- threshold and period, whichever control plane sees it first (the
-- primary key makes the others' inserts no-ops). The 100% rows are also
-- what the usage API's over_quota reads.
create table quota_events (
    account_id   text collate "C" not null,
    -- The plan limit's name: max_messages_per_day, max_messages_per_month
    -- or max_connections.
    quota        text not null,
    threshold    int not null check (threshold > 0),
    -- The start (UTC) of the day or month the quota is of.
    period_start timestamptz not null,
    -- When the crossing was seen: over_quota holds from here to the
    -- period's end.
    crossed_at   timestamptz not null,
    quota_limit  bigint not null,
    used         bigint not null,
    primary key (account_id, quota, threshold, period_start)
);

create index quota_events_crossed_idx on quota_events (account_id, crossed_at);

---- create above / drop below ----

drop table quota_events;
