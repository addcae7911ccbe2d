package adminclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/heraldhq/herald/controlplane"
)

// UsageQuery narrows a usage read. Empty fields take the server's
// defaults: the last 24 hours, by hour. From and To are RFC 3339 times,
// passed on as given so that the server names a bad one.
type UsageQuery struct {
	Granularity string
	From, To    string
}

func (q UsageQuery) encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"granularity": q.Granularity, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// AppUsage reads an app's usage per period.
func (c *Client) AppUsage(ctx context.Context, appID string, q UsageQuery) (controlplane.UsageReport, error) {
	var out controlplane.UsageReport
	err := c.do(ctx, http.MethodGet, prefix+"/apps/"+esc(appID)+"/usage"+q.encode(), nil, &out)
	return out, err
}

// AccountUsage reads an account's usage per period, summed over its apps.
func (c *Client) AccountUsage(ctx context.Context, accountID string, q UsageQuery) (controlplane.UsageReport, error) {
	var out controlplane.UsageReport
	err := c.do(ctx, http.MethodGet, prefix+"/accounts/"+esc(accountID)+"/usage"+q.encode(), nil, &out)
	return out, err
}

// ReconcileAppUsage compares an app's metered messages_published with
// the message stream and the history, per period.
func (c *Client) ReconcileAppUsage(ctx context.Context, appID string, q UsageQuery) (controlplane.ReconcileReport, error) {
	var out controlplane.ReconcileReport
	err := c.do(ctx, http.MethodGet, prefix+"/apps/"+esc(appID)+"/usage/reconcile"+q.encode(), nil, &out)
	return out, err
}
