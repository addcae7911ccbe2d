package channels_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
)

func TestParseUserID(t *testing.T) {
	long := strings.Repeat("é", channels.MaxUserIDLen)
	for _, tc := range []struct {
		raw  string
		want string
		err  error
	}{
		{`"alice"`, "alice", nil},
		{`"1"`, "1", nil},
		{`1`, "1", nil},
		{` 42 `, "42", nil},
		{`-7`, "-7", nil},
		{`-0`, "0", nil},
		{`0`, "0", nil},
		// Beyond 2^64: kept exactly as written, never rounded.
		{`123456789012345678901234567890`, "123456789012345678901234567890", nil},
		{`"` + long + `"`, long, nil},
		{`"` + long + `é"`, "", channels.ErrUserIDTooLong},
		{strings.Repeat("9", channels.MaxUserIDLen+1), "", channels.ErrUserIDTooLong},
		{`1.5`, "", channels.ErrUserIDInvalid},
		{`1.0`, "", channels.ErrUserIDInvalid},
		{`1e3`, "", channels.ErrUserIDInvalid},
		{`1E+3`, "", channels.ErrUserIDInvalid},
		{`01`, "", channels.ErrUserIDInvalid},
		{`-`, "", channels.ErrUserIDInvalid},
		{`""`, "", channels.ErrUserIDInvalid},
		{`null`, "", channels.ErrUserIDInvalid},
		{`true`, "", channels.ErrUserIDInvalid},
		{`false`, "", channels.ErrUserIDInvalid},
		{`{"id":1}`, "", channels.ErrUserIDInvalid},
		{`[1]`, "", channels.ErrUserIDInvalid},
		{``, "", channels.ErrUserIDInvalid},
		{`"unterminated`, "", channels.ErrUserIDInvalid},
	} {
		got, err := channels.ParseUserID([]byte(tc.raw))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseUserID(%s) = %q, %v; want %q, %v", tc.raw, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseUserID(f *testing.F) {
	for _, s := range []string{`"alice"`, `1`, `-0`, `-12`, `1.5`, `1e3`, `null`, `{}`, `"\ud800"`, `01`, `""`, ` 7 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, err := channels.ParseUserID(raw)
		if err != nil {
			if id != "" {
				t.Fatalf("refused %q but returned %q", raw, id)
			}
			return
		}
		if id == "" || utf8.RuneCountInString(id) > channels.MaxUserIDLen {
			t.Fatalf("accepted %q as %q", raw, id)
		}
		// Whatever was accepted is the same user as its string form.
		quoted, _ := json.Marshal(id)
		if again, err := channels.ParseUserID(quoted); err != nil || again != id {
			t.Fatalf("%q -> %q -> %s -> %q, %v", raw, id, quoted, again, err)
		}
	})
}
