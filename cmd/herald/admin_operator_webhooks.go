package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/heraldhq/herald/controlplane"
)

// operatorWebhookFlags are the options of `herald admin webhooks
// operator add|update`: those of app endpoints but --batch and
// --channel-filter, which operator endpoints do not have.
func operatorWebhookFlags(fs *flag.FlagSet, o *adminOpts) {
	w := &o.webhook
	fs.Var(&w.url, "endpoint", "update: the endpoint's new URL (http or https)")
	fs.Var(&w.events, "events", "comma-separated event kinds: quota_warning, quota_reached, quota_exceeded (default on creation: all)")
	fs.Var(&o.enabled, "enabled", "whether it is enabled, `true|false`")
	fs.Var(&w.headers, "header", "extra request header Name=value (repeatable)")
}

var operatorWebhookHeader = []string{"ID", "KEY", "URL", "EVENTS", "ENABLED"}

func operatorWebhookRow(w controlplane.WebhookEndpoint) []string {
	return []string{w.ID, w.Key, w.URL, eventList(w.Events), strconv.FormatBool(w.Enabled)}
}

func adminListOperatorWebhooks(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListOperatorWebhooks(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, w := range page.Items {
		rows = append(rows, operatorWebhookRow(w))
	}
	return c.output(page, operatorWebhookHeader, rows, page.NextCursor)
}

// adminAddOperatorWebhook prints the endpoint with its signing secret,
// which no later command shows.
func adminAddOperatorWebhook(ctx context.Context, c *adminCall) error {
	body := c.webhookBody()
	body.URL = &c.args[0]
	w, err := c.client.CreateOperatorWebhook(ctx, body)
	if err != nil {
		return err
	}
	return c.output(w, append(operatorWebhookHeader, "SECRET"),
		[][]string{append(operatorWebhookRow(w.WebhookEndpoint), w.Secret)}, "")
}

func adminGetOperatorWebhook(ctx context.Context, c *adminCall) error {
	w, err := c.client.GetOperatorWebhook(ctx, c.args[0])
	if err != nil {
		return err
	}
	return c.output(w, operatorWebhookHeader, [][]string{operatorWebhookRow(w)}, "")
}

func adminUpdateOperatorWebhook(ctx context.Context, c *adminCall) error {
	w, err := c.client.UpdateOperatorWebhook(ctx, c.args[0], c.webhookBody())
	if err != nil {
		return err
	}
	return c.output(w, operatorWebhookHeader, [][]string{operatorWebhookRow(w)}, "")
}

func adminRemoveOperatorWebhook(ctx context.Context, c *adminCall) error {
	if err := c.client.DeleteOperatorWebhook(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("removed operator webhook %s", c.args[0])
}

func adminListOperatorWebhookDeliveries(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListOperatorWebhookDeliveries(ctx, c.args[0], c.opts.webhook.status.value, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	return c.outputDeliveries(page)
}

func adminRedeliverOperatorWebhook(ctx context.Context, c *adminCall) error {
	if err := c.client.RedeliverOperatorWebhook(ctx, c.args[0], c.args[1]); err != nil {
		return err
	}
	return c.done("redelivering %s", c.args[1])
}

func adminTestOperatorWebhook(ctx context.Context, c *adminCall) error {
	res, err := c.client.TestOperatorWebhook(ctx, c.args[0])
	if err != nil {
		return err
	}
	return c.outputTest(res)
}
