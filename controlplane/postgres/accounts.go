package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

const accountColumns = "id, name, plan_id, created_at"

// CreateAccount stores a new account with a generated id and no plan.
func (s *Store) CreateAccount(ctx context.Context, name string) (controlplane.Account, error) {
	return s.CreateAccountOnPlan(ctx, name, "")
}

// CreateAccountOnPlan stores a new account with a generated id, on planID
// unless it is empty.
func (s *Store) CreateAccountOnPlan(ctx context.Context, name, planID string) (controlplane.Account, error) {
	if err := channels.ValidateName("name", name); err != nil {
		return controlplane.Account{}, err
	}
	if planID != "" && billing.ValidatePlanID(planID) != nil {
		return controlplane.Account{}, errNoPlan(planID)
	}
	row := s.pool.QueryRow(ctx,
		"insert into accounts (id, name, plan_id) values ($1, $2, nullif($3, '')) returning "+accountColumns,
		newAccountID(), name, planID)
	a, err := scanAccount(row)
	if pgCode(err) == pgForeignKeyViolation {
		return controlplane.Account{}, errNoPlan(planID)
	}
	if err != nil {
		return controlplane.Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// GetAccount returns one account or a NotFound error.
func (s *Store) GetAccount(ctx context.Context, id string) (controlplane.Account, error) {
	row := s.pool.QueryRow(ctx, "select "+accountColumns+" from accounts where id = $1", id)
	a, err := scanAccount(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return controlplane.Account{}, accountNotFound(id)
	}
	if err != nil {
		return controlplane.Account{}, fmt.Errorf("get account %s: %w", id, err)
	}
	return a, nil
}

// ListAccounts returns accounts ordered by id, one page at a time.
func (s *Store) ListAccounts(ctx context.Context, p controlplane.Page) ([]controlplane.Account, string, error) {
	pa, err := parsePage(p, accountsCursor)
	if err != nil {
		return nil, "", err
	}
	rows, _ := s.pool.Query(ctx,
		"select "+accountColumns+" from accounts where id > $1 order by id limit $2",
		pa.after, pa.limit+1)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.Account, error) {
		return scanAccount(r)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list accounts: %w", err)
	}
	items, next := trimPage(items, pa, func(a controlplane.Account) string { return a.ID })
	return items, next, nil
}

// DeleteAccount removes an account that has no apps left; while it has
// some, it returns a Conflict error.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "delete from accounts where id = $1", id)
	if pgCode(err) == pgForeignKeyViolation {
		return channels.Conflict(fmt.Sprintf("account %s still has apps; delete them first", id))
	}
	if err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return accountNotFound(id)
	}
	return nil
}

func accountNotFound(id string) error {
	return channels.NotFound(fmt.Sprintf("account %s not found", id))
}

func scanAccount(r pgx.Row) (controlplane.Account, error) {
	var a controlplane.Account
	if err := r.Scan(&a.ID, &a.Name, &a.PlanID, &a.CreatedAt); err != nil {
		return controlplane.Account{}, err
	}
	a.CreatedAt = utc(a.CreatedAt)
	return a, nil
}
