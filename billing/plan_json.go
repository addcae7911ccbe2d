package billing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/channels"
)

// UnmarshalJSON reads a limits object as the admin API takes it: every
// limit an integer in whatever JSON notation (1000, 1e3, 1000.0), absent
// or null to leave it. A limit that is no integer is a bad request saying
// so, one that is an integer out of range (past int64 too) says the
// range, and an unknown name is refused: each naming limits.<name>.
func (p *LimitsPatch) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil && !bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return channels.BadRequest("limits", "limits must be an object")
	}
	targets := p.targets()
	bounds := Limits{}.rules()
	// In the rules' order, so that the limit named is the same whatever
	// the object's order.
	for _, r := range bounds {
		v, ok := raw[r.name]
		if !ok {
			continue
		}
		delete(raw, r.name)
		if bytes.Equal(v, []byte("null")) {
			*targets[r.name] = nil
			continue
		}
		n, err := limitValue(r, v)
		if err != nil {
			return err
		}
		*targets[r.name] = &n
	}
	for name := range raw {
		field := "limits." + name
		return channels.BadRequest(field, fmt.Sprintf("unknown field %q", field))
	}
	return nil
}

// limitValue is v, a JSON value, as limit r's integer within its bounds.
func limitValue(r limitRule, v json.RawMessage) (int64, error) {
	field := "limits." + r.name
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	_ = d.Decode(&x)
	num, ok := x.(json.Number)
	if !ok {
		return 0, channels.BadRequest(field, field+" must be an integer")
	}
	n, integral := jsonInteger(string(num))
	switch {
	case !integral:
		return 0, channels.BadRequest(field, field+" must be an integer")
	case n == nil || n.Sign() < 0 || n.Cmp(big.NewInt(r.max)) > 0:
		return 0, channels.BadRequest(field, fmt.Sprintf("%s must be between 0 (unlimited) and %d", field, r.max))
	}
	return n.Int64(), nil
}

// maxIntegerDigits bounds the integers jsonInteger computes: 10^19 is
// past int64, and so past every limit.
const maxIntegerDigits = 19

// maxExponent bounds the exponents jsonInteger reads as such; a larger one
// makes a number either too large or no integer, whatever its digits (a
// body is far shorter than that).
const maxExponent = 1 << 30

// jsonInteger reads num, a valid JSON number, exactly: whether it is an
// integer, and its value when it has at most maxIntegerDigits digits (nil
// when it is larger). It never builds a value from the exponent, so
// 1e999999999 costs nothing.
func jsonInteger(num string) (n *big.Int, integral bool) {
	mant, exp := num, int64(0)
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.ParseInt(strings.TrimPrefix(num[i+1:], "+"), 10, 64)
		if err != nil || e > maxExponent || e < -maxExponent {
			e = maxExponent
			if strings.HasPrefix(num[i+1:], "-") {
				e = -maxExponent
			}
		}
		exp = e
	}
	neg := strings.HasPrefix(mant, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(mant, "-"), ".")
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return new(big.Int), true
	}
	// num = digits × 10^shift, digits without trailing zeros.
	trimmed := strings.TrimRight(digits, "0")
	shift := exp - int64(len(frac)) + int64(len(digits)-len(trimmed))
	if shift < 0 {
		return nil, false
	}
	if int64(len(trimmed))+shift > maxIntegerDigits {
		return nil, true
	}
	n, _ = new(big.Int).SetString(trimmed, 10)
	n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(shift), nil))
	if neg {
		n.Neg(n)
	}
	return n, true
}

// targets are the patch's fields by limit name.
func (p *LimitsPatch) targets() map[string]**int64 {
	return map[string]**int64{
		"max_connections":        &p.MaxConnections,
		"max_messages_per_day":   &p.MaxMessagesPerDay,
		"max_messages_per_month": &p.MaxMessagesPerMonth,
		"max_message_bytes":      &p.MaxMessageBytes,
		"publish_rate":           &p.PublishRate,
		"client_event_rate":      &p.ClientEventRate,
		"max_presence_members":   &p.MaxPresenceMembers,
		"history_retention_s":    &p.HistoryRetentionS,
		"resume_window_s":        &p.ResumeWindowS,
		"max_webhook_endpoints":  &p.MaxWebhookEndpoints,
	}
}
