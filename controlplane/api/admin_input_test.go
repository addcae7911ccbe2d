package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

// badStrings are the contents of a JSON string literal that no admin
// string field takes: PostgreSQL text cannot hold NUL nor invalid UTF-8,
// and encoding/json would silently turn the last three into U+FFFD.
var badStrings = []struct{ name, literal string }{
	{"NUL escape", `a\u0000b`},
	{"invalid UTF-8", "a\xffb"},
	{"truncated UTF-8", "a\xe2\x82"},
	{"lone high surrogate", `a\ud800b`},
	{"lone low surrogate", `\udc00`},
}

// TestAdminBodyStringsAreChecked sends every string field of every admin
// request body with each of badStrings (a 400 naming the field, nothing
// stored) and with a valid value (accepted).
func TestAdminBodyStringsAreChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	acct := s.account(t, "a")
	app := s.app(t, acct.ID, "web", nil)
	appPath := "/admin/v1/apps/" + app.ID
	var hook controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, appPath+"/webhooks", `{"url":"https://93.184.215.14/"}`).want(t, http.StatusCreated, &hook)
	hookPath := appPath + "/webhooks/" + hook.ID
	const hookURL = `"url":"https://93.184.215.14/"`
	var opHook controlplane.WebhookEndpoint
	s.do(t, http.MethodPost, "/admin/v1/operator/webhooks", `{`+hookURL+`}`).want(t, http.StatusCreated, &opHook)
	opHookPath := "/admin/v1/operator/webhooks/" + opHook.ID
	// body is a JSON template: %s is the content of the literal under
	// test. valid is a content the field takes.
	tests := []struct {
		method, path, body, field, valid string
		status                           int
	}{
		{http.MethodPost, "/admin/v1/accounts", `{"name":"%s"}`, "name", "Acme ✓", http.StatusCreated},
		{http.MethodPost, "/admin/v1/apps", `{"account_id":"%s","name":"x"}`, "account_id", acct.ID, http.StatusCreated},
		{http.MethodPost, "/admin/v1/apps", `{"account_id":"` + acct.ID + `","name":"%s"}`, "name", `caf\u00e9 \ud83d\ude00`, http.StatusCreated},
		{http.MethodPost, "/admin/v1/apps", `{"account_id":"` + acct.ID + `","name":"x","id":"%s"}`, "id", "imported-app", http.StatusCreated},
		{http.MethodPost, "/admin/v1/apps",
			`{"account_id":"` + acct.ID + `","name":"x","settings":{"allowed_origins":["https://a.test","%s"]}}`,
			"settings.allowed_origins[1]", "https://b.test", http.StatusCreated},
		{http.MethodPatch, appPath, `{"name":"%s"}`, "name", "renamed", http.StatusOK},
		{http.MethodPatch, appPath, `{"settings":{"allowed_origins":["%s"]}}`,
			"settings.allowed_origins[0]", "https://c.test", http.StatusOK},
		{http.MethodPost, appPath + "/keys", `{"key":"%s"}`, "key", "imported-key", http.StatusCreated},
		{http.MethodPost, appPath + "/keys", `{"secret":"%s"}`, "secret", "imported-secret", http.StatusCreated},
		{http.MethodPost, "/admin/v1/tokens", `{"name":"%s"}`, "name", "ci", http.StatusCreated},
		{http.MethodPost, "/admin/v1/plans", `{"name":"%s","enforcement":"soft"}`, "name", "Plan ✓", http.StatusCreated},
		{http.MethodPost, "/admin/v1/plans", `{"name":"e","enforcement":"%s"}`, "enforcement", "hard", http.StatusCreated},
		{http.MethodPost, "/admin/v1/plans", `{"id":"%s","name":"i","enforcement":"soft"}`, "id", "imported-plan", http.StatusCreated},
		{http.MethodPatch, "/admin/v1/plans/imported-plan", `{"name":"%s"}`, "name", "renamed plan", http.StatusOK},
		{http.MethodPatch, "/admin/v1/plans/imported-plan", `{"enforcement":"%s"}`, "enforcement", "hard", http.StatusOK},
		{http.MethodPatch, "/admin/v1/accounts/" + acct.ID, `{"plan_id":"%s"}`, "plan_id", "imported-plan", http.StatusOK},
		{http.MethodPost, appPath + "/webhooks", `{"url":"%s"}`, "url", "https://93.184.215.14/h", http.StatusCreated},
		{http.MethodPost, appPath + "/webhooks", `{` + hookURL + `,"events":["channel_occupied","%s"]}`, "events[1]", "channel_vacated", http.StatusCreated},
		{http.MethodPost, appPath + "/webhooks", `{` + hookURL + `,"channel_filter":"%s"}`, "channel_filter", "private-*", http.StatusCreated},
		{http.MethodPatch, hookPath, `{"url":"%s"}`, "url", "https://93.184.215.14/p", http.StatusOK},
		{http.MethodPatch, hookPath, `{"events":["%s"]}`, "events[0]", "member_added", http.StatusOK},
		{http.MethodPatch, hookPath, `{"channel_filter":"%s"}`, "channel_filter", "presence-*", http.StatusOK},
		{http.MethodPost, "/admin/v1/operator/webhooks", `{"url":"%s"}`, "url", "https://93.184.215.14/o", http.StatusCreated},
		{http.MethodPost, "/admin/v1/operator/webhooks", `{` + hookURL + `,"events":["quota_warning","%s"]}`, "events[1]", "quota_exceeded", http.StatusCreated},
		{http.MethodPatch, opHookPath, `{"url":"%s"}`, "url", "https://93.184.215.14/op", http.StatusOK},
		{http.MethodPatch, opHookPath, `{"events":["%s"]}`, "events[0]", "quota_warning", http.StatusOK},
	}
	for _, tt := range tests {
		name := tt.method + " " + strings.ReplaceAll(tt.path, app.ID, "{id}") + " " + tt.field
		t.Run(name, func(t *testing.T) {
			for _, bad := range badStrings {
				r := s.do(t, tt.method, tt.path, fmt.Sprintf(tt.body, bad.literal))
				if r.status != http.StatusBadRequest {
					t.Errorf("%s: status = %d, want 400; body: %s", bad.name, r.status, r.body)
					continue
				}
				r.wantError(t, http.StatusBadRequest, "bad_request", tt.field)
			}
			s.do(t, tt.method, tt.path, fmt.Sprintf(tt.body, tt.valid)).want(t, tt.status, nil)
		})
	}
	// Only the valid requests were stored: two accounts, the fixture app
	// and the four valid creations.
	var accounts list[controlplane.Account]
	s.do(t, http.MethodGet, "/admin/v1/accounts", nil).want(t, http.StatusOK, &accounts)
	var apps list[controlplane.App]
	s.do(t, http.MethodGet, "/admin/v1/apps", nil).want(t, http.StatusOK, &apps)
	if len(accounts.Items) != 2 || len(apps.Items) != 5 {
		t.Errorf("%d accounts and %d apps stored, want 2 and 5", len(accounts.Items), len(apps.Items))
	}
}

// TestAdminBodyStringFieldsAreAllTested keeps the table above complete: it
// lists every string property of every admin request schema, so a new
// string field fails here until it has a case.
func TestAdminBodyStringFieldsAreAllTested(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	s.do(t, http.MethodGet, "/admin/v1/openapi.json", nil).want(t, http.StatusOK, &doc)
	type prop struct {
		Type  string `json:"type"`
		Ref   string `json:"$ref"`
		Items *prop  `json:"items"`
		AllOf []prop `json:"allOf"`
	}
	type schema struct {
		Properties map[string]prop `json:"properties"`
	}
	var walk func(prefix string, name string) []string
	walk = func(prefix, name string) []string {
		var sc schema
		if err := json.Unmarshal(doc.Components.Schemas[name], &sc); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		var out []string
		for field, p := range sc.Properties {
			path := prefix + field
			for len(p.AllOf) == 1 {
				p = p.AllOf[0]
			}
			switch {
			case p.Ref != "":
				out = append(out, walk(path+".", strings.TrimPrefix(p.Ref, "#/components/schemas/"))...)
			case p.Type == "string":
				out = append(out, path)
			case p.Type == "array" && p.Items != nil && p.Items.Type == "string":
				out = append(out, path+"[]")
			}
		}
		return out
	}
	var got []string
	for name := range doc.Components.Schemas {
		if strings.HasSuffix(name, "Request") {
			for _, f := range walk("", name) {
				got = append(got, name+"."+f)
			}
		}
	}
	slices.Sort(got)
	want := []string{
		"CreateAccountRequest.name",
		"CreateAppRequest.account_id", "CreateAppRequest.id", "CreateAppRequest.name",
		"CreateAppRequest.settings.allowed_origins[]",
		"CreateKeyRequest.key", "CreateKeyRequest.secret",
		"CreateOperatorWebhookRequest.events[]", "CreateOperatorWebhookRequest.url",
		"CreatePlanRequest.enforcement", "CreatePlanRequest.id", "CreatePlanRequest.name",
		"CreateTokenRequest.name",
		"CreateWebhookRequest.channel_filter", "CreateWebhookRequest.events[]", "CreateWebhookRequest.url",
		"UpdateAccountRequest.plan_id", "UpdateAppRequest.name", "UpdateAppRequest.settings.allowed_origins[]",
		"UpdateOperatorWebhookRequest.events[]", "UpdateOperatorWebhookRequest.url",
		"UpdatePlanRequest.enforcement", "UpdatePlanRequest.name", "UpdateWebhookRequest.channel_filter",
		"UpdateWebhookRequest.events[]", "UpdateWebhookRequest.url",
	}
	if !slices.Equal(got, want) {
		t.Errorf("string fields of the admin request bodies = %v;\nTestAdminBodyStringsAreChecked covers %v: add the new ones there and here", got, want)
	}
}

// TestAdminParamsAreChecked tries every path and query parameter of every
// admin route, as the OpenAPI document lists them, with NUL and invalid
// UTF-8: each is a 400 naming the parameter.
func TestAdminParamsAreChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
		} `json:"paths"`
	}
	s.do(t, http.MethodGet, "/admin/v1/openapi.json", nil).want(t, http.StatusOK, &doc)
	// Escaped the canonical way, so that the server decodes them into
	// the path rather than keeping the raw form.
	bad := []string{"%00", "a%00b", "%FF", "a%E2%82"}
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	params := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				params++
				for _, v := range bad {
					target := path
					switch p.In {
					case "path":
						target = strings.Replace(target, "{"+p.Name+"}", v, 1)
					case "query":
						target += "?" + p.Name + "=" + v
					default:
						t.Fatalf("%s %s: parameter %s in %s", method, path, p.Name, p.In)
					}
					target = placeholder.ReplaceAllString(target, "fixture")
					m := strings.ToUpper(method)
					t.Run(m+" "+target, func(t *testing.T) {
						s.do(t, m, target, nil).wantError(t, http.StatusBadRequest, "bad_request", p.Name)
					})
				}
			}
		}
	}
	// 12 path parameters on 11 operations, 13 query parameters on 6
	// lists: fewer means the walk above missed some.
	if params < 25 {
		t.Errorf("tried %d parameters, want at least 25", params)
	}
}
