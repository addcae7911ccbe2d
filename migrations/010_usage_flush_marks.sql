-- How far each process's meter flushes are folded (docs/billing.md,
-- "Running totals at the edge"), so that the quota totals can say which
-- flushes they hold and a process keeps counting the deliveries it
-- flushed until they do.
--
-- A flush id is <source>.<seq>: the source is a process and its boot
-- nonce, and seq counts its flushes from 1 without gaps. Each folded
-- flush's source and seq are kept with its id (null for flushes folded
-- before this migration).
alter table usage_flushes add column source text collate "C";
alter table usage_flushes add column seq bigint;
create index usage_flushes_source_idx on usage_flushes (source, seq) where source is not null;

-- folded_through is the source's last seq such that it and every earlier
-- one are folded. Control planes may fold one source's flushes out of
-- order; a fold locks the source's row and moves folded_through over
-- every folded seq that follows it, so a gap is passed once it is
-- filled. updated_at is the last fold of the source's flushes: the
-- totals carry only recent sources, and old rows go with the flush ids.
create table usage_flush_marks (
    source          text collate "C" primary key,
    folded_through  bigint not null default 0 check (folded_through >= 0),
    updated_at      timestamptz not null default now()
);

create index usage_flush_marks_updated_idx on usage_flush_marks (updated_at);

---- create above / drop below ----

drop table usage_flush_marks;
drop index usage_flushes_source_idx;
alter table usage_flushes drop column seq;
alter table usage_flushes drop column source;
