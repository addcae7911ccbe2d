package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// Plans are read as one jsonb object per row (to_jsonb): its keys are the
// column names, which are the JSON names of billing.Plan and billing.Limits,
// so the CRUD and the app config join decode them the same way.
const planJSON = "to_jsonb(p)"

// planLimitColumns are the limit columns in billing.Limits' order.
const planLimitColumns = `max_connections, max_messages_per_day, max_messages_per_month,
	max_message_bytes, publish_rate, client_event_rate, max_presence_members,
	history_retention_s, resume_window_s, max_webhook_endpoints`

func limitArgs(l billing.Limits) []any {
	return []any{l.MaxConnections, l.MaxMessagesPerDay, l.MaxMessagesPerMonth,
		l.MaxMessageBytes, l.PublishRate, l.ClientEventRate, l.MaxPresenceMembers,
		l.HistoryRetentionS, l.ResumeWindowS, l.MaxWebhookEndpoints}
}

// CreatePlan stores a new plan; its name must be unused.
func (s *Store) CreatePlan(ctx context.Context, in controlplane.NewPlan) (billing.Plan, error) {
	if in.ID == "" {
		in.ID = newPlanID()
	} else if err := billing.ValidatePlanID(in.ID); err != nil {
		return billing.Plan{}, err
	}
	p := billing.Plan{ID: in.ID, Name: in.Name, Enforcement: in.Enforcement,
		Limits: in.Limits.Apply(billing.Limits{})}
	if err := p.Validate(); err != nil {
		return billing.Plan{}, err
	}
	args := append([]any{p.ID, p.Name, string(p.Enforcement)}, limitArgs(p.Limits)...)
	row := s.pool.QueryRow(ctx,
		`insert into plans as p (id, name, enforcement, `+planLimitColumns+`)
		 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		 returning `+planJSON, args...)
	out, err := scanPlan(row)
	if err != nil {
		if cerr := planConflict(err, p); cerr != nil {
			return billing.Plan{}, cerr
		}
		return billing.Plan{}, fmt.Errorf("create plan %s: %w", p.ID, err)
	}
	return out, nil
}

// planConflict turns a unique violation into a Conflict naming what is
// taken, or returns nil.
func planConflict(err error, p billing.Plan) error {
	if pgCode(err) != pgUniqueViolation {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "plans_pkey" {
		return channels.Conflict(fmt.Sprintf("plan id %s already exists", p.ID))
	}
	return channels.Conflict(fmt.Sprintf("plan name %q already exists", p.Name))
}

// GetPlan returns one plan or a NotFound error.
func (s *Store) GetPlan(ctx context.Context, id string) (billing.Plan, error) {
	return getPlan(ctx, s.pool, "id = $1", id, "")
}

// FindPlan returns the plan whose id is idOrName or, failing that, whose
// name is.
func (s *Store) FindPlan(ctx context.Context, idOrName string) (billing.Plan, error) {
	p, err := getPlan(ctx, s.pool, "id = $1", idOrName, "")
	if errors.Is(err, channels.ErrNotFound) {
		p, err = getPlan(ctx, s.pool, "name = $1", idOrName, "")
	}
	return p, err
}

// ListPlans returns plans ordered by id, one page at a time.
func (s *Store) ListPlans(ctx context.Context, pg controlplane.Page) ([]billing.Plan, string, error) {
	pa, err := parsePage(pg, plansCursor)
	if err != nil {
		return nil, "", err
	}
	rows, _ := s.pool.Query(ctx,
		"select "+planJSON+" from plans p where id > $1 order by id limit $2", pa.after, pa.limit+1)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Plan, error) {
		return scanPlan(r)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list plans: %w", err)
	}
	items, next := trimPage(items, pa, func(p billing.Plan) string { return p.ID })
	return items, next, nil
}

// UpdatePlan applies patch to a plan; the result is validated as a whole.
func (s *Store) UpdatePlan(ctx context.Context, id string, patch controlplane.PlanPatch) (billing.Plan, error) {
	var out billing.Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getPlan(ctx, tx, "id = $1", id, "for update")
		if err != nil {
			return err
		}
		if patch.Name != nil {
			cur.Name = *patch.Name
		}
		if patch.Enforcement != nil {
			cur.Enforcement = *patch.Enforcement
		}
		cur.Limits = patch.Limits.Apply(cur.Limits)
		if err := cur.Validate(); err != nil {
			return err
		}
		args := append([]any{cur.ID, cur.Name, string(cur.Enforcement)}, limitArgs(cur.Limits)...)
		row := tx.QueryRow(ctx,
			`update plans p set name = $2, enforcement = $3, (`+planLimitColumns+`) =
			 ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13), updated_at = now()
			 where id = $1 returning `+planJSON, args...)
		out, err = scanPlan(row)
		if cerr := planConflict(err, cur); cerr != nil {
			return cerr
		}
		return err
	})
	if err != nil {
		var de *channels.Error
		if errors.As(err, &de) {
			return billing.Plan{}, err
		}
		return billing.Plan{}, fmt.Errorf("update plan %s: %w", id, err)
	}
	return out, nil
}

// DeletePlan removes a plan no account uses; otherwise it returns a
// Conflict naming how many do. The plan's row is locked first: putting an
// account on a plan takes a key-share lock on it, so the count cannot
// change before the delete.
func (s *Store) DeletePlan(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := getPlan(ctx, tx, "id = $1", id, "for update"); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, "select count(*) from accounts where plan_id = $1", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return channels.Conflict(fmt.Sprintf(
				"plan %s is used by %d account(s); move them to another plan first", id, n))
		}
		_, err := tx.Exec(ctx, "delete from plans where id = $1", id)
		return err
	})
	var de *channels.Error
	if err != nil && !errors.As(err, &de) {
		return fmt.Errorf("delete plan %s: %w", id, err)
	}
	return err
}

// PlanAccountCount counts the accounts on the plan.
func (s *Store) PlanAccountCount(ctx context.Context, id string) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "select count(*) from accounts where plan_id = $1", id).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts of plan %s: %w", id, err)
	}
	return n, nil
}

// SetAccountPlan puts the account on planID, or on none when it is empty.
func (s *Store) SetAccountPlan(ctx context.Context, accountID, planID string) (controlplane.Account, error) {
	if planID != "" && billing.ValidatePlanID(planID) != nil {
		return controlplane.Account{}, errNoPlan(planID)
	}
	row := s.pool.QueryRow(ctx,
		"update accounts set plan_id = nullif($2, '') where id = $1 returning "+accountColumns,
		accountID, planID)
	a, err := scanAccount(row)
	switch {
	case pgCode(err) == pgForeignKeyViolation:
		return controlplane.Account{}, errNoPlan(planID)
	case errors.Is(err, pgx.ErrNoRows):
		return controlplane.Account{}, accountNotFound(accountID)
	case err != nil:
		return controlplane.Account{}, fmt.Errorf("set plan of account %s: %w", accountID, err)
	}
	return a, nil
}

// AccountPlan returns the account's plan; ok is false when it has none.
// An unknown account is a NotFound error.
func (s *Store) AccountPlan(ctx context.Context, accountID string) (billing.Plan, bool, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx,
		"select "+planJSON+" from accounts a left join plans p on p.id = a.plan_id where a.id = $1",
		accountID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Plan{}, false, accountNotFound(accountID)
	}
	if err != nil {
		return billing.Plan{}, false, fmt.Errorf("plan of account %s: %w", accountID, err)
	}
	return decodePlan(raw)
}

// PlanAppIDs lists the apps of every account on the plan, in id order.
func (s *Store) PlanAppIDs(ctx context.Context, planID string) ([]string, error) {
	rows, _ := s.pool.Query(ctx,
		`select a.id from apps a join accounts ac on ac.id = a.account_id
		 where ac.plan_id = $1 order by a.id`, planID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list apps of plan %s: %w", planID, err)
	}
	return ids, nil
}

// AccountAppIDs lists the account's apps in id order.
func (s *Store) AccountAppIDs(ctx context.Context, accountID string) ([]string, error) {
	rows, _ := s.pool.Query(ctx, "select id from apps where account_id = $1 order by id", accountID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list apps of account %s: %w", accountID, err)
	}
	return ids, nil
}

// getPlan reads one plan by the condition where ($1 its argument); lock
// is "" or a locking clause.
func getPlan(ctx context.Context, q querier, where, arg, lock string) (billing.Plan, error) {
	row := q.QueryRow(ctx, "select "+planJSON+" from plans p where "+where+" "+lock, arg)
	p, err := scanPlan(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Plan{}, planNotFound(arg)
	}
	if err != nil {
		return billing.Plan{}, fmt.Errorf("get plan %s: %w", arg, err)
	}
	return p, nil
}

func planNotFound(id string) error { return channels.NotFound(fmt.Sprintf("plan %s not found", id)) }

func errNoPlan(id string) error {
	return channels.BadRequest("plan_id", fmt.Sprintf("plan %s not found", id))
}

// scanPlan reads one row holding a plan as jsonb; a null is an error.
func scanPlan(r pgx.Row) (billing.Plan, error) {
	var raw []byte
	if err := r.Scan(&raw); err != nil {
		return billing.Plan{}, err
	}
	p, ok, err := decodePlan(raw)
	if err == nil && !ok {
		err = errors.New("plan row is null")
	}
	return p, err
}

// decodePlan reads a plan row as to_jsonb wrote it; ok is false for a
// SQL null (an outer join that found no plan).
func decodePlan(raw []byte) (billing.Plan, bool, error) {
	if raw == nil || string(raw) == "null" {
		return billing.Plan{}, false, nil
	}
	var p billing.Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return billing.Plan{}, false, fmt.Errorf("decode plan: %w", err)
	}
	if err := json.Unmarshal(raw, &p.Limits); err != nil {
		return billing.Plan{}, false, fmt.Errorf("decode plan limits: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	return p, true, nil
}
