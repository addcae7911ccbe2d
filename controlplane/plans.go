package controlplane

import (
	"context"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
)

// NewPlan is the input of CreatePlan. An empty ID gets a generated one;
// Limits applies over the zero (unlimited) limits.
type NewPlan struct {
	ID          string
	Name        string
	Enforcement channels.Enforcement
	Limits      billing.LimitsPatch
}

// PlanPatch is a partial update of a plan; nil fields, limits one by one,
// are unchanged.
type PlanPatch struct {
	Name        *string
	Enforcement *channels.Enforcement
	Limits      billing.LimitsPatch
}

// PlanStore keeps plans and which account is on which (docs/billing.md,
// "Plans").
type PlanStore interface {
	CreatePlan(ctx context.Context, in NewPlan) (billing.Plan, error)
	// GetPlan finds a plan by id; FindPlan by id or else by name.
	GetPlan(ctx context.Context, id string) (billing.Plan, error)
	FindPlan(ctx context.Context, idOrName string) (billing.Plan, error)
	ListPlans(ctx context.Context, p Page) (items []billing.Plan, next string, err error)
	UpdatePlan(ctx context.Context, id string, patch PlanPatch) (billing.Plan, error)
	// DeletePlan fails with ErrConflict, naming how many, while accounts
	// use the plan.
	DeletePlan(ctx context.Context, id string) error
	// PlanAccountCount counts the accounts on the plan.
	PlanAccountCount(ctx context.Context, id string) (int64, error)
	// SetAccountPlan puts the account on the plan; an empty planID takes
	// it off any. An unknown plan is a bad request on plan_id.
	SetAccountPlan(ctx context.Context, accountID, planID string) (Account, error)
	// CreateAccountOnPlan is CreateAccount that also puts the new account
	// on planID (none when empty), in one statement.
	CreateAccountOnPlan(ctx context.Context, name, planID string) (Account, error)
	// AccountPlan is the account's plan; ok is false without one.
	AccountPlan(ctx context.Context, accountID string) (p billing.Plan, ok bool, err error)
	// PlanAppIDs lists the apps of every account on the plan, and
	// AccountAppIDs those of one account: what to resync after a change.
	PlanAppIDs(ctx context.Context, planID string) ([]string, error)
	AccountAppIDs(ctx context.Context, accountID string) ([]string, error)
}
