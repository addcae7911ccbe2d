package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUsageCSV(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	header := "start,messages,messages_published,messages_delivered,presence_events,webhook_calls,api_requests,bytes_in,bytes_out,connection_seconds,peak_connections,history_reads,over_quota"
	tests := []struct {
		name   string
		query  string
		accept string
		rows   []string
	}{
		{"two periods", "from=2026-01-01T10:00:00Z&to=2026-01-01T12:00:00Z", "text/csv", []string{
			"2026-01-01T10:00:00Z,16,2,10,1,3,4,100,1000,60,5,6,false",
			"2026-01-01T11:00:00Z,7,0,7,0,0,0,0,0,0,2,0,false",
		}},
		{"among other types", "from=2026-01-01T11:00:00Z&to=2026-01-01T12:00:00Z", "application/xml, text/csv;q=0.9",
			[]string{"2026-01-01T11:00:00Z,7,0,7,0,0,0,0,0,0,2,0,false"}},
		{"format=csv", "format=csv&from=2026-01-01T11:00:00Z&to=2026-01-01T12:00:00Z", "",
			[]string{"2026-01-01T11:00:00Z,7,0,7,0,0,0,0,0,0,2,0,false"}},
		{"empty range", "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z", "text/csv", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + bootstrapToken}}
			if tc.accept != "" {
				h.Set("Accept", tc.accept)
			}
			r := f.s.raw(t, http.MethodGet, "/admin/v1/apps/"+f.app1.ID+"/usage?"+tc.query, h, nil)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
				t.Fatalf("answer %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if err != nil {
				t.Fatalf("CSV %s: %v", r.body, err)
			}
			want := append([]string{header}, tc.rows...)
			if len(recs) != len(want) {
				t.Fatalf("CSV %s, want %d lines", r.body, len(want))
			}
			for i, rec := range recs {
				if got := strings.Join(rec, ","); got != want[i] {
					t.Errorf("line %d = %s, want %s", i, got, want[i])
				}
			}
		})
	}
}

func TestUsageBadRequests(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	app := "/admin/v1/apps/" + f.app1.ID + "/usage?"
	acct := "/admin/v1/accounts/" + f.acct.ID + "/usage?"
	tests := []struct {
		name, path string
		q          url.Values
		field      string
	}{
		{"unknown granularity", app, url.Values{"granularity": {"week"}}, "granularity"},
		{"granularity in capitals", acct, url.Values{"granularity": {"Hour"}}, "granularity"},
		{"inverted", app, url.Values{"from": {"2026-01-02T00:00:00Z"}, "to": {"2026-01-01T00:00:00Z"}}, "to"},
		{"to before the default from", acct, url.Values{"from": {"2026-01-03T00:00:00Z"}}, "to"},
		{"over 1000 minutes", app, url.Values{"granularity": {"minute"}, "from": {"2026-01-01T00:00:00Z"}, "to": {"2026-01-01T16:40:01Z"}}, "from"},
		{"over 1000 hours", acct, url.Values{"from": {"2025-01-01T00:00:00Z"}, "to": {"2026-01-01T00:00:00Z"}}, "from"},
		{"bad from", app, url.Values{"from": {"yesterday"}}, "from"},
		{"bad to", acct, url.Values{"to": {"2026-01-01"}}, "to"},
		{"bad reconcile granularity", "/admin/v1/apps/" + f.app1.ID + "/usage/reconcile?", url.Values{"granularity": {"year"}}, "granularity"},
		// Found by probing: format=xml was answered as JSON.
		{"unknown format", app, url.Values{"format": {"xml"}}, "format"},
		{"format in capitals", acct, url.Values{"format": {"CSV"}}, "format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.s.do(t, http.MethodGet, tc.path+tc.q.Encode(), nil).wantError(t, http.StatusBadRequest, "bad_request", tc.field)
		})
	}
	f.s.do(t, http.MethodGet, "/admin/v1/apps/nope/usage", nil).wantError(t, http.StatusNotFound, "not_found", "")
	f.s.do(t, http.MethodGet, "/admin/v1/accounts/nope/usage", nil).wantError(t, http.StatusNotFound, "not_found", "")
	f.s.doAs(t, "", http.MethodGet, app, nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
}

// TestUsageFormatJSON: format=json answers JSON even when Accept asks for
// CSV; the 400 of an unknown format names the formats there are.
func TestUsageFormatJSON(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	path := "/admin/v1/apps/" + f.app1.ID + "/usage?format=json&from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z"
	r := f.s.raw(t, http.MethodGet, path, http.Header{"Accept": {"text/csv"}, "Authorization": {"Bearer " + bootstrapToken}}, nil)
	if rep := decodeUsage(t, r); len(rep.Items) != 1 {
		t.Errorf("format=json with Accept: text/csv = %+v", rep)
	}
	e := f.s.do(t, http.MethodGet, "/admin/v1/apps/"+f.app1.ID+"/usage?format=xml", nil).wantError(t, http.StatusBadRequest, "bad_request", "format")
	if !strings.Contains(e.Error.Message, "json or csv") {
		t.Errorf("unknown format message %q does not name the formats", e.Error.Message)
	}
}

// TestDeletedAppUsage: a deleted app's usage stays readable by its id
// (docs/billing.md, "Flushes"; found by probing: it was a 404), with its
// account's over_quota; an id with neither an app nor usage is a 404.
func TestDeletedAppUsage(t *testing.T) {
	t.Parallel()
	f := newUsageFixture(t)
	f.s.do(t, http.MethodDelete, "/admin/v1/apps/"+f.app2.ID, nil).want(t, http.StatusNoContent, nil)
	rep := decodeUsage(t, f.s.do(t, http.MethodGet, "/admin/v1/apps/"+f.app2.ID+"/usage?from=2026-01-01T10:00:00Z&to=2026-01-01T11:00:00Z", nil))
	if len(rep.Items) != 1 || rep.Totals.MessagesPublished != 4 || rep.Limits != nil {
		t.Errorf("deleted app's usage = %+v; want its 4 messages published, no limits", rep)
	}
	f.s.do(t, http.MethodGet, "/admin/v1/apps/never-was/usage", nil).wantError(t, http.StatusNotFound, "not_found", "")
}
