package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/controlplane"
)

// The actions of `herald admin`, one per adminCommands entry.

func adminListAccounts(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListAccounts(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, a := range page.Items {
		rows = append(rows, accountRow(a))
	}
	return c.output(page, accountHeader, rows, page.NextCursor)
}

func adminGetAccount(ctx context.Context, c *adminCall) error {
	a, err := c.client.GetAccount(ctx, c.args[0])
	if err != nil {
		return err
	}
	return c.output(a, accountHeader, [][]string{accountRow(a)}, "")
}

func adminCreateAccount(ctx context.Context, c *adminCall) error {
	if err := required("name", c.opts.name); err != nil {
		return err
	}
	a, err := c.client.CreateAccount(ctx, c.opts.name)
	if err != nil {
		return err
	}
	return c.output(a, accountHeader, [][]string{accountRow(a)}, "")
}

func adminDeleteAccount(ctx context.Context, c *adminCall) error {
	if err := c.client.DeleteAccount(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("deleted account %s", c.args[0])
}

func appRow(a controlplane.App) []string {
	return []string{a.ID, a.AccountID, a.Name, strconv.FormatBool(a.Enabled), fmtTime(a.CreatedAt)}
}

func adminListApps(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListApps(ctx,
		controlplane.AppFilter{AccountID: c.opts.account, Search: c.opts.search}, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, a := range page.Items {
		rows = append(rows, appRow(a))
	}
	return c.output(page, []string{"ID", "ACCOUNT", "NAME", "ENABLED", "CREATED"}, rows, page.NextCursor)
}

// printApp shows one app as FIELD VALUE lines, its settings included.
func (c *adminCall) printApp(a controlplane.App) error {
	rows := [][]string{
		{"id", a.ID}, {"account_id", a.AccountID}, {"name", a.Name},
		{"enabled", strconv.FormatBool(a.Enabled)},
		{"created_at", fmtTime(a.CreatedAt)}, {"updated_at", fmtTime(a.UpdatedAt)},
	}
	b, err := json.Marshal(a.Settings)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	var settings map[string]json.RawMessage
	if err := json.Unmarshal(b, &settings); err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		rows = append(rows, []string{"settings." + k, string(settings[k])})
	}
	return c.output(a, []string{"FIELD", "VALUE"}, rows, "")
}

func adminGetApp(ctx context.Context, c *adminCall) error {
	a, err := c.client.GetApp(ctx, c.args[0])
	if err != nil {
		return err
	}
	return c.printApp(a)
}

func adminCreateApp(ctx context.Context, c *adminCall) error {
	for _, r := range [][2]string{{"account", c.opts.account}, {"name", c.opts.name}} {
		if err := required(r[0], r[1]); err != nil {
			return err
		}
	}
	settings, err := c.opts.set.patch()
	if err != nil {
		return err
	}
	a, err := c.client.CreateApp(ctx, adminclient.NewApp{
		AccountID: c.opts.account, Name: c.opts.name, ID: c.opts.id, Settings: settings,
	})
	if err != nil {
		return err
	}
	return c.printApp(a)
}

func adminUpdateApp(ctx context.Context, c *adminCall) error {
	settings, err := c.opts.set.patch()
	if err != nil {
		return err
	}
	p := adminclient.Patch{Enabled: c.opts.enabled.ptr(), Settings: settings}
	if c.opts.name != "" {
		p.Name = &c.opts.name
	}
	if p.Name == nil && p.Enabled == nil && p.Settings == nil {
		return usagef("apps update: nothing to change (--name, --enabled or --set)")
	}
	a, err := c.client.UpdateApp(ctx, c.args[0], p)
	if err != nil {
		return err
	}
	return c.printApp(a)
}

func adminDeleteApp(ctx context.Context, c *adminCall) error {
	if err := c.client.DeleteApp(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("deleted app %s", c.args[0])
}

func adminListKeys(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListKeys(ctx, c.args[0], c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, k := range page.Items {
		rows = append(rows, []string{k.Key, k.AppID, fmtTime(k.CreatedAt), fmtTimePtr(k.RevokedAt)})
	}
	return c.output(page, []string{"KEY", "APP", "CREATED", "REVOKED"}, rows, page.NextCursor)
}

func adminCreateKey(ctx context.Context, c *adminCall) error {
	k, err := c.client.CreateKey(ctx, c.args[0])
	if err != nil {
		return err
	}
	if !c.json {
		fmt.Fprintln(c.stderr, "The secret is shown only this once: store it now.")
	}
	return c.output(k, []string{"KEY", "SECRET", "APP", "CREATED"},
		[][]string{{k.Key.Key, k.Secret, k.AppID, fmtTime(k.CreatedAt)}}, "")
}

func adminRevokeKey(ctx context.Context, c *adminCall) error {
	if err := c.client.RevokeKey(ctx, c.args[0], c.args[1]); err != nil {
		return err
	}
	return c.done("revoked key %s of app %s", c.args[1], c.args[0])
}

func adminListTokens(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListTokens(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, t := range page.Items {
		rows = append(rows, []string{t.ID, t.Name, fmtTime(t.CreatedAt), fmtTimePtr(t.RevokedAt)})
	}
	return c.output(page, []string{"ID", "NAME", "CREATED", "REVOKED"}, rows, page.NextCursor)
}

func adminCreateToken(ctx context.Context, c *adminCall) error {
	if err := required("name", c.opts.name); err != nil {
		return err
	}
	t, err := c.client.CreateToken(ctx, c.opts.name)
	if err != nil {
		return err
	}
	if !c.json {
		fmt.Fprintln(c.stderr, "The token is shown only this once: store it now.")
	}
	return c.output(t, []string{"ID", "NAME", "TOKEN"}, [][]string{{t.ID, t.Name, t.Token}}, "")
}

func adminRevokeToken(ctx context.Context, c *adminCall) error {
	if err := c.client.RevokeToken(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("revoked admin token %s", c.args[0])
}

func adminListAudit(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListAudit(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, e := range page.Items {
		details := string(e.Details)
		if details == "" {
			details = "-"
		}
		rows = append(rows, []string{strconv.FormatInt(e.ID, 10), fmtTime(e.At), e.Actor, e.Action, e.Target, details})
	}
	return c.output(page, []string{"ID", "AT", "ACTOR", "ACTION", "TARGET", "DETAILS"}, rows, page.NextCursor)
}
