package netfuzz

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// pusherTemplates are Pusher messages a client sends, with %s where a
// value goes; each slot keeps its valid value or gets a hostile one.
var pusherTemplates = []struct {
	format string
	valid  []string
}{
	{`{"event":%s,"data":{"channel":%s}}`, []string{`"` + protocol.EventSubscribe + `"`, `"news"`}},
	{`{"event":"` + protocol.EventSubscribe + `","data":{"channel":%s,"auth":%s}}`, []string{`"private-x"`, `"app-key:bad"`}},
	{`{"event":"` + protocol.EventSubscribe + `","data":{"channel":%s,"auth":%s,"channel_data":%s}}`, []string{`"presence-x"`, `"app-key:bad"`, `"{\"user_id\":\"u\"}"`}},
	{`{"event":"` + protocol.EventUnsubscribe + `","data":{"channel":%s}}`, []string{`"news"`}},
	{`{"event":%s,"data":%s}`, []string{`"` + protocol.EventPing + `"`, `{}`}},
	{`{"event":%s,"channel":%s,"data":%s}`, []string{`"client-x"`, `"private-x"`, `{"a":1}`}},
	{`{"event":"` + protocol.EventSignin + `","data":{"auth":%s,"user_data":%s}}`, []string{`"app-key:bad"`, `"{\"id\":\"u\"}"`}},
	{`{"event":"` + protocol.EventSubscribe + `","data":{"channel":%s,"resume":%s}}`, []string{`"news"`, `"1-2"`}},
}

// maxNesting is the deepest JSON nesting generated: past encoding/json's
// own limit (10,000), within the message cap.
const maxNesting = 12000

// pusherAttack is a valid handshake followed by 1 to 8 mutated Pusher
// messages.
func (g *Gen) pusherAttack() Attack {
	var b []byte
	for range 1 + g.r.IntN(8) {
		msg := g.pusherMessage()
		key := [4]byte{byte(g.r.Uint32()), 1, 2, byte(g.r.Uint32())}
		b = wstest.AppendMaskedFrame(b, ws.OpText, true, msg, key)
	}
	return g.wsAttack(PusherJSON, b)
}

// pusherMessage is a template with hostile values in some slots, now and
// then mutated at the byte level too.
func (g *Gen) pusherMessage() []byte {
	t := pick(g, pusherTemplates)
	args := make([]any, len(t.valid))
	for i, v := range t.valid {
		args[i] = v
		if g.r.IntN(2) == 0 {
			args[i] = g.jsonValue()
		}
	}
	msg := []byte(fmt.Sprintf(t.format, args...))
	if g.r.IntN(5) == 0 {
		msg = g.mutate(msg)
	}
	return msg
}

// jsonValue is a hostile JSON value (or not JSON at all).
func (g *Gen) jsonValue() string {
	room := max(g.cfg.MaxMessage-200, 1)
	switch g.r.IntN(12) {
	case 0:
		return pick(g, []string{"null", "true", "0", "-0", "1e999", "12345678901234567890", "[]", "{}", `""`})
	case 1: // deep nesting
		d := 1 + g.r.IntN(max(min(room/2, maxNesting), 1))
		return strings.Repeat("[", d) + strings.Repeat("]", d)
	case 2:
		d := 1 + g.r.IntN(max(min(room/6, maxNesting/3), 1))
		return strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d)
	case 3: // a huge string
		return `"` + strings.Repeat("x", g.r.IntN(room)) + `"`
	case 4: // escapes that are not characters
		return pick(g, []string{`"\ud800"`, `"\udc00\ud800"`, `"\u0000"`, `"\x41"`, `"\u12"`, `"\"`})
	case 5: // channel names at and past their limits
		return `"` + pick(g, []string{"private-", "presence-", "private-encrypted-", "#server-to-user-x", "a b", "a,b", "*"}) + strings.Repeat("c", g.r.IntN(300)) + `"`
	case 6: // a value that is a string holding JSON
		return `"` + strings.ReplaceAll(g.jsonValue(), `"`, `\"`) + `"`
	case 7: // random text, unquoted
		return g.text(1 + g.r.IntN(40))
	case 8:
		return `{"user_id":` + g.jsonValue() + `,"user_info":` + g.jsonValue() + `}`
	case 9: // duplicate keys
		return `{"channel":"a","channel":"b"}`
	case 10:
		return `"` + g.text(g.r.IntN(200)) + `"`
	}
	return fmt.Sprint(g.r.Int64())
}
