-- The control plane's token signing keys (docs/protocol.md,
-- "Tokens and capabilities"): Ed25519 key pairs whose public halves are
-- published as JWKS and copied to the gateways. The newest key that is not
-- retired signs; every key that is not retired verifies.

create table signing_keys (
    kid                text collate "C" primary key check (kid ~ '^[A-Za-z0-9_-]{1,64}$'),
    -- The raw 32-byte Ed25519 public key.
    public_key         bytea not null check (length(public_key) = 32),
    -- The 64-byte private key sealed with the master key, bound to kid, so
    -- that a sealed value copied to another row does not open.
    sealed_private_key bytea not null,
    -- clock_timestamp(), not now(): two keys added in one transaction must
    -- still be ordered.
    created_at         timestamptz not null default clock_timestamp(),
    retired_at         timestamptz
);

-- The signer is the newest live key.
create index signing_keys_live_idx on signing_keys (created_at desc, kid desc) where retired_at is null;

---- create above / drop below ----

drop table signing_keys;
