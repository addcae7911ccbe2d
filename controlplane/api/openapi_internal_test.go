package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Paths      map[string]map[string]openAPIOp  `json:"paths"`
	Components struct{ Schemas map[string]any } `json:"components"`
	Security   []map[string][]string            `json:"security"`
}

type openAPIOp struct {
	OperationID string                      `json:"operationId"`
	Security    *[]any                      `json:"security"`
	Parameters  []struct{ Name, In string } `json:"parameters"`
	RequestBody *struct {
		Required bool `json:"required"`
	} `json:"requestBody"`
	Responses map[string]any `json:"responses"`
}

func newTestAPI(tb testing.TB) *API {
	tb.Helper()
	// The document and the route table never reach the store.
	a, err := New(Config{Store: struct{ controlplane.Store }{}})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

func fetchDoc(tb testing.TB, a *API) (openAPIDoc, []byte) {
	tb.Helper()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET openapi.json without a token: %d %s", rec.Code, rec.Body)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		tb.Fatalf("decode document: %v", err)
	}
	return doc, rec.Body.Bytes()
}

// TestOpenAPICoversEveryRoute walks echo's routes and the document both
// ways: every registered route is documented, every documented one is
// registered.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	doc, _ := fetchDoc(t, a)
	if doc.OpenAPI != openAPIVersion {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}

	registered := map[string]bool{}
	for _, r := range a.echo.Routes() {
		p, _ := openAPIPath(r.Path)
		key := strings.ToLower(r.Method) + " " + p
		registered[key] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not in the document", r.Method, r.Path)
		}
	}
	documented := 0
	for p, ops := range doc.Paths {
		for m := range ops {
			documented++
			if !registered[m+" "+p] {
				t.Errorf("documented %s %s is not a route", strings.ToUpper(m), p)
			}
		}
	}
	if documented != len(registered) || documented < 17 {
		t.Errorf("%d documented operations, %d routes", documented, len(registered))
	}
}

func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	t.Parallel()
	doc, raw := fetchDoc(t, newTestAPI(t))

	// Every $ref resolves.
	for _, ref := range refsIn(t, raw) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
	for _, want := range []string{"Account", "App", "Settings", "SettingsPatch", "Key", "NewKey",
		"AdminToken", "AuditEntry", "ErrorBody", "AccountList", "CreateAppRequest", "UpdateAppRequest", "CreatedToken",
		"UsageReport", "UsageItem", "UsageCounts", "ReconcileReport", "ReconcileItem"} {
		if _, ok := doc.Components.Schemas[want]; !ok {
			t.Errorf("schema %s missing", want)
		}
	}
	ids := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", m, p, op.OperationID)
			}
			ids[op.OperationID] = true
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s %s: no error response", m, p)
			}
			// Path parameters are declared.
			for _, seg := range strings.Split(p, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok {
					name = strings.TrimSuffix(name, "}")
					if !slices.ContainsFunc(op.Parameters, func(q struct{ Name, In string }) bool {
						return q.Name == name && q.In == "path"
					}) {
						t.Errorf("%s %s: path parameter %s undeclared", m, p, name)
					}
				}
			}
			public := op.Security != nil && len(*op.Security) == 0
			if public != (p == "/admin/v1/openapi.json") {
				t.Errorf("%s %s: public = %v", m, p, public)
			}
		}
	}
	// The usage routes also answer CSV, and their counters are flattened
	// as encoding/json writes them.
	if !strings.Contains(string(raw), `"text/csv"`) {
		t.Error("no route answers text/csv")
	}
	usage, _ := doc.Components.Schemas["UsageCounts"].(map[string]any)
	if props, _ := usage["properties"].(map[string]any); len(props) != 12 || props["peak_connections"] == nil || props["over_quota"] == nil {
		t.Errorf("UsageCounts properties = %v", props)
	}
	// The settings schema follows channels.Settings.
	settings, _ := doc.Components.Schemas["Settings"].(map[string]any)
	props, _ := settings["properties"].(map[string]any)
	if _, ok := props["max_connections"]; !ok || len(props) < 12 {
		t.Errorf("Settings properties = %v", props)
	}
}

// refsIn lists every "$ref" value in a JSON document.
func refsIn(tb testing.TB, raw []byte) []string {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	if len(refs) == 0 {
		tb.Fatal("document has no $ref at all")
	}
	return refs
}

// TestOpenAPIDebugStream checks that the debug stream is documented as
// Server-Sent Events whose data lines are debug events.
func TestOpenAPIDebugStream(t *testing.T) {
	t.Parallel()
	doc, _ := fetchDoc(t, newTestAPI(t))
	op, ok := doc.Paths["/admin/v1/apps/{id}/debug/events"]["get"]
	if !ok || op.OperationID != "streamAppDebugEvents" || op.Security != nil {
		t.Fatalf("debug stream operation %+v", op)
	}
	ok200, _ := op.Responses["200"].(map[string]any)
	content, _ := ok200["content"].(map[string]any)
	sse, _ := content[mimeEventStream].(map[string]any)
	event, _ := sse["x-event-schema"].(map[string]any)
	if len(content) != 1 || sse == nil || event["$ref"] == nil {
		t.Fatalf("200 content %v", content)
	}
	if _, ok := doc.Components.Schemas["DebugEvent"]; !ok {
		t.Fatalf("no DebugEvent schema in %v", doc.Components.Schemas)
	}
}
