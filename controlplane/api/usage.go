package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// DefaultUsageWindow is the range a usage read covers when it names no
// from: the last 24 hours before to.
const DefaultUsageWindow = 24 * time.Hour

// usageParams are the query parameters of the usage routes.
func usageParams() []queryParam {
	return []queryParam{
		{name: "from", description: "Start of the range, RFC 3339 (default: 24 hours before to). Periods overlapping [from, to) are included, the current one too."},
		{name: "to", description: "End of the range, exclusive, RFC 3339 (default: now). Before from is a 400 naming to."},
		{name: "granularity", description: "minute, hour (default), day or month; periods are calendar periods in UTC. More than 1000 periods is a 400 naming from."},
		{name: "format", description: "csv answers text/csv, as Accept: text/csv does; json answers JSON whatever Accept says. Anything else is a 400 naming format."},
	}
}

// usageRange is a parsed usage query: the range asked and the periods it
// overlaps (n of them, none when from equals to).
type usageRange struct {
	from, to time.Time
	r        controlplane.UsageRange
	n        int
}

// parseUsageRange reads from, to and granularity; every mistake is a 400
// naming its parameter.
func (a *API) parseUsageRange(c echo.Context) (usageRange, error) {
	g, err := billing.ParseGranularity(c.QueryParam("granularity"))
	if err != nil {
		return usageRange{}, channels.BadRequest("granularity", "granularity must be minute, hour, day or month")
	}
	to, err := parseTimeParam(c, "to", a.now())
	if err != nil {
		return usageRange{}, err
	}
	from, err := parseTimeParam(c, "from", to.Add(-DefaultUsageWindow))
	if err != nil {
		return usageRange{}, err
	}
	first, last, n, err := g.Periods(from, to)
	switch {
	case errors.Is(err, billing.ErrInvertedRange):
		return usageRange{}, channels.BadRequest("to", "to must not be before from")
	case errors.Is(err, billing.ErrRangeTooLong):
		return usageRange{}, channels.BadRequest("from",
			fmt.Sprintf("the range spans more than %d %s periods: move from closer to to, or pick a coarser granularity", billing.MaxPeriods, g))
	case err != nil:
		return usageRange{}, err
	}
	u := usageRange{from: from.UTC(), to: to.UTC(), n: n, r: controlplane.UsageRange{Granularity: g}}
	if n > 0 {
		u.r.First, u.r.End = first, g.Next(last)
	}
	return u, nil
}

// parseTimeParam reads an RFC 3339 query parameter, or def when absent.
func parseTimeParam(c echo.Context, name string, def time.Time) (time.Time, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, channels.BadRequest(name, name+" must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// usageReader lists the periods of one app or account.
type usageReader func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error)

// usageScope is whose plan a usage report shows: the account's, and for
// an app's report the app's settings (nil for an account's).
type usageScope struct {
	accountID string
	settings  *channels.Settings
}

// serveUsage answers a usage read: JSON, or CSV when asked for; over_quota
// marks the periods in which the scope's account was over a quota of its
// plan.
func (a *API) serveUsage(c echo.Context, read usageReader, scope usageScope) error {
	asCSV, err := wantsCSV(c)
	if err != nil {
		return err
	}
	u, err := a.parseUsageRange(c)
	if err != nil {
		return err
	}
	var periods []billing.Period
	if u.n > 0 {
		if periods, err = read(c, u.r); err != nil {
			return err
		}
	}
	report := controlplane.NewUsageReport(u.r.Granularity, periods)
	if len(report.Items) > 0 && scope.accountID != "" {
		over, err := a.store.OverQuota(c.Request().Context(), scope.accountID, u.r.First, u.r.End)
		if err != nil {
			return err
		}
		report.MarkOverQuota(over)
	}
	if asCSV {
		return writeUsageCSV(c, report)
	}
	if err := a.addPlanUsage(c.Request().Context(), &report, scope); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

// addPlanUsage fills the report's limits and remaining from the account's
// plan and its messages of the current UTC day and month.
func (a *API) addPlanUsage(ctx context.Context, report *controlplane.UsageReport, scope usageScope) error {
	plan, ok, err := a.store.AccountPlan(ctx, scope.accountID)
	if err != nil || !ok {
		return err
	}
	limits := plan.Limits
	if scope.settings != nil {
		limits = limits.ForApp(*scope.settings)
	}
	report.Limits = &limits
	if limits.MaxMessagesPerDay == 0 && limits.MaxMessagesPerMonth == 0 {
		return nil
	}
	now := a.now().UTC()
	today, err := a.accountMessages(ctx, scope.accountID, billing.Day, now)
	if err != nil {
		return err
	}
	month, err := a.accountMessages(ctx, scope.accountID, billing.Month, now)
	if err != nil {
		return err
	}
	report.Remaining = limits.Remaining(today, month)
	return nil
}

// accountMessages is the account's messages in the period of g holding
// at.
func (a *API) accountMessages(ctx context.Context, accountID string, g billing.Granularity, at time.Time) (int64, error) {
	start := g.Start(at)
	periods, err := a.store.AccountUsage(ctx, accountID,
		controlplane.UsageRange{Granularity: g, First: start, End: g.Next(start)})
	if err != nil {
		return 0, err
	}
	return billing.Total(periods).Messages(), nil
}
