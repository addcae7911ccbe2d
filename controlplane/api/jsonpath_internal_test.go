package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

// pathTestBody exercises what request bodies hold: nested structs behind
// pointers, lists of strings and of structs, maps, embedded fields, a type
// that decodes itself.
type pathTestBody struct {
	Name     string            `json:"name"`
	Settings *pathTestSettings `json:"settings,omitempty"`
	Hooks    []pathTestHook    `json:"hooks"`
	Headers  map[string]string `json:"headers"`
	Grid     [][]int           `json:"grid"`
	Raw      nullableString    `json:"raw"`
	Free     any               `json:"free"`
	pathTestEmbedded
}

type pathTestSettings struct {
	Origins *[]string `json:"allowed_origins,omitempty"`
	Max     *int      `json:"max_connections,omitempty"`
}

type pathTestHook struct {
	URL     string               `json:"url"`
	Filters map[string][]float64 `json:"filters"`
}

type pathTestEmbedded struct {
	Extra bool `json:"extra"`
}

// TestBodyErrorNamesThePath: a wrong type or an unknown field is named by
// its whole path, array indexes included, as the README promises.
func TestBodyErrorNamesThePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, field string }{
		{`{"bogus":1}`, "bogus"},
		{`{"settings":{"bogus":1}}`, "settings.bogus"},
		{`{"settings":{"max_connections":1,"bogus":1}}`, "settings.bogus"},
		{`{"name":"x","settings":{"allowed_origins":["https://a.example",3]}}`, "settings.allowed_origins[1]"},
		{`{"settings":{"allowed_origins":[{}]}}`, "settings.allowed_origins[0]"},
		{`{"settings":{"allowed_origins":{}}}`, "settings.allowed_origins"},
		{`{"settings":{"allowed_origins":"x"}}`, "settings.allowed_origins"},
		{`{"settings":{"max_connections":"many"}}`, "settings.max_connections"},
		{`{"settings":[]}`, "settings"},
		{`{"hooks":[{"url":"a"},{"url":1}]}`, "hooks[1].url"},
		{`{"hooks":[{"url":"a"},{"bogus":1}]}`, "hooks[1].bogus"},
		{`{"hooks":[{"filters":{"a":[1,"x"]}}]}`, "hooks[0].filters.a[1]"},
		{`{"headers":{"a":"b","c":2}}`, "headers.c"},
		{`{"grid":[[1],[2,"x"]]}`, "grid[1][1]"},
		{`{"extra":"yes"}`, "extra"},
		// A known key of one object does not hide an unknown key of the
		// same name elsewhere; a key matching a field ignoring case is
		// known, as encoding/json reads it.
		{`{"name":"x","settings":{"name":1}}`, "settings.name"},
		{`{"NAME":"x","Settings":{"MAX_CONNECTIONS":1,"url":1}}`, "Settings.url"},
		{`{"free":{"anything":[1]},"hooks":[{"URL":"a","name":1}]}`, "hooks[0].name"},
		// Duplicated values end at different offsets.
		{`{"hooks":[{"url":1},{"url":1}]}`, "hooks[0].url"},
		{`{"name" : "x" , "settings" : { "max_connections" : true }}`, "settings.max_connections"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var dst pathTestBody
			dec := json.NewDecoder(strings.NewReader(tt.body))
			dec.DisallowUnknownFields()
			err := dec.Decode(&dst)
			if err == nil {
				t.Fatal("decoded without error")
			}
			got := (&API{}).bodyError(err, []byte(tt.body), reflect.TypeOf(&dst))
			var ce *channels.Error
			if !errors.As(got, &ce) || ce.Code != channels.CodeBadRequest || ce.Field != tt.field ||
				!strings.Contains(ce.Message, tt.field) {
				t.Fatalf("bodyError = %#v, want a 400 naming %q", got, tt.field)
			}
		})
	}
}

func TestJSONPathString(t *testing.T) {
	t.Parallel()
	for want, p := range map[string]jsonPath{
		"":                            nil,
		"name":                        {{key: "name"}},
		"[2]":                         {{inArray: true, index: 2}},
		"settings.allowed_origins[2]": {{key: "settings"}, {key: "allowed_origins"}, {inArray: true, index: 2}},
		"a[0][1].b":                   {{key: "a"}, {inArray: true}, {inArray: true, index: 1}, {key: "b"}},
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v = %q, want %q", p, got, want)
		}
	}
}

// FuzzBodyErrorPath: whatever body an admin route gets, locating the
// field at fault neither panics nor names another field than
// encoding/json's: an unknown field ends with its name, and a wrong type
// is at a path that holds encoding/json's (which leaves out indexes and
// map keys) in order. The seed
// corpus is in testdata/fuzz/FuzzBodyErrorPath.
func FuzzBodyErrorPath(f *testing.F) {
	for _, s := range []string{
		`{"settings":{"bogus":1}}`, `{"settings":{"allowed_origins":["a",3]}}`,
		`{"hooks":[{"filters":{"a":[1,"x"]}}]}`, `{"grid":[[1],[2,"x"]]}`, `[1]`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst pathTestBody
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err := dec.Decode(&dst)
		if err == nil {
			return
		}
		got := (&API{}).bodyError(err, body, reflect.TypeOf(&dst))
		var ce *channels.Error
		if !errors.As(got, &ce) || ce.Code != channels.CodeBadRequest {
			t.Fatalf("bodyError(%v) = %v", err, got)
		}
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			if !holdsPath(ce.Field, typeErr.Field) {
				t.Fatalf("%q: field %q, encoding/json's %q", body, ce.Field, typeErr.Field)
			}
		case strings.HasPrefix(err.Error(), `json: unknown field "`):
			name := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
			if ce.Field != name && !strings.HasSuffix(ce.Field, "."+name) {
				t.Fatalf("%q: field %q for unknown %q", body, ce.Field, name)
			}
		}
	})
}

// holdsPath reports whether the steps of json, a path as encoding/json
// writes it, are those of located in order, indexes ignored and case
// too (located names a key as sent, encoding/json by its field's name).
func holdsPath(located, json string) bool {
	var b strings.Builder
	depth := 0
	for _, c := range located {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	steps := strings.Split(b.String(), ".")
	for _, want := range strings.Split(json, ".") {
		i := slices.IndexFunc(steps, func(s string) bool { return strings.EqualFold(s, want) })
		if i < 0 {
			return false
		}
		steps = steps[i+1:]
	}
	return true
}
