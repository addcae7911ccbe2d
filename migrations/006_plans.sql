-- Plans (docs/billing.md, "Plans"): what the accounts on a plan may use.
-- The limits are columns rather than one jsonb value so that the database
-- itself refuses a negative limit, and so that SQL that needs one limit
-- (the history purge reads history_retention_s) reads it directly. 0 means
-- unlimited.
create table plans (
    id                      text collate "C" primary key check (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name                    text not null unique,
    enforcement             text not null check (enforcement in ('hard', 'soft')),
    max_connections         bigint not null default 0 check (max_connections >= 0),
    max_messages_per_day    bigint not null default 0 check (max_messages_per_day >= 0),
    max_messages_per_month  bigint not null default 0 check (max_messages_per_month >= 0),
    max_message_bytes       bigint not null default 0 check (max_message_bytes >= 0),
    publish_rate            bigint not null default 0 check (publish_rate >= 0),
    client_event_rate       bigint not null default 0 check (client_event_rate >= 0),
    max_presence_members    bigint not null default 0 check (max_presence_members >= 0),
    history_retention_s     bigint not null default 0 check (history_retention_s >= 0),
    resume_window_s         bigint not null default 0 check (resume_window_s >= 0),
    max_webhook_endpoints   bigint not null default 0 check (max_webhook_endpoints >= 0),
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);

-- An account without a plan is unlimited. A plan that accounts use cannot
-- be deleted (the API answers 409 naming how many).
alter table accounts add column plan_id text collate "C" references plans (id) on delete restrict;

-- Counting a plan's accounts and resyncing their apps when it changes.
create index accounts_plan_id_idx on accounts (plan_id) where plan_id is not null;

---- create above / drop below ----

drop index accounts_plan_id_idx;
alter table accounts drop column plan_id;
drop table plans;
