-- Tenancy: accounts own apps, apps own keys. Ids and keys use the "C"
-- collation so that keyset pagination (ORDER BY id, WHERE id > $cursor)
-- orders bytewise whatever the database's default collation is.

create table accounts (
    id         text collate "C" primary key,
    name       text not null,
    created_at timestamptz not null default now()
);

-- Dev mode finds its demo account by name.
create index accounts_name_idx on accounts (name);

create table apps (
    id         text collate "C" primary key check (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    -- No cascade: an account with apps cannot be deleted.
    account_id text collate "C" not null references accounts (id),
    name       text not null,
    enabled    boolean not null default true,
    -- channels.Settings as JSON; readers fill absent fields with defaults.
    settings   jsonb not null default '{}',
    -- Which HERALD_MSG_<n> stream carries the app's messages.
    shard      integer not null default 0 check (shard >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Listing an account's apps page by page, and the foreign key check when an
-- account is deleted.
create index apps_account_id_idx on apps (account_id, id);

create table app_keys (
    -- Keys are global: a gateway finds the app from the key in /app/{key}.
    key           text collate "C" primary key check (key ~ '^[A-Za-z0-9_-]{1,64}$'),
    app_id        text collate "C" not null references apps (id) on delete cascade,
    -- The secret sealed with the master key, bound to (app id, key).
    sealed_secret bytea not null,
    created_at    timestamptz not null default now(),
    revoked_at    timestamptz
);

create index app_keys_app_id_idx on app_keys (app_id, created_at, key);

---- create above / drop below ----

drop table app_keys;
drop table apps;
drop table accounts;
