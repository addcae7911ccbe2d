package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/testenv"
)

// TestTenantUsage: an app reads its own usage with its key, signed or
// Basic, the same numbers as the admin API; another app's key is refused.
func TestTenantUsage(t *testing.T) {
	t.Parallel()
	e := newHistoryEnv(t)
	other := createApp(t, e.h, "other-app")
	// A range long past, so that whatever the running Herald meters now
	// stays out of it.
	insertUsage(t, e.pool,
		usageRow{"acct", testenv.AppID, billing.Hour, "2025-03-01T10:00:00Z", fullCounters},
		usageRow{"acct", testenv.AppID, billing.Hour, "2025-03-01T12:00:00Z", billing.Counters{MessagesPublished: 9, PeakConnections: 4}},
		usageRow{"acct", "other-app", billing.Hour, "2025-03-01T10:00:00Z", billing.Counters{MessagesPublished: 1000}},
	)
	q := url.Values{"from": {"2025-03-01T09:30:00Z"}, "to": {"2025-03-01T13:00:00Z"}}
	path := "/apps/" + testenv.AppID + "/usage"

	req, _ := http.NewRequest(http.MethodGet, e.h.URL()+"/admin/v1/apps/"+testenv.AppID+"/usage?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+e.h.AdminToken())
	status, adminBody := testenv.Do(t, http.DefaultClient, req)
	if status != http.StatusOK {
		t.Fatalf("admin usage: %d %s", status, adminBody)
	}
	var admin controlplane.UsageReport
	if err := json.Unmarshal(adminBody, &admin); err != nil {
		t.Fatal(err)
	}
	if len(admin.Items) != 2 || admin.Totals.MessagesPublished != 2+9 || admin.Totals.PeakConnections != 5 {
		t.Fatalf("admin usage = %s", adminBody)
	}

	status, signed := testenv.SignedRequest(t, http.MethodGet, e.h.URL(), path, testenv.AppKey, testenv.AppSecret, cloneValues(q), nil)
	if status != http.StatusOK || string(signed) != string(adminBody) {
		t.Errorf("signed: %d %s\nwant %s", status, signed, adminBody)
	}
	status, _, basic := e.get(t, path+"?"+q.Encode(), testenv.AppKey, testenv.AppSecret)
	if status != http.StatusOK || string(basic) != string(adminBody) {
		t.Errorf("Basic: %d %s\nwant %s", status, basic, adminBody)
	}
	req, _ = http.NewRequest(http.MethodGet, e.h.URL()+path+"?"+q.Encode(), nil)
	req.SetBasicAuth(testenv.AppKey, testenv.AppSecret)
	req.Header.Set("Accept", "text/csv")
	status, csvBody := testenv.Do(t, http.DefaultClient, req)
	if lines := strings.Split(strings.TrimSpace(string(csvBody)), "\n"); status != http.StatusOK || len(lines) != 3 ||
		!strings.HasPrefix(lines[1], "2025-03-01T10:00:00Z,16,2,") {
		t.Errorf("CSV: %d %s", status, csvBody)
	}

	// Another app's key, however presented, reads nothing of this app.
	status, body := testenv.SignedRequest(t, http.MethodGet, e.h.URL(), path, other.Key, other.Secret, cloneValues(q), nil)
	wantAPIError(t, status, body, http.StatusUnauthorized, "unauthorized", "")
	status, _, body = e.get(t, path+"?"+q.Encode(), other.Key, other.Secret)
	wantAPIError(t, status, body, http.StatusUnauthorized, "unauthorized", "")
	status, _, body = e.get(t, path+"?"+q.Encode(), testenv.AppKey, "wrong-secret")
	wantAPIError(t, status, body, http.StatusUnauthorized, "unauthorized", "")
	// Bad input is refused naming the parameter, as on the admin route.
	status, _, body = e.get(t, path+"?granularity=week", testenv.AppKey, testenv.AppSecret)
	wantAPIError(t, status, body, http.StatusBadRequest, "bad_request", "granularity")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
