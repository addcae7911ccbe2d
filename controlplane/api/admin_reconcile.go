package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// StreamCounter counts an app's messages in the message stream
// (bus/stream.Counter).
type StreamCounter interface {
	Count(ctx context.Context, q stream.CountQuery, each func(stored time.Time)) (held time.Time, err error)
}

// reconcileAppUsage answers GET /admin/v1/apps/{id}/usage/reconcile: per
// period, metered messages_published against the app's messages in the
// stream (where the stream still holds the period) and in the history
// (where the app's retention keeps it), all up to the serial the meter has
// counted.
func (a *API) reconcileAppUsage(c echo.Context) error {
	ctx := c.Request().Context()
	app, err := a.store.AppConfig(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	u, err := a.parseUsageRange(c)
	if err != nil {
		return err
	}
	if a.streams == nil {
		return &channels.Error{Code: channels.CodeUnavailable, Message: "usage reconciliation needs the message stream"}
	}
	g := u.r.Granularity
	report := controlplane.ReconcileReport{Granularity: g, Stream: stream.StreamName(app.Shard), Items: []controlplane.ReconcileItem{}}
	if u.n == 0 {
		return c.JSON(http.StatusOK, report)
	}
	if report.UpTo, err = a.store.StreamMark(ctx, report.Stream); err != nil {
		return err
	}
	periods, err := a.store.AppUsage(ctx, app.ID, u.r)
	if err != nil {
		return err
	}
	metered := map[time.Time]int64{}
	for _, p := range periods {
		metered[p.Start] = p.MessagesPublished
	}
	inStream := map[time.Time]int64{}
	held, err := a.streams.Count(ctx, stream.CountQuery{
		Shard: app.Shard, AppID: app.ID, From: u.r.First, To: u.r.End, UpTo: report.UpTo,
	}, func(t time.Time) { inStream[g.Start(t)]++ })
	if err != nil {
		return err
	}
	// The history writer reads shard 0's stream (controlplane/history),
	// and the retention loop removes what is older than the retention.
	var inHistory map[time.Time]int64
	kept := app.Settings.HistoryRetention()
	keptFrom := a.now().Add(-kept)
	if kept > 0 && app.Shard == 0 {
		inHistory, err = a.store.CountHistory(ctx, controlplane.HistoryCountQuery{
			AppID: app.ID, Stream: report.Stream, MaxSerial: report.UpTo, UsageRange: u.r,
		})
		if err != nil {
			return err
		}
	}
	for p := u.r.First; p.Before(u.r.End); p = g.Next(p) {
		it := controlplane.ReconcileItem{Start: p, Metered: metered[p]}
		if !p.Before(held) {
			it.Stream = ptrTo(inStream[p])
		}
		if inHistory != nil && !p.Before(keptFrom) {
			it.History = ptrTo(inHistory[p])
		}
		it.Differs = it.Stream != nil && *it.Stream != it.Metered || it.History != nil && *it.History != it.Metered
		if it.Metered == 0 && inStream[p] == 0 && inHistory[p] == 0 {
			continue // nothing anywhere: no line to read
		}
		if it.Differs {
			report.Differences++
		}
		report.Items = append(report.Items, it)
	}
	return c.JSON(http.StatusOK, report)
}

func ptrTo[T any](v T) *T { return &v }
