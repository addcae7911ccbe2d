package postgres

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
)

// listCursors are the shapes of every list the store pages, by list.
var listCursors = map[string]cursorShape{
	"accounts":           accountsCursor,
	"apps":               appsCursor,
	"plans":              plansCursor,
	"audit":              auditCursor,
	"webhook deliveries": deliveriesCursor,
}

// TestDecodeCursor: every list decodes the cursors it issues and answers
// anything else with the 400 naming cursor, never with a value that would
// reach SQL (invalid UTF-8 there was a 500).
func TestDecodeCursor(t *testing.T) {
	t.Parallel()
	bad := []struct{ name, cursor string }{
		// Found by probing: they decode to invalid UTF-8.
		{"garbage", "garbage"},
		{"AAAA (NULs)", "AAAA"},
		{"_w (0xff)", "_w"},
		{"zzzz", "zzzz"},
		{"not base64", "!!not-a-cursor"},
		{"padded", encodeCursor(appsCursor, "app") + "="},
		{"standard alphabet", "+/8"},
		{"one symbol", "a"},
		{"non-canonical last symbol", "_x"},        // decodes to 0xff as _w does
		{"non-canonical spelling of an id", "YWJ"}, // "ab" is YWI
		{"no list", base64.RawURLEncoding.EncodeToString([]byte("abc"))},
		{"empty value", "%s:"},
		{"NUL", "%s:a\x00b"},
		{"space", "%s:a b"},
		{"valid UTF-8, not an id", "%s:é"},
		{"too long", "%s:" + strings.Repeat("a", channels.MaxAppIDLen+1)},
		{"surrogate bytes", "%s:\xed\xa0\x80"},
	}
	for list, shape := range listCursors {
		for _, tt := range bad {
			t.Run(list+"/"+tt.name, func(t *testing.T) {
				c := tt.cursor
				if strings.HasPrefix(c, "%s:") {
					c = base64.RawURLEncoding.EncodeToString([]byte(shape.list + strings.TrimPrefix(c, "%s")))
				}
				got, err := decodeCursor(c, shape)
				var de *channels.Error
				if !errors.As(err, &de) || de.Code != channels.CodeBadRequest || de.Field != "cursor" {
					t.Fatalf("decodeCursor(%q) = %q, %v; want a 400 naming cursor", c, got, err)
				}
			})
		}
	}

	tests := []struct {
		name, after string
		ids, seqs   bool // whether id lists, serial lists take it
	}{
		{"generated account id", "acc_abcdefghijklmnop", true, false},
		{"caller-chosen app id", "my-App_1", true, false},
		{"decoded YWJj", "abc", true, false},
		{"longest id", strings.Repeat("a", channels.MaxAppIDLen), true, false},
		{"serial", "42", true, true},
		{"largest serial", "9223372036854775807", true, true},
		{"serial 0", "0", true, false},
		{"negative serial", "-1", true, false},
		{"leading zero", "042", true, false},
		{"plus sign", "+42", false, false},
		{"serial overflow", "9223372036854775808", true, false},
	}
	for _, tt := range tests {
		for list, shape := range listCursors {
			want := tt.ids
			if list == "audit" || list == "webhook deliveries" {
				want = tt.seqs
			}
			c := encodeCursor(shape, tt.after)
			got, err := decodeCursor(c, shape)
			switch {
			case want && (err != nil || got != tt.after):
				t.Errorf("%s: %s: decodeCursor(%q) = %q, %v; want %q", list, tt.name, c, got, err, tt.after)
			case !want && err == nil:
				t.Errorf("%s: %s: decodeCursor(%q) = %q, want an error", list, tt.name, c, got)
			}
		}
	}
	for list, shape := range listCursors {
		if got, err := decodeCursor("", shape); got != "" || err != nil {
			t.Errorf("%s: no cursor = %q, %v; want the first page", list, got, err)
		}
	}
}

// TestForeignCursorRefused: a list refuses the cursors of every other
// list, even where the value would fit its shape (an account id is a
// fine plan id; found by probing: /plans took an accounts cursor).
func TestForeignCursorRefused(t *testing.T) {
	t.Parallel()
	for from, fromShape := range listCursors {
		c := encodeCursor(fromShape, "42")
		for to, toShape := range listCursors {
			got, err := decodeCursor(c, toShape)
			switch {
			case from == to && (err != nil || got != "42"):
				t.Errorf("%s's own cursor: %q, %v", to, got, err)
			case from != to && err == nil:
				t.Errorf("%s took a cursor of %s: %q", to, from, got)
			}
		}
	}
}

func TestPageSeq(t *testing.T) {
	t.Parallel()
	for after, want := range map[string]int64{"": 0, "1": 1, "9223372036854775807": 1<<63 - 1} {
		if got := (pageArgs{after: after}).seq(); got != want {
			t.Errorf("seq of %q = %d, want %d", after, got, want)
		}
	}
}

// FuzzDecodeCursor: whatever a caller sends as a cursor is refused or
// decodes to a value of the list's shape, valid UTF-8 without NUL, that
// encodes back to the same cursor. The seed corpus is in
// testdata/fuzz/FuzzDecodeCursor.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"garbage", "AAAA", "_w", "zzzz", "YWJj", "NDI", "", encodeCursor(accountsCursor, "acc_x")} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, c string, seq bool) {
		shape := accountsCursor
		if seq {
			shape = auditCursor
		}
		after, err := decodeCursor(c, shape)
		if err != nil {
			return
		}
		if c == "" {
			if after != "" {
				t.Fatalf("no cursor decoded to %q", after)
			}
			return
		}
		if !utf8.ValidString(after) || strings.IndexByte(after, 0) >= 0 || !shape.valid(after) {
			t.Fatalf("decodeCursor(%q) accepted %q", c, after)
		}
		if back := encodeCursor(shape, after); back != c {
			t.Fatalf("decodeCursor(%q) = %q, which encodes to %q", c, after, back)
		}
	})
}
