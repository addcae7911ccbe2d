package e2e_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

// openAPIParam matches a path parameter of the admin API's document.
var openAPIParam = regexp.MustCompile(`\{[a-z_]+\}`)

// adminOperations lists every operation of the admin API's OpenAPI
// document (built from the route table that registers the handlers) as
// "METHOD /path", path parameters filled in with the demo app's ids so
// that a route that wrongly accepted a credential would find something.
func adminOperations(t *testing.T, h *testenv.HeraldEnv) []string {
	t.Helper()
	res, err := http.Get(h.URL() + "/admin/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, methods := range doc.Paths {
		if strings.HasSuffix(path, "/openapi.json") {
			continue // public on purpose: the document itself
		}
		filled := openAPIParam.ReplaceAllStringFunc(path, func(p string) string {
			if p == "{key}" {
				return testenv.AppKey
			}
			return testenv.AppID
		})
		for m := range methods {
			ops = append(ops, strings.ToUpper(m)+" "+filled)
		}
	}
	sort.Strings(ops)
	return ops
}

// TestSecurityAdminRefusesTenantCredentials: no tenant credential opens
// the admin API (which the web console calls): the app key and secret as
// a Pusher-signed request, as Basic auth or as a bearer, a tenant token
// and a platform token the control plane issued to the app are all
// answered 401 on every admin operation, and the route families are all
// in the document.
func TestSecurityAdminRefusesTenantCredentials(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	caps := channels.Capabilities{"*": {channels.OpSubscribe, channels.OpPublish, channels.OpHistory, channels.OpPresence}}
	tenant := tenantToken(t, testenv.AppKey, testenv.AppSecret, testenv.AppID, "u", time.Hour, caps)
	code, resp := testenv.SignedRequest(t, "POST", h.URL(), "/apps/"+testenv.AppID+"/tokens", testenv.AppKey, testenv.AppSecret, nil,
		[]byte(`{"user_id":"u","capabilities":{"*":["subscribe","publish","history","presence"]}}`))
	if code != http.StatusOK {
		t.Fatalf("platform token = %d: %s", code, resp)
	}
	var issued struct{ Token string }
	if err := json.Unmarshal(resp, &issued); err != nil || issued.Token == "" {
		t.Fatalf("platform token answer %s: %v", resp, err)
	}
	basicAuth := func(r *http.Request) { r.SetBasicAuth(testenv.AppKey, testenv.AppSecret) }
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	credentials := map[string]func(*http.Request){
		"basic key:secret": basicAuth,
		"bearer secret":    bearer(testenv.AppSecret),
		"bearer key":       bearer(testenv.AppKey),
		"tenant token":     bearer(tenant),
		"platform token":   bearer(issued.Token),
	}

	ops := adminOperations(t, h)
	for _, family := range []string{"/accounts", "/plans", "/apps", "/keys", "/tokens", "/signing-keys", "/usage", "/debug", "/audit", "/webhooks"} {
		if !strings.Contains(strings.Join(ops, "\n"), family) {
			t.Errorf("the admin API document has no %s route: the test would not cover it", family)
		}
	}
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		t.Run(op, func(t *testing.T) {
			// Signed the Pusher way over the admin path, as the tenant API
			// would verify it.
			code, body := testenv.SignedRequest(t, method, h.URL(), path, testenv.AppKey, testenv.AppSecret, nil, []byte(`{}`))
			if code != http.StatusUnauthorized {
				t.Errorf("app-signed request = %d, want 401: %s", code, body)
			}
			for name, set := range credentials {
				req, err := http.NewRequest(method, h.URL()+path, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				set(req)
				if code, body := testenv.Do(t, http.DefaultClient, req); code != http.StatusUnauthorized {
					t.Errorf("%s = %d, want 401: %s", name, code, body)
				}
			}
		})
	}
}
