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

---- create above / drop below ----

delete from webhook_endpoints where app_id is null;
drop index webhook_endpoints_operator_idx;
drop index webhook_endpoints_signing_key_idx;
alter table webhook_endpoints drop constraint webhook_endpoints_owner_check;
alter table webhook_endpoints drop column sealed_secret;
alter table webhook_endpoints drop column signing_key;
alter table webhook_endpoints alter column app_id set not null;
