package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/controlplane"
)

// usageOpts are the options of `herald admin usage`.
type usageOpts struct {
	app, account, granularity, from, to string
	csv                                 bool
}

func usageFlags(fs *flag.FlagSet, o *adminOpts) {
	u := &o.usage
	fs.StringVar(&u.app, "app", "", "app id")
	fs.StringVar(&u.account, "account", "", "account id (usage only): the sums over its apps")
	fs.StringVar(&u.granularity, "granularity", "", "minute, hour, day or month (default: the server's, hour)")
	fs.StringVar(&u.from, "from", "", "start, RFC 3339 (default: 24 hours before --to)")
	fs.StringVar(&u.to, "to", "", "end, exclusive, RFC 3339 (default: now)")
	fs.BoolVar(&u.csv, "csv", false, "print CSV: a header row and one row per period (usage only)")
}

func (u usageOpts) query() adminclient.UsageQuery {
	return adminclient.UsageQuery{Granularity: u.granularity, From: u.from, To: u.to}
}

// adminUsageReport prints an app's or an account's usage: a table of
// the periods and a totals line, CSV, or JSON.
func adminUsageReport(ctx context.Context, c *adminCall) error {
	u := c.opts.usage
	if (u.app == "") == (u.account == "") {
		return usagef("usage takes --app ID or --account ID")
	}
	var (
		r   controlplane.UsageReport
		err error
	)
	if u.app != "" {
		r, err = c.client.AppUsage(ctx, u.app, u.query())
	} else {
		r, err = c.client.AccountUsage(ctx, u.account, u.query())
	}
	if err != nil {
		return err
	}
	switch {
	case c.json:
		return printJSON(c.stdout, r)
	case u.csv:
		w := csv.NewWriter(c.stdout)
		return w.WriteAll(r.CSVRecords())
	}
	recs := r.CSVRecords()
	header := make([]string, len(recs[0]))
	for i, h := range recs[0] {
		header[i] = strings.ToUpper(h)
	}
	total := append([]string{"TOTAL"}, formatCounts(r.Totals.Counters.Values())...)
	return printTable(c.stdout, header, append(recs[1:], append(total, strconv.FormatBool(r.Totals.OverQuota))))
}

func formatCounts(v []int64) []string {
	out := make([]string, len(v))
	for i, n := range v {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// adminUsageReconcile prints, per period, metered published messages
// against the stream and the history, and fails when any differ.
func adminUsageReconcile(ctx context.Context, c *adminCall) error {
	u := c.opts.usage
	if err := required("app", u.app); err != nil {
		return err
	}
	if u.account != "" || u.csv {
		return usagef("usage reconcile takes neither --account nor --csv")
	}
	r, err := c.client.ReconcileAppUsage(ctx, u.app, u.query())
	if err != nil {
		return err
	}
	if c.json {
		err = printJSON(c.stdout, r)
	} else {
		rows := make([][]string, 0, len(r.Items))
		for _, it := range r.Items {
			rows = append(rows, []string{fmtTime(it.Start), strconv.FormatInt(it.Metered, 10),
				countOr(it.Stream, "not in stream"), countOr(it.History, "not kept"), diffMark(it.Differs)})
		}
		err = printTable(c.stdout, []string{"START", "METERED", "STREAM", "HISTORY", "DIFFERS"}, rows)
		if err == nil {
			fmt.Fprintf(c.stderr, "%s counted up to serial %d\n", r.Stream, r.UpTo)
		}
	}
	if err != nil {
		return err
	}
	if r.Differences > 0 {
		return fmt.Errorf("usage of app %s differs in %d period(s)", u.app, r.Differences)
	}
	return nil
}

func countOr(n *int64, none string) string {
	if n == nil {
		return none
	}
	return strconv.FormatInt(*n, 10)
}

func diffMark(d bool) string {
	if d {
		return "yes"
	}
	return "-"
}
