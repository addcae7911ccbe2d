package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
)

// recordFlushes inserts the flushes' ids, with their source and sequence,
// and returns the ids that were new: the flushes not folded before (a
// flush repeated within the batch is inserted once).
func recordFlushes(ctx context.Context, tx pgx.Tx, flushes []billing.Flush) ([]string, error) {
	ids := make([]string, len(flushes))
	for i, f := range flushes {
		ids[i] = f.ID
	}
	// Folds that share ids (a redelivery racing its original) lock them
	// in one order.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sources, seqs := make([]*string, len(ids)), make([]*int64, len(ids))
	for i, id := range ids {
		if src, seq, ok := billing.ParseFlushID(id); ok {
			n := int64(seq)
			sources[i], seqs[i] = &src, &n
		}
	}
	rows, err := tx.Query(ctx, `
		insert into usage_flushes (flush_id, source, seq)
		select * from unnest($1::text[], $2::text[], $3::bigint[])
		on conflict (flush_id) do nothing
		returning flush_id`, ids, sources, seqs)
	if err != nil {
		return nil, fmt.Errorf("record meter flushes: %w", err)
	}
	fresh, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("record meter flushes: %w", err)
	}
	return fresh, nil
}

// moveFlushMarks moves the folded_through mark of the sources of the
// flushes just recorded over every folded sequence that follows it. The
// sources' rows are locked in one order for the rest of the transaction,
// so folds of one source take turns; each then sees the flushes the
// previous one committed, so a gap left by a fold that committed later is
// passed by that fold.
func moveFlushMarks(ctx context.Context, tx pgx.Tx, fresh []string) error {
	var sources []string
	for _, id := range fresh {
		if src, _, ok := billing.ParseFlushID(id); ok {
			sources = append(sources, src)
		}
	}
	if len(sources) == 0 {
		return nil
	}
	slices.Sort(sources)
	sources = slices.Compact(sources)
	if _, err := tx.Exec(ctx, `insert into usage_flush_marks (source)
		select unnest($1::text[]) order by 1 on conflict (source) do nothing`, sources); err != nil {
		return fmt.Errorf("create flush marks: %w", err)
	}
	rows, err := tx.Query(ctx, `select source, folded_through from usage_flush_marks
		where source = any($1::text[]) order by source for update`, sources)
	if err != nil {
		return fmt.Errorf("lock flush marks: %w", err)
	}
	marks := make(map[string]int64, len(sources))
	var (
		src  string
		mark int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&src, &mark}, func() error {
		marks[src] = mark
		return nil
	}); err != nil {
		return fmt.Errorf("lock flush marks: %w", err)
	}
	// A new statement: it sees what the folds this one waited for
	// committed.
	rows, err = tx.Query(ctx, `select f.source, f.seq from usage_flushes f
		join usage_flush_marks m on m.source = f.source
		where f.source = any($1::text[]) and f.seq > m.folded_through
		order by f.source, f.seq`, sources)
	if err != nil {
		return fmt.Errorf("read folded flushes: %w", err)
	}
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&src, &seq}, func() error {
		if seq == marks[src]+1 {
			marks[src] = seq
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read folded flushes: %w", err)
	}
	through := make([]int64, len(sources))
	for i, s := range sources {
		through[i] = marks[s]
	}
	if _, err := tx.Exec(ctx, `update usage_flush_marks m set folded_through = v.through, updated_at = now()
		from unnest($1::text[], $2::bigint[]) as v(source, through) where m.source = v.source`,
		sources, through); err != nil {
		return fmt.Errorf("move flush marks: %w", err)
	}
	return nil
}

// flushMarks reads the folded_through marks of the sources with a flush
// folded within billing.FlushMarksWindow.
func flushMarks(ctx context.Context, tx pgx.Tx) (map[string]uint64, error) {
	rows, err := tx.Query(ctx, `select source, folded_through from usage_flush_marks
		where updated_at > now() - $1 * interval '1 second' and folded_through > 0`, billing.FlushMarksWindow.Seconds())
	if err != nil {
		return nil, fmt.Errorf("read flush marks: %w", err)
	}
	marks := map[string]uint64{}
	var (
		src  string
		mark int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&src, &mark}, func() error {
		marks[src] = uint64(mark)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read flush marks: %w", err)
	}
	return marks, nil
}
