-- Admin API credentials and the trail of what admins did.

create table admin_tokens (
    id         text collate "C" primary key,
    name       text not null,
    -- sha256 of the token; the token itself is never stored.
    token_hash bytea not null unique check (length(token_hash) = 32),
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- Newest first by id uses the primary key index backwards.
create table audit_log (
    id      bigserial primary key,
    at      timestamptz not null default now(),
    actor   text not null,
    action  text not null,
    target  text not null default '',
    details jsonb
);

---- create above / drop below ----

drop table audit_log;
drop table admin_tokens;
