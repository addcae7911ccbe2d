package billing

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func TestJSONInteger(t *testing.T) {
	t.Parallel()
	for num, want := range map[string]struct {
		n        string // "" for nil
		integral bool
	}{
		"0":                       {"0", true},
		"-0":                      {"0", true},
		"0.000e-7":                {"0", true},
		"42":                      {"42", true},
		"-42":                     {"-42", true},
		"1e15":                    {"1000000000000000", true},
		"1E+3":                    {"1000", true},
		"1.0":                     {"1", true},
		"2.50e1":                  {"25", true},
		"1024000e-3":              {"1024", true},
		"1.5":                     {"", false},
		"1e-1":                    {"", false},
		"9223372036854775808":     {"9223372036854775808", true},
		"9999999999999999999":     {"9999999999999999999", true},
		"10000000000000000000":    {"", true},
		"1e999999999":             {"", true},
		"1e99999999999999999999":  {"", true},
		"1e-99999999999999999999": {"", false},
		"0e99999999999999999999":  {"0", true},
		"-1e3":                    {"-1000", true},
	} {
		n, integral := jsonInteger(num)
		got := ""
		if n != nil {
			got = n.String()
		}
		if got != want.n || integral != want.integral {
			t.Errorf("jsonInteger(%s) = %s, %v; want %s, %v", num, got, integral, want.n, want.integral)
		}
	}
}

// FuzzJSONInteger: whatever valid JSON number a limit is, jsonInteger
// agrees with exact rational arithmetic where that is cheap (a small
// exponent), and never computes a value past maxIntegerDigits digits.
func FuzzJSONInteger(f *testing.F) {
	for _, s := range []string{"0", "1e15", "1.0", "-7", "1.5", "9223372036854775808", "1e999999999", "12.340e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, num string) {
		var x json.Number
		if json.Unmarshal([]byte(num), &x) != nil || string(x) != num || num == "" || !json.Valid([]byte(num)) {
			return
		}
		n, integral := jsonInteger(num)
		if n != nil && len(strings.TrimPrefix(n.String(), "-")) > maxIntegerDigits {
			t.Fatalf("jsonInteger(%s) computed %s", num, n)
		}
		if i := strings.IndexAny(num, "eE"); i >= 0 && len(num)-i > 4 {
			return // a big exponent: big.Rat would compute it
		}
		q, ok := new(big.Rat).SetString(num)
		if !ok {
			t.Fatalf("big.Rat refused %s", num)
		}
		if q.IsInt() != integral {
			t.Fatalf("jsonInteger(%s) integral %v; big.Rat says %v", num, integral, q.IsInt())
		}
		if n != nil && q.Num().Cmp(n) != 0 {
			t.Fatalf("jsonInteger(%s) = %s; want %s", num, n, q.Num())
		}
		if n == nil && integral && len(q.Num().String()) <= maxIntegerDigits {
			t.Fatalf("jsonInteger(%s) gave up on %s", num, q.Num())
		}
	})
}
