package api

import (
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/ratelimit"
)

// publishChecked publishes msgs for app once its plan's quotas let them
// through (docs/billing.md, "Quotas and enforcement"): over the account's
// daily or monthly message quota or the app's publish_rate with hard
// enforcement, nothing is published and the answer is 429 quota_exceeded
// with Retry-After. Only the messages the stream stored count against
// the quota; a duplicate (an idempotent retry) counts nothing.
func (a *API) publishChecked(c echo.Context, app *channels.AppConfig, msgs []stream.Message) ([]stream.Result, error) {
	v, res := a.quotas.CheckPublish(app, len(msgs))
	if v.Refused {
		if results, ok := a.storedBefore(c, app, msgs); ok {
			return results, nil
		}
		return nil, quotaExceeded(c, v)
	}
	defer res.Release()
	start := time.Now()
	if a.hops != nil {
		a.hopsBeforeStore(c, msgs, start)
	}
	results, err := a.events.PublishBatch(c.Request().Context(), msgs)
	a.metrics.published(start, publishErr(results, err))
	if a.hops != nil {
		a.hopStored(start)
	}
	for _, r := range results {
		if r.Err == nil {
			res.Accepted(r.Serial, r.Duplicate)
		}
	}
	a.debugPublished(app.ID, msgs, results)
	return results, err
}

// storedBefore answers a refused publish that is an idempotent retry of
// one the stream stored: when every message has an idempotency key whose
// message is stored within the duplicate window, the results are the
// first publish's serials, as duplicates, and nothing is published (the
// stream would have stored nothing, so nothing counts). Any other case,
// or a failed lookup, is no (the refusal stands).
func (a *API) storedBefore(c echo.Context, app *channels.AppConfig, msgs []stream.Message) ([]stream.Result, bool) {
	if a.stored == nil {
		return nil, false
	}
	for _, m := range msgs {
		if m.MsgID == "" {
			return nil, false
		}
	}
	ctx, now := c.Request().Context(), time.Now()
	results := make([]stream.Result, len(msgs))
	for i, m := range msgs {
		serial, ok, err := a.stored.Stored(ctx, app.ID, m.Channel, m.MsgID, now)
		if err != nil {
			a.logger.Warn("idempotent retry over a quota: lookup failed", "app", app.ID, "err", err)
			return nil, false
		}
		if !ok {
			return nil, false
		}
		results[i] = stream.Result{Serial: serial, Duplicate: true}
	}
	return results, true
}

// quotaExceeded sets Retry-After and returns the 429 of a refused publish.
func quotaExceeded(c echo.Context, v billing.Verdict) error {
	secs := ratelimit.RetryAfterSeconds(v.RetryAfter)
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
	msg := fmt.Sprintf("this publish would take the account past its %s (%d); retry in %d s", v.Exceeded, v.Limit, secs)
	switch {
	case v.Exceeded == billing.QuotaPublishRate:
		msg = fmt.Sprintf("the app is over its publish_rate (%d messages per second); retry in %d s", v.Limit, secs)
	case v.AtLimit:
		msg = fmt.Sprintf("the account has reached its %s (%d); retry in %d s", v.Exceeded, v.Limit, secs)
	}
	return &channels.Error{Code: channels.CodeQuotaExceeded, Message: msg}
}

// publishErr is the error of a publish: the call's, else the first
// message's the stream refused.
func publishErr(results []stream.Result, err error) error {
	if err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}
