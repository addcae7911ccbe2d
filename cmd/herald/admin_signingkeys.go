package main

import (
	"context"
	"strconv"

	"github.com/heraldhq/herald/controlplane"
)

func signingKeyRow(k controlplane.SigningKey) []string {
	return []string{k.KID, strconv.FormatBool(k.Active), fmtTime(k.CreatedAt), fmtTimePtr(k.RetiredAt)}
}

var signingKeyHeader = []string{"KID", "ACTIVE", "CREATED", "RETIRED"}

func adminListSigningKeys(ctx context.Context, c *adminCall) error {
	page, err := c.client.ListSigningKeys(ctx, c.opts.limit, c.opts.cursor)
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(page.Items))
	for _, k := range page.Items {
		rows = append(rows, signingKeyRow(k))
	}
	return c.output(page, signingKeyHeader, rows, page.NextCursor)
}

func adminRotateSigningKey(ctx context.Context, c *adminCall) error {
	k, err := c.client.RotateSigningKey(ctx)
	if err != nil {
		return err
	}
	return c.output(k, signingKeyHeader, [][]string{signingKeyRow(k)}, "")
}

func adminRetireSigningKey(ctx context.Context, c *adminCall) error {
	if err := c.client.RetireSigningKey(ctx, c.args[0]); err != nil {
		return err
	}
	return c.done("retired signing key %s", c.args[0])
}
