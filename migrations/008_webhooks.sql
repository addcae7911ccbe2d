-- Webhooks (docs/webhooks.md): an app's endpoints, the events waiting to
-- be cut into deliveries, the deliveries themselves (the exact bytes sent,
-- identical on every retry) and the log of every attempt.

create table webhook_endpoints (
    id              text collate "C" primary key,
    app_id          text collate "C" not null references apps (id) on delete cascade,
    url             text not null,
    -- channels.WebhookEventName values.
    events          text[] not null,
    batch           boolean not null default false,
    enabled         boolean not null default true,
    -- A '*' pattern over channel names, as in capabilities; '' matches all.
    channel_filter  text not null default '',
    -- Extra static request headers, name → value.
    headers         jsonb not null default '{}',
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    -- Set when the dispatcher disabled the endpoint after it failed every
    -- delivery for the auto-disable period; cleared on re-enable.
    disabled_at     timestamptz,
    -- The first failed attempt since the last success; null while the
    -- endpoint succeeds.
    failing_since   timestamptz,
    -- When the last request (attempt) was made: batch endpoints get at
    -- most one request per second.
    last_request_at timestamptz,
    -- Which control plane holds the endpoint's sending, until when: one
    -- holder at a time keeps an endpoint's deliveries in order.
    lease_owner     text collate "C",
    lease_until     timestamptz
);

create index webhook_endpoints_app_idx on webhook_endpoints (app_id, id);

-- Events matched to an endpoint, written before the stream message is
-- acknowledged, waiting (cut_at null) to be cut into a delivery, in
-- stream_seq order and only at or below the consumer's ack floor (so that
-- an earlier event still in flight cannot arrive after a later one). Rows
-- stay a while after they are cut, so that a message the stream delivers
-- again (its acknowledgement lost) finds its stream_seq and adds nothing.
create table webhook_queue (
    seq          bigserial primary key,
    endpoint_id  text collate "C" not null references webhook_endpoints (id) on delete cascade,
    stream_seq   bigint not null,
    event        bytea not null,
    cut_at       timestamptz,
    unique (endpoint_id, stream_seq)
);

create index webhook_queue_waiting_idx on webhook_queue (endpoint_id, stream_seq) where cut_at is null;
create index webhook_queue_cut_idx on webhook_queue (cut_at) where cut_at is not null;

create table webhook_deliveries (
    id               text collate "C" primary key,
    -- The order deliveries of one endpoint are sent in.
    seq              bigserial not null unique,
    endpoint_id      text collate "C" not null references webhook_endpoints (id) on delete cascade,
    app_id           text collate "C" not null,
    -- The exact request body, {"time_ms":…,"events":[…]}.
    body             bytea not null,
    event_count      integer not null check (event_count > 0),
    status           text not null check (status in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz not null,
    -- Start of the retry window: creation, or the last redelivery.
    window_start     timestamptz not null,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz
);

-- An endpoint's head: its oldest pending delivery.
create index webhook_deliveries_pending_idx on webhook_deliveries (endpoint_id, seq) where status = 'pending';
-- The delivery log, newest first.
create index webhook_deliveries_log_idx on webhook_deliveries (endpoint_id, seq desc);
-- Pruning.
create index webhook_deliveries_created_idx on webhook_deliveries (created_at) where status <> 'pending';

-- Every HTTP request made for a delivery, recorded before the next is
-- scheduled. Never a header value or more than a short excerpt of a body.
create table webhook_attempts (
    delivery_id  text collate "C" not null references webhook_deliveries (id) on delete cascade,
    attempt      integer not null,
    at           timestamptz not null default now(),
    status_code  integer,
    error        text,
    duration_ms  integer not null,
    primary key (delivery_id, attempt)
);

---- create above / drop below ----

drop table webhook_attempts;
drop table webhook_deliveries;
drop table webhook_queue;
drop table webhook_endpoints;
