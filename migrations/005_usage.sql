-- Usage metering (docs/billing.md): what billing/ folds from the message
-- streams and from every process's meter flushes, read by the usage API.

-- One row per app, granularity and period (UTC). The aggregator adds a
-- fold's deltas to the minute, hour, day and month rows in one
-- transaction, so every granularity reads directly and agrees with the
-- others, the current period included.
create table usage (
    -- No foreign keys: usage is what a tenant is billed for, and it must
    -- outlive the app or account it was measured for. account_id is copied
    -- at fold time so that an account's usage survives its apps' deletion.
    account_id          text collate "C" not null,
    app_id              text collate "C" not null,
    granularity         text not null check (granularity in ('minute', 'hour', 'day', 'month')),
    period_start        timestamptz not null,
    messages_published  bigint not null default 0 check (messages_published >= 0),
    messages_delivered  bigint not null default 0 check (messages_delivered >= 0),
    presence_events     bigint not null default 0 check (presence_events >= 0),
    webhook_calls       bigint not null default 0 check (webhook_calls >= 0),
    api_requests        bigint not null default 0 check (api_requests >= 0),
    bytes_in            bigint not null default 0 check (bytes_in >= 0),
    bytes_out           bigint not null default 0 check (bytes_out >= 0),
    connection_seconds  bigint not null default 0 check (connection_seconds >= 0),
    -- A maximum, not a sum: folds keep the greatest sample.
    peak_connections    bigint not null default 0 check (peak_connections >= 0),
    history_reads       bigint not null default 0 check (history_reads >= 0),
    primary key (app_id, granularity, period_start)
);

-- An account's usage over a range.
create index usage_account_idx on usage (account_id, granularity, period_start);

-- Meter flushes already folded: a flush delivered again (a control plane
-- that died between its commit and its acknowledgement) finds its id here
-- and adds nothing. Rows older than the flush stream's retention can go:
-- no flush older than that can be delivered again.
create table usage_flushes (
    flush_id   text collate "C" primary key,
    folded_at  timestamptz not null default now()
);

create index usage_flushes_folded_idx on usage_flushes (folded_at);

-- How far the published-message count has read each message stream
-- (HERALD_MSG, HERALD_MSG_<n>): messages at or below last_serial are
-- counted already. The fold of a batch and the move of its stream's mark
-- commit together, so a batch delivered again counts nothing.
create table usage_stream_marks (
    stream       text collate "C" primary key,
    last_serial  bigint not null check (last_serial >= 0)
);

---- create above / drop below ----

drop table usage_stream_marks;
drop table usage_flushes;
drop table usage;
