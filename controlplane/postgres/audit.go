package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// RecordAudit appends an entry to the audit log. Actor and Action are
// required; a zero At means now; Details, when set, must be JSON (it is
// stored as jsonb, so it reads back normalized).
func (s *Store) RecordAudit(ctx context.Context, e controlplane.AuditEntry) error {
	if e.Actor == "" {
		return channels.BadRequest("actor", "actor is required")
	}
	if e.Action == "" {
		return channels.BadRequest("action", "action is required")
	}
	var details *string
	if len(e.Details) > 0 {
		if !json.Valid(e.Details) {
			return channels.BadRequest("details", "details must be JSON")
		}
		d := string(e.Details)
		details = &d
	}
	var at any // nil lets the column default (now()) apply through coalesce
	if !e.At.IsZero() {
		at = e.At
	}
	_, err := s.pool.Exec(ctx,
		`insert into audit_log (at, actor, action, target, details)
		 values (coalesce($1::timestamptz, now()), $2, $3, $4, $5::jsonb)`,
		at, e.Actor, e.Action, e.Target, details)
	if err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns audit entries newest first (by id), one page at a time.
func (s *Store) ListAudit(ctx context.Context, p controlplane.Page) ([]controlplane.AuditEntry, string, error) {
	pa, err := parsePage(p, auditCursor)
	if err != nil {
		return nil, "", err
	}
	before := pa.seq()
	if before == 0 {
		before = math.MaxInt64
	}
	rows, _ := s.pool.Query(ctx,
		`select id, at, actor, action, target, details from audit_log
		 where id < $1 order by id desc limit $2`, before, pa.limit+1)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.AuditEntry, error) {
		var (
			e       controlplane.AuditEntry
			details []byte
		)
		if err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &details); err != nil {
			return controlplane.AuditEntry{}, err
		}
		e.At = utc(e.At)
		if details != nil {
			e.Details = json.RawMessage(details)
		}
		return e, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	items, next := trimPage(items, pa, func(e controlplane.AuditEntry) string {
		return strconv.FormatInt(e.ID, 10)
	})
	return items, next, nil
}
