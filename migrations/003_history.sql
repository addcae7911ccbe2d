-- Message history (docs/architecture.md, "Where state lives"): every message
-- stored in a message stream, copied here by the control plane's history
-- writer and served by GET /apps/{id}/channels/{name}/messages.
--
-- One plain table, purged per app in bounded batches (see
-- controlplane/history). Time partitions were considered and left out:
-- retention is per app (0 s to 366 days), so a partition can only be
-- dropped once it is older than the longest retention of every app, and
-- every app with a shorter one needs batched deletes anyway. The index on
-- (app_id, published_at) makes those deletes touch expired rows only.

create table messages (
    -- The stream (HERALD_MSG, HERALD_MSG_<n>) and its sequence: the
    -- message's serial. A redelivered message has the same pair, which is
    -- what makes the writer idempotent.
    stream       text collate "C" not null,
    serial       bigint not null check (serial > 0),
    -- No foreign key: messages outlive nothing, the retention loop removes
    -- those of deleted apps, and the writer must not stall on an app the
    -- control plane has not seen yet.
    app_id       text collate "C" not null,
    -- "C" so that comparisons are bytewise whatever the database collation.
    channel      text collate "C" not null,
    event        text not null,
    -- The event's data byte for byte: bytea, because data is arbitrary
    -- bytes (text cannot hold NUL or invalid UTF-8, and a message the table
    -- refuses would stall the writer).
    data         bytea not null,
    -- The sender of a client event on a presence channel, else null.
    user_id      text,
    -- When the stream stored the message.
    published_at timestamptz not null,
    primary key (stream, serial)
);

-- A channel's history page by page (keyset on serial, both directions).
create index messages_channel_serial_idx on messages (app_id, channel, serial);

-- A channel's history within a time window (start / end).
create index messages_channel_time_idx on messages (app_id, channel, published_at);

-- Retention: an app's oldest messages, and the list of apps that have any.
create index messages_app_time_idx on messages (app_id, published_at);

---- create above / drop below ----

drop table messages;
