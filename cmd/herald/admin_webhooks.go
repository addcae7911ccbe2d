package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// webhookOpts are the options of `herald admin webhooks …`.
type webhookOpts struct {
	url, events, channelFilter, status optionalString
	batch                              optionalBool
	headers                            headersFlag
}

// headersFlag collects repeated --header Name=value.
type headersFlag struct{ m map[string]string }

func (h *headersFlag) String() string { return "" }

func (h *headersFlag) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("--header takes Name=value, not %q", kv)
	}
	if h.m == nil {
		h.m = map[string]string{}
	}
	h.m[k] = v
	return nil
}

func webhookFlags(fs *flag.FlagSet, o *adminOpts) {
	w := &o.webhook
	fs.Var(&w.url, "endpoint", "update: the endpoint's new URL (http or https)")
	fs.Var(&w.events, "events", "comma-separated event kinds (default on creation: every kind but subscription_count)")
	fs.Var(&w.batch, "batch", "`true|false`, whether to send up to 100 events per request, at most one request per second")
	fs.Var(&o.enabled, "enabled", "whether it is enabled, `true|false`")
	fs.Var(&w.channelFilter, "channel-filter", "only channels matching this pattern (* matches any run)")
	fs.Var(&w.headers, "header", "extra request header Name=value (repeatable)")
}

func webhookDeliveryFlags(fs *flag.FlagSet, o *adminOpts) {
	pageFlags(fs, o)
	fs.Var(&o.webhook.status, "status", "only deliveries in this status: pending, delivered or failed")
}

// webhookBody turns the options into a request body.
func (c *adminCall) webhookBody() adminclient.Webhook {
	w := c.opts.webhook
	body := adminclient.Webhook{URL: w.url.ptr(), Batch: w.batch.ptr(), Enabled: c.opts.enabled.ptr(),
		ChannelFilter: w.channelFilter.ptr()}
	if w.events.set {
		var evs []channels.WebhookEventName
		for _, e := range strings.Split(w.events.value, ",") {
			if e = strings.TrimSpace(e); e != "" {
				evs = append(evs, channels.WebhookEventName(e))
			}
		}
		body.Events = &evs
	}
	if w.headers.m != nil {
		body.Headers = &w.headers.m
	}
	return body
}

var webhookHeader = []string{"ID", "URL", "EVENTS", "BATCH", "ENABLED", "FILTER"}

func webhookRow(w controlplane.WebhookEndpoint) []string {
	return []string{w.ID, w.URL, eventList(w.Events), strconv.FormatBool(w.Batch), strconv.FormatBool(w.Enabled),
		orDash(w.ChannelFilter)}
}

// eventList is an endpoint's event kinds, comma-separated.
func eventList(events []channels.WebhookEventName) string {
	evs := make([]string, len(events))
	for i, e := range events {
		evs[i] = string(e)
	}
	return strings.Join(evs, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func adminListWebhooks(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListWebhooks(ctx, c.args[0], c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, w := range page.Items {
		rows = append(rows, webhookRow(w))
	}
	return c.output(page, webhookHeader, rows, page.NextCursor)
}

func adminCreateWebhook(ctx context.Context, c *adminCall) error {
	body := c.webhookBody()
	body.URL = &c.args[1]
	w, err := c.client.CreateWebhook(ctx, c.args[0], body)
	if err != nil {
		return err
	}
	return c.output(w, webhookHeader, [][]string{webhookRow(w)}, "")
}

func adminGetWebhook(ctx context.Context, c *adminCall) error {
	w, err := c.client.GetWebhook(ctx, c.args[0], c.args[1])
	if err != nil {
		return err
	}
	return c.output(w, webhookHeader, [][]string{webhookRow(w)}, "")
}

func adminUpdateWebhook(ctx context.Context, c *adminCall) error {
	w, err := c.client.UpdateWebhook(ctx, c.args[0], c.args[1], c.webhookBody())
	if err != nil {
		return err
	}
	return c.output(w, webhookHeader, [][]string{webhookRow(w)}, "")
}

func adminDeleteWebhook(ctx context.Context, c *adminCall) error {
	if err := c.client.DeleteWebhook(ctx, c.args[0], c.args[1]); err != nil {
		return err
	}
	return c.done("deleted webhook %s", c.args[1])
}

var deliveryHeader = []string{"ID", "CREATED", "EVENTS", "ATTEMPTS", "STATUS", "CODE", "ERROR", "NEXT", "DELIVERED"}

func adminListWebhookDeliveries(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListWebhookDeliveries(ctx, c.args[0], c.args[1], c.opts.webhook.status.value, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	return c.outputDeliveries(page)
}

// outputDeliveries prints a page of a delivery log.
func (c *adminCall) outputDeliveries(page adminclient.Page[controlplane.WebhookDelivery]) error {
	rows := make([][]string, 0, len(page.Items))
	for _, d := range page.Items {
		code, msg := "-", "-"
		if d.LastStatusCode != nil {
			code = strconv.Itoa(*d.LastStatusCode)
		}
		if d.LastError != nil {
			msg = *d.LastError
		}
		rows = append(rows, []string{d.ID, fmtTime(d.CreatedAt), strconv.Itoa(d.EventCount), strconv.Itoa(d.Attempts),
			string(d.Status), code, msg, fmtTimePtr(d.NextAttemptAt), fmtTimePtr(d.DeliveredAt)})
	}
	return c.output(page, deliveryHeader, rows, page.NextCursor)
}

func adminRedeliverWebhook(ctx context.Context, c *adminCall) error {
	if err := c.client.RedeliverWebhook(ctx, c.args[0], c.args[1], c.args[2]); err != nil {
		return err
	}
	return c.done("redelivering %s", c.args[2])
}

func adminTestWebhook(ctx context.Context, c *adminCall) error {
	res, err := c.client.TestWebhook(ctx, c.args[0], c.args[1])
	if err != nil {
		return err
	}
	return c.outputTest(res)
}

// errWebhookTestFailed makes a test of an endpoint that failed exit 1, so
// that a script can tell.
var errWebhookTestFailed = errors.New("the endpoint failed the test")

// outputTest prints an endpoint's answer to a test request, and returns
// errWebhookTestFailed when it was not a success.
func (c *adminCall) outputTest(res webhooks.TestResult) error {
	code := "-"
	if res.StatusCode != 0 {
		code = strconv.Itoa(res.StatusCode)
	}
	err := c.output(res, []string{"OK", "CODE", "ERROR", "MS"},
		[][]string{{strconv.FormatBool(res.OK), code, orDash(res.Error), strconv.FormatInt(res.DurationMS, 10)}}, "")
	if err == nil && !res.OK {
		err = errWebhookTestFailed
	}
	return err
}
