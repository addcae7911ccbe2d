package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
)

func TestCheckJSONText(t *testing.T) {
	cases := []struct {
		body  string
		field string // of the error; "-" for none
	}{
		{`{"name":"Acme"}`, "-"},
		{`{"name":"café ✓ 😀"}`, "-"},
		{`{"name":"caf\u00e9 \ud83d\ude00 \uD83D\uDE00"}`, "-"},
		{`{"name":"\ufffd is a real character"}`, "-"},
		{`{"name":"\\u0000 is a backslash and text"}`, "-"},
		{`{"name":"\\\"\u0041\/\b\f\n\r\t"}`, "-"},
		{`{"a":1,"b":[true,null,{"c":"d"}],"e":{}}`, "-"},
		{`"plain"`, "-"},
		{`{"name":`, "-"}, // syntax is the decoder's to report

		{`{"name":"a\u0000b"}`, "name"},
		{"{\"name\":\"a\xffb\"}", "name"},
		{"{\"name\":\"\xe2\x82\"}", "name"},
		{"{\"name\":\"\xed\xa0\x80\"}", "name"}, // a surrogate encoded in UTF-8
		{`{"name":"\ud800"}`, "name"},
		{`{"name":"\ud800x"}`, "name"},
		{`{"name":"\ud800\u0041"}`, "name"},
		{`{"name":"\ud800\ud800"}`, "name"},
		{`{"name":"\udc00\ud800"}`, "name"},
		{`{"name":"\uDFFF"}`, "name"},
		{`{"name":"\\\u0000"}`, "name"},
		{`{"ok":"x","settings":{"allowed_origins":["https://a.test", "\u0000"]}}`, "settings.allowed_origins[1]"},
		{`{"settings":{"max":1,"allowed_origins":[]},"name":"\u0000"}`, "name"},
		{`[[1,"a"],["\u0000"]]`, "[1][0]"},
		{`{"a":[{"b":[{}, {"c":"\u0000"}]}]}`, "a[0].b[1].c"},
		{`{"na\u0000me":"x"}`, ""},
		{`{"settings":{"\ud800":1}}`, "settings"},
		{`"\u0000"`, ""},
	}
	for _, tc := range cases {
		err := checkJSONText([]byte(tc.body))
		if tc.field == "-" {
			if err != nil {
				t.Errorf("checkJSONText(%q) = %v, want nil", tc.body, err)
			}
			continue
		}
		var ce *channels.Error
		if !errors.As(err, &ce) || ce.Code != channels.CodeBadRequest || ce.Field != tc.field || ce.Message == "" {
			t.Errorf("checkJSONText(%q) = %#v, want a bad request naming %q", tc.body, err, tc.field)
		}
	}
}

func TestTextProblem(t *testing.T) {
	for s, want := range map[string]string{
		"": "", "acc_123": "", "café": "", "\ufffd": "",
		"a\x00b": problemNUL, "\xff": problemUTF8, "\xe2\x82": problemUTF8, "\xed\xa0\x80": problemUTF8,
	} {
		if got := textProblem(s); got != want {
			t.Errorf("textProblem(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzCheckJSONText checks checkJSONText against encoding/json: a body it
// passes has only valid UTF-8 and no NUL in any decoded string, and one it
// refuses has a string that is not valid UTF-8, or that decodes with NUL
// or with U+FFFD (which an unpaired surrogate escape decodes to).
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{
		`{"name":"a"}`, `{"name":"a\u0000"}`, `{"s":{"o":["a","\ud800"]}}`, `{"x":"\ud83d\ude00"}`,
		"{\"n\":\"\xff\"}", `["\\u0000"]`, `{"\u0000":1}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkJSONText(body)
		var v any
		if json.Unmarshal(body, &v) != nil {
			return // checkJSONText stops at the syntax error; no panic is all
		}
		var nul, replaced bool
		walkStrings(v, func(s string) {
			nul = nul || strings.IndexByte(s, 0) >= 0
			replaced = replaced || strings.ContainsRune(s, utf8.RuneError)
		})
		if err == nil && (nul || !utf8.Valid(body)) {
			t.Fatalf("checkJSONText(%q) passed a NUL or invalid UTF-8", body)
		}
		if err != nil {
			if !errors.Is(err, channels.ErrBadRequest) {
				t.Fatalf("checkJSONText(%q) = %v, not a bad request", body, err)
			}
			if !nul && !replaced && utf8.Valid(body) {
				t.Fatalf("checkJSONText(%q) = %v for a body without NUL, U+FFFD or invalid UTF-8", body, err)
			}
		}
	})
}

// walkStrings calls fn with every string, keys included, of a value
// decoded by encoding/json.
func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	case map[string]any:
		for k, e := range v {
			fn(k)
			walkStrings(e, fn)
		}
	}
}
