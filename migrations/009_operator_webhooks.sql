-- Operator webhooks (docs/webhooks.md, "Operator webhooks"): endpoints
-- that belong to no app and receive the platform's own events (quota
-- crossings). They share the endpoints table, and with it the queue, the
-- deliveries, the leases and the log of app endpoints; an operator
-- endpoint has no app_id and signs with a key and secret of its own (the
-- secret sealed like an app key's, never stored in clear).

alter table webhook_endpoints alter column app_id drop not null;
alter table webhook_endpoints add column signing_key text collate "C";
alter table webhook_endpoints add column sealed_secret bytea;
alter table webhook_endpoints add constraint webhook_endpoints_owner_check
    check ((app_id is null) = (signing_key is not null and sealed_secret is not null)
           and (signing_key is null) = (sealed_secret is null));

create unique index webhook_endpoints_signing_key_idx on webhook_endpoints (signing_key) where signing_key is not null;
create index webhook_endpoints_operator_idx on webhook_endpoints (id) where app_id is null;

-- The outbox of operator quota webhooks: a crossing is recorded first and
-- stored in HERALD_WEBHOOK_EVENTS after, by any control plane, until one
-- sets webhook_published_at (a publish repeated meanwhile carries the
-- row's Nats-Msg-Id, so the stream keeps one). plan and enforcement
-- complete the event. Crossings recorded before this migration count as
-- published: no webhook for the past.
alter table quota_events add column plan text not null default '';
alter table quota_events add column enforcement text not null default '';
alter table quota_events add column webhook_published_at timestamptz;
update quota_events set webhook_published_at = crossed_at;
create index quota_events_webhook_pending_idx on quota_events (crossed_at) where webhook_published_at is null;

---- create above / drop below ----

drop index quota_events_webhook_pending_idx;
alter table quota_events drop column webhook_published_at;
alter table quota_events drop column enforcement;
alter table quota_events drop column plan;

delete from webhook_endpoints where app_id is null;
drop index webhook_endpoints_operator_idx;
drop index webhook_endpoints_signing_key_idx;
alter table webhook_endpoints drop constraint webhook_endpoints_owner_check;
alter table webhook_endpoints drop column sealed_secret;
alter table webhook_endpoints drop column signing_key;
alter table webhook_endpoints alter column app_id set not null;
