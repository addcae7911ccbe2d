package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// planSyncConcurrency bounds the app config syncs in flight when a plan
// change reaches many apps: enough to finish thousands within a second,
// few enough not to crowd the database pool and NATS.
const planSyncConcurrency = 8

// createPlanRequest is the body of POST /admin/v1/plans. Limits is a
// partial object over the zero (unlimited) limits.
type createPlanRequest struct {
	ID          string               `json:"id,omitempty"`
	Name        string               `json:"name"`
	Enforcement channels.Enforcement `json:"enforcement"`
	Limits      *billing.LimitsPatch `json:"limits,omitempty"`
}

// updatePlanRequest is the body of PATCH /admin/v1/plans/{id}: absent
// fields, limits included one by one, are left as they are.
type updatePlanRequest struct {
	Name        *string               `json:"name,omitempty"`
	Enforcement *channels.Enforcement `json:"enforcement,omitempty"`
	Limits      *billing.LimitsPatch  `json:"limits,omitempty"`
}

// updateAccountRequest is the body of PATCH /admin/v1/accounts/{id}.
// PlanID is a plan id, or null or "" to take the account off its plan;
// absent leaves it.
type updateAccountRequest struct {
	PlanID nullableString `json:"plan_id,omitempty"`
}

// nullableString keeps a JSON value raw so that absent (nil) and null
// ("null") differ; it is documented as a nullable string.
type nullableString []byte

// UnmarshalJSON keeps a copy of the value, null included.
func (n *nullableString) UnmarshalJSON(b []byte) error {
	*n = append((*n)[:0], b...)
	return nil
}

func (nullableString) openAPISchema() map[string]any {
	return map[string]any{"type": "string", "nullable": true}
}

func (a *API) createPlan(c echo.Context) error {
	var in createPlanRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	np := controlplane.NewPlan{ID: in.ID, Name: in.Name, Enforcement: in.Enforcement}
	if in.Limits != nil {
		np.Limits = *in.Limits
	}
	p, err := a.store.CreatePlan(c.Request().Context(), np)
	if err != nil {
		return err
	}
	a.audit(c, "plan.create", p.ID, in)
	return c.JSON(http.StatusCreated, p)
}

func (a *API) listPlans(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	items, next, err := a.store.ListPlans(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

func (a *API) getPlan(c echo.Context) error {
	p, err := a.store.GetPlan(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// updatePlan changes a plan and, before answering, republishes the config
// of every app of every account on it, so that gateways enforce the new
// limits about as soon as the answer arrives.
func (a *API) updatePlan(c echo.Context) error {
	var in updatePlanRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	id := c.Param("id")
	patch := controlplane.PlanPatch{Name: in.Name, Enforcement: in.Enforcement}
	if in.Limits != nil {
		patch.Limits = *in.Limits
	}
	if in.Name == nil && in.Enforcement == nil && patch.Limits == (billing.LimitsPatch{}) {
		return a.getPlan(c)
	}
	p, err := a.store.UpdatePlan(c.Request().Context(), id, patch)
	if err != nil {
		return err
	}
	a.audit(c, "plan.update", id, in)
	a.syncAppsOf(c, func(ctx context.Context) ([]string, error) { return a.store.PlanAppIDs(ctx, id) })
	return c.JSON(http.StatusOK, p)
}

func (a *API) deletePlan(c echo.Context) error {
	id := c.Param("id")
	if id != "" && id == a.defaultPlan {
		return channels.Conflict(fmt.Sprintf(
			"plan %s is the default plan of new accounts (--default-plan); restart with another first", id))
	}
	if err := a.store.DeletePlan(c.Request().Context(), id); err != nil {
		return err
	}
	a.audit(c, "plan.delete", id, nil)
	return c.NoContent(http.StatusNoContent)
}

// updateAccount changes an account's plan and republishes its apps'
// configs before answering.
func (a *API) updateAccount(c echo.Context) error {
	var in updateAccountRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	if in.PlanID == nil {
		return a.getAccount(c)
	}
	var planID *string
	if err := json.Unmarshal([]byte(in.PlanID), &planID); err != nil {
		return channels.BadRequest("plan_id", "plan_id must be a plan id, or null to remove the plan")
	}
	if planID == nil {
		planID = new(string)
	}
	id := c.Param("id")
	acct, err := a.store.SetAccountPlan(c.Request().Context(), id, *planID)
	if err != nil {
		return err
	}
	a.audit(c, "account.update", id, map[string]any{"plan_id": acct.PlanID})
	a.syncAppsOf(c, func(ctx context.Context) ([]string, error) { return a.store.AccountAppIDs(ctx, id) })
	return c.JSON(http.StatusOK, acct)
}

// syncAppsOf republishes the configs of the apps list names, a few at a
// time, after their accounts' quota totals: a plan changed, and the
// enforcers judge its limits against what the accounts used as soon as
// the configs reach them (docs/billing.md, "Running totals at the edge").
// As for syncApp, failures are logged, not returned: the change is
// stored, and the periodic reconcile publishes it (and the next fold the
// totals).
func (a *API) syncAppsOf(c echo.Context, list func(context.Context) ([]string, error)) {
	if a.publisher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), a.syncTimeout)
	defer cancel()
	ids, err := list(ctx)
	if err != nil {
		a.logger.Warn("list apps to sync failed; the periodic reconcile will publish them",
			"request_id", requestIDOf(c), "err", err)
		return
	}
	if a.totals != nil {
		if err := a.totals.Refresh(ctx, ids); err != nil {
			a.logger.Warn("quota totals not refreshed; the next fold will put them",
				"request_id", requestIDOf(c), "err", err)
		}
	}
	var g errgroup.Group
	g.SetLimit(planSyncConcurrency)
	for _, appID := range ids {
		g.Go(func() error {
			if err := a.publisher.SyncApp(ctx, appID); err != nil {
				a.logger.Warn("app config sync failed; the periodic reconcile will publish it",
					"request_id", requestIDOf(c), "app_id", appID, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait() // every call logs its own failure
}
