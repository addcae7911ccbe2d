package adminclient

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// NewPlan is the input of CreatePlan. ID is generated when empty; Limits,
// when set, is a partial object over unlimited.
type NewPlan struct {
	ID          string               `json:"id,omitempty"`
	Name        string               `json:"name"`
	Enforcement channels.Enforcement `json:"enforcement"`
	Limits      *billing.LimitsPatch `json:"limits,omitempty"`
}

// PlanPatch is a partial update of a plan: nil fields, limits included one
// by one, are left as they are.
type PlanPatch struct {
	Name        *string               `json:"name,omitempty"`
	Enforcement *channels.Enforcement `json:"enforcement,omitempty"`
	Limits      *billing.LimitsPatch  `json:"limits,omitempty"`
}

// accountPlanBody sets an account's plan; nil removes it.
type accountPlanBody struct {
	PlanID *string `json:"plan_id"`
}

// CreatePlan creates a plan.
func (c *Client) CreatePlan(ctx context.Context, in NewPlan) (billing.Plan, error) {
	var out billing.Plan
	err := c.do(ctx, http.MethodPost, prefix+"/plans", in, &out)
	return out, err
}

// ListPlans returns one page of plans.
func (c *Client) ListPlans(ctx context.Context, limit int, cursor string) (Page[billing.Plan], error) {
	var out Page[billing.Plan]
	err := c.do(ctx, http.MethodGet, prefix+"/plans"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// GetPlan returns one plan.
func (c *Client) GetPlan(ctx context.Context, id string) (billing.Plan, error) {
	var out billing.Plan
	err := c.do(ctx, http.MethodGet, prefix+"/plans/"+esc(id), nil, &out)
	return out, err
}

// UpdatePlan applies a partial update and returns the plan as it now is.
func (c *Client) UpdatePlan(ctx context.Context, id string, p PlanPatch) (billing.Plan, error) {
	var out billing.Plan
	err := c.do(ctx, http.MethodPatch, prefix+"/plans/"+esc(id), p, &out)
	return out, err
}

// DeletePlan deletes a plan no account uses.
func (c *Client) DeletePlan(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, prefix+"/plans/"+esc(id), nil, nil)
}

// SetAccountPlan puts an account on a plan; an empty planID takes it off
// its plan.
func (c *Client) SetAccountPlan(ctx context.Context, accountID, planID string) (controlplane.Account, error) {
	body := accountPlanBody{}
	if planID != "" {
		body.PlanID = &planID
	}
	var out controlplane.Account
	err := c.do(ctx, http.MethodPatch, prefix+"/accounts/"+esc(accountID), body, &out)
	return out, err
}
