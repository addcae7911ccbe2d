package api

import (
	"context"
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

// audit records a mutation that has already succeeded. details must not
// hold secrets. A failure to record is logged, not returned: the change
// is done, and answering 500 would invite a retry that repeats it.
func (a *API) audit(c echo.Context, action, target string, details any) {
	// The record is written even when the client has gone away.
	ctx := context.WithoutCancel(c.Request().Context())
	e := controlplane.AuditEntry{Actor: actorOf(c), Action: action, Target: target}
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			a.logger.Error("encode audit details", "request_id", requestIDOf(c), "action", action, "err", err)
		} else {
			e.Details = b
		}
	}
	if err := a.store.RecordAudit(ctx, e); err != nil {
		a.logger.Error("record audit entry", "request_id", requestIDOf(c),
			"action", action, "target", target, "err", err)
	}
}

// syncApp copies the app's config to the gateways after a change. A failure
// is logged and does not fail the request: Postgres already holds the
// change, and the syncer's periodic reconcile publishes it; failing here
// would report a change that was in fact made as not made.
func (a *API) syncApp(c echo.Context, appID string) {
	if a.publisher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), a.syncTimeout)
	defer cancel()
	if err := a.publisher.SyncApp(ctx, appID); err != nil {
		a.logger.Warn("app config sync failed; the periodic reconcile will publish it",
			"request_id", requestIDOf(c), "app_id", appID, "err", err)
	}
}
