package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
)

func TestParseInfo(t *testing.T) {
	all := []string{attrUserCount, attrSubscriptionCount, attrCache}
	cases := []struct {
		in      string
		allowed []string
		want    infoAttrs
		bad     bool
	}{
		{"", all, infoAttrs{}, false},
		{"user_count", all, infoAttrs{userCount: true}, false},
		{"user_count,subscription_count", all, infoAttrs{userCount: true, subscriptionCount: true}, false},
		{" subscription_count , cache ,", all, infoAttrs{subscriptionCount: true, cache: true}, false},
		{",,", all, infoAttrs{}, false},
		{"cache", []string{attrUserCount, attrSubscriptionCount}, infoAttrs{}, true},
		{"usercount", all, infoAttrs{}, true},
		{"USER_COUNT", all, infoAttrs{}, true},
		{strings.Repeat("user_count,", 30), all, infoAttrs{}, true},
	}
	for _, tc := range cases {
		got, err := parseInfo(tc.in, tc.allowed...)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("parseInfo(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, channels.ErrBadRequest) {
			t.Errorf("parseInfo(%q) error %v is not a bad request", tc.in, err)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	cases := []struct {
		body  string
		items int
		field string // of the error; "-" for none
	}{
		{`{"batch":[{"name":"e","data":"d","channel":"c"}]}`, 1, "-"},
		{`{"batch":[{},{},{}],"extra":1}`, 3, "-"},
		{`{"batch":[]}`, 0, "batch"},
		{`{}`, 0, "batch"},
		{`{"batch":[{},{},{},{},{},{},{},{},{},{},{}]}`, 0, "batch"},
		{`{"batch":{}}`, 0, "batch"},
		{`{"batch":[{"data":{}}]}`, 0, "batch[0].data"},
		{`{"batch":[{},{"data":1}]}`, 0, "batch[1].data"},
		{`{"batch":[1]}`, 0, "batch[0]"},
		{`{"batch":[{},"x"]}`, 0, "batch[1]"},
		{`{"batch":[{"data":"\ud800"}]}`, 0, "batch[0].data"},
		{"{\"batch\":[{},{\"data\":\"\xff\"}]}", 0, "batch[1].data"},
		{`{"batch":[{"data":"\ud83d\ude00 é"}]}`, 1, "-"},
		{`{"batch":[{"data":"a\u0000b"}]}`, 1, "-"}, // data is bytes: NUL is fine
		{`[]`, 0, ""},
		{`{`, 0, ""},
	}
	for _, tc := range cases {
		items, err := decodeBatch([]byte(tc.body), DefaultMaxBatchEvents)
		if tc.field == "-" {
			if err != nil || len(items) != tc.items {
				t.Errorf("decodeBatch(%s) = %d items, %v", tc.body, len(items), err)
			}
			continue
		}
		var ce *channels.Error
		if !errors.As(err, &ce) || ce.Code != channels.CodeBadRequest || ce.Field != tc.field {
			t.Errorf("decodeBatch(%s) error = %#v, want field %q", tc.body, err, tc.field)
		}
	}
}

// FuzzParseInfo checks that any info parameter parses or is a bad
// request, and that only allowed attributes come out.
func FuzzParseInfo(f *testing.F) {
	for _, s := range []string{"", "user_count", "user_count,subscription_count", " cache ,", ",,,", "x\x00y", "user_count,cache"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseInfo(s, attrUserCount, attrSubscriptionCount)
		if err != nil {
			if !errors.Is(err, channels.ErrBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if got.cache {
			t.Fatalf("parseInfo(%q) allowed cache", s)
		}
	})
}

// FuzzDecodeBatch checks that any body decodes into 1 to max items or is
// a bad request, never a panic or another error.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`{"batch":[{"name":"e","data":"d","channel":"c","info":"user_count"}]}`,
		`{"batch":[{"name":"e","data":"d","channel":"c","idempotency_key":"k","socket_id":"1.2"}]}`,
		`{"batch":[]}`, `{"batch":null}`, `{"batch":[1]}`, `{`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := decodeBatch(body, DefaultMaxBatchEvents)
		if err != nil {
			if !errors.Is(err, channels.ErrBadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		if len(items) == 0 || len(items) > DefaultMaxBatchEvents {
			t.Fatalf("%d items accepted", len(items))
		}
	})
}

func TestTriggerKey(t *testing.T) {
	long := strings.Repeat("k", maxIdempotencyKey+1)
	cases := []struct {
		body, header, want string
		field              string // of the error; "" for none
	}{
		{"", "", "", ""},
		{"", "h", "h", ""},
		{"b", "", "b", ""},
		{"same", "same", "same", ""},
		{"b", "h", "", fieldIdempotencyKey},
		{long, "", "", fieldIdempotencyKey},
		{"a\nb", "", "", fieldIdempotencyKey},
	}
	for _, tc := range cases {
		got, err := triggerKey(tc.body, tc.header)
		var ce *channels.Error
		if tc.field == "" {
			if err != nil || got != tc.want {
				t.Errorf("triggerKey(%q, %q) = %q, %v", tc.body, tc.header, got, err)
			}
		} else if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("triggerKey(%q, %q) error = %v, want field %q", tc.body, tc.header, err, tc.field)
		}
	}
}
