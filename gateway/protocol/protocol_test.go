package protocol_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

func TestAppendStringMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `{"a":"b\"c"}`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "ünï😀", "\u2028\u2029", "bad\xffutf8", `back\slash`} {
		got := protocol.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s is not JSON: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Fatalf("round trip %q -> %s -> %q", s, got, back)
		}
	}
}

func TestAppendMessage(t *testing.T) {
	got := string(protocol.AppendMessage(nil, &protocol.Message{
		Event: "my-event", Channel: "presence-x", Data: `{"hello":"world"}`, UserID: "u1", Serial: 42,
	}))
	want := `{"event":"my-event","channel":"presence-x","data":"{\"hello\":\"world\"}","user_id":"u1","serial":42}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := string(protocol.AppendMessage(nil, &protocol.Message{Event: "e", NoData: true})); got != `{"event":"e"}` {
		t.Fatalf("NoData: %s", got)
	}
}

func TestBuiltEvents(t *testing.T) {
	var env struct {
		Event, Channel, Data string
	}
	check := func(b []byte, event string, data any) {
		t.Helper()
		if err := json.Unmarshal(b, &env); err != nil || env.Event != event {
			t.Fatalf("%s: %v", b, err)
		}
		if err := json.Unmarshal([]byte(env.Data), data); err != nil {
			t.Fatalf("data of %s is not a JSON-encoded object: %v", b, err)
		}
	}
	var ce struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	check(protocol.ConnectionEstablished("1.2", 120), protocol.EventConnectionEstablished, &ce)
	if ce.SocketID != "1.2" || ce.ActivityTimeout != 120 {
		t.Fatalf("%+v", ce)
	}
	var pe struct {
		Code    int
		Message string
	}
	check(protocol.Error(4001, `app "x" not found`), protocol.EventError, &pe)
	if pe.Code != 4001 || pe.Message != `app "x" not found` {
		t.Fatalf("%+v", pe)
	}
	var se struct {
		Type, Error string
		Status      int
	}
	check(protocol.SubscriptionError("private-x", protocol.SubErrAuth, "bad signature", 401), protocol.EventSubscriptionError, &se)
	if se.Type != "AuthError" || se.Status != 401 || env.Channel != "private-x" {
		t.Fatalf("%+v %+v", se, env)
	}
}

func TestDecode(t *testing.T) {
	f, err := protocol.Decode([]byte(`{"event":"pusher:subscribe","data":{"channel":"presence-x","auth":"k:s","channel_data":"{\"user_id\":1}","resume_from":7}}`))
	if err != nil {
		t.Fatal(err)
	}
	var sub protocol.Subscribe
	if err := f.DecodeData(&sub); err != nil {
		t.Fatal(err)
	}
	if sub.Channel != "presence-x" || sub.Auth != "k:s" || sub.ChannelData != `{"user_id":1}` || !sub.ResumeFrom.Set || sub.ResumeFrom.N != 7 || sub.Rewind.Set {
		t.Fatalf("%+v", sub)
	}
	pd, err := protocol.ParsePresenceData(string(sub.ChannelData))
	if err != nil || pd.UserID != "1" {
		t.Fatalf("presence data %+v %v", pd, err)
	}
	// data as a JSON-encoded string works too.
	f, err = protocol.Decode([]byte(`{"event":"pusher:subscribe","data":"{\"channel\":\"news\"}"}`))
	if err != nil {
		t.Fatal(err)
	}
	sub = protocol.Subscribe{}
	if err := f.DecodeData(&sub); err != nil || sub.Channel != "news" {
		t.Fatalf("%+v %v", sub, err)
	}
	// Client event data is forwarded as its JSON text or string content.
	f, _ = protocol.Decode([]byte(`{"event":"client-typing","channel":"private-x","data":{"a": 1}}`))
	if s, err := f.DataString(); err != nil || s != `{"a": 1}` {
		t.Fatalf("DataString = %q %v", s, err)
	}
	f, _ = protocol.Decode([]byte(`{"event":"client-typing","channel":"private-x","data":"text"}`))
	if s, err := f.DataString(); err != nil || s != "text" {
		t.Fatalf("DataString = %q %v", s, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for in, want := range map[string]error{
		``: protocol.ErrInvalidJSON, `[]`: protocol.ErrInvalidJSON, `{`: protocol.ErrInvalidJSON,
		`{"event":5}`: protocol.ErrInvalidJSON, `{}`: protocol.ErrMissingEvent, `{"event":""}`: protocol.ErrMissingEvent,
	} {
		if _, err := protocol.Decode([]byte(in)); !errors.Is(err, want) {
			t.Errorf("Decode(%q) = %v, want %v", in, err, want)
		}
	}
	f, _ := protocol.Decode([]byte(`{"event":"pusher:subscribe","data":[1]}`))
	var sub protocol.Subscribe
	if err := f.DecodeData(&sub); !errors.Is(err, protocol.ErrInvalidData) {
		t.Errorf("DecodeData of an array = %v", err)
	}
	if _, err := protocol.ParsePresenceData(`{"user_info":{}}`); err == nil {
		t.Error("presence data without user_id accepted")
	}
}

// A wrongly typed extension field must not hide the channel it came with:
// the gateway refuses it on that channel, by name.
func TestDecodeSubscribeExtensions(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  protocol.Count
	}{
		{`0`, protocol.Count{Set: true}},
		{`7`, protocol.Count{Set: true, N: 7}},
		{`18446744073709551615`, protocol.Count{Set: true, N: math.MaxUint64}},
		{`18446744073709551616`, protocol.Count{Set: true, N: math.MaxUint64, Saturated: true}},
		{`1` + strings.Repeat("0", 300), protocol.Count{Set: true, N: math.MaxUint64, Saturated: true}},
		{`null`, protocol.Count{}},
		{`-1`, protocol.Count{Set: true, Invalid: true}},
		{`-0`, protocol.Count{Set: true, Invalid: true}},
		{`1.5`, protocol.Count{Set: true, Invalid: true}},
		{`1.0`, protocol.Count{Set: true, Invalid: true}},
		{`1e300`, protocol.Count{Set: true, Invalid: true}},
		{`1E2`, protocol.Count{Set: true, Invalid: true}},
		{`"abc"`, protocol.Count{Set: true, Invalid: true}},
		{`"5"`, protocol.Count{Set: true, Invalid: true}},
		{`true`, protocol.Count{Set: true, Invalid: true}},
		{`{"n":1}`, protocol.Count{Set: true, Invalid: true}},
		{`[1]`, protocol.Count{Set: true, Invalid: true}},
	} {
		for _, field := range []string{"resume_from", "rewind", "rewind_ms"} {
			data := `{"channel":"private-x","auth":"k:s","` + field + `":` + tc.value + `}`
			for _, frame := range []string{
				`{"event":"pusher:subscribe","data":` + data + `}`,
				`{"event":"pusher:subscribe","data":` + string(protocol.AppendString(nil, data)) + `}`,
			} {
				f, err := protocol.Decode([]byte(frame))
				if err != nil {
					t.Fatalf("%s: %v", frame, err)
				}
				var sub protocol.Subscribe
				if err := f.DecodeData(&sub); err != nil || sub.Channel != "private-x" || sub.Auth != "k:s" {
					t.Fatalf("%s: %+v %v", frame, sub, err)
				}
				got := map[string]protocol.Count{"resume_from": sub.ResumeFrom, "rewind": sub.Rewind, "rewind_ms": sub.RewindMs}
				for name, c := range got {
					want := protocol.Count{}
					if name == field {
						want = tc.want
					}
					if c != want {
						t.Errorf("%s: %s = %+v, want %+v", frame, name, c, want)
					}
				}
			}
		}
	}
}

func TestParsePresenceData(t *testing.T) {
	for _, tc := range []struct {
		data string
		id   string
		err  error
	}{
		{`{"user_id":"u1","user_info":{"name":"A"}}`, "u1", nil},
		{`{"user_id":1}`, "1", nil},
		{`{"user_id":"1"}`, "1", nil},
		{`{"user_id":1.5}`, "", channels.ErrUserIDInvalid},
		{`{"user_id":1e3}`, "", channels.ErrUserIDInvalid},
		{`{"user_id":true}`, "", channels.ErrUserIDInvalid},
		{`{"user_id":null}`, "", channels.ErrUserIDInvalid},
		{`{"user_id":{}}`, "", channels.ErrUserIDInvalid},
		{`{"user_info":{}}`, "", channels.ErrUserIDInvalid},
		{`{"user_id":"` + strings.Repeat("x", channels.MaxUserIDLen+1) + `"}`, "", channels.ErrUserIDTooLong},
		{`[]`, "", protocol.ErrInvalidData},
		{`{"user_id":`, "", protocol.ErrInvalidData},
	} {
		pd, err := protocol.ParsePresenceData(tc.data)
		if pd.UserID != tc.id || !errors.Is(err, tc.err) {
			t.Errorf("ParsePresenceData(%s) = %q, %v; want %q, %v", tc.data, pd.UserID, err, tc.id, tc.err)
		}
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	m := &protocol.Message{Event: "price", Channel: "ticker", Data: `{"symbol":"HRLD","price":"42.00"}`, Serial: 123456}
	for b.Loop() {
		buf = protocol.AppendMessage(buf[:0], m)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"event":"pusher:subscribe","data":{"channel":"private-x","auth":"k:s"}}`,
		`{"event":"pusher:subscribe","data":"{\"channel\":\"x\"}"}`,
		`{"event":"client-x","channel":"presence-y","data":{"a":[1,2,{"b":null}]}}`,
		`{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"1\"}"}}`,
		`{"event":"pusher:ping","data":{}}`, `{}`, `[`, "\xff", `{"event":"x","data":"\ud800"}`,
		`{"event":"pusher:subscribe","data":{"channel":"feed","resume_from":"abc"}}`,
		`{"event":"pusher:subscribe","data":{"channel":"feed","rewind_ms":"x"}}`,
		`{"event":"pusher:subscribe","data":{"channel":"feed","rewind":1e300}}`,
		`{"event":"pusher:subscribe","data":{"channel":"feed","resume_from":-3,"rewind":1.5,"rewind_ms":{}}}`,
		`{"event":"pusher:subscribe","data":"{\"channel\":\"feed\",\"resume_from\":99999999999999999999999}"}`,
		`{"event":"pusher:subscribe","data":{"channel":"presence-x","auth":"k:s","channel_data":"{\"user_id\":1.5}"}}`,
		`{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":1}"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := protocol.Decode(b)
		if err != nil {
			return
		}
		if fr.Event == "" {
			t.Fatal("decoded a frame without event")
		}
		s, err := fr.DataString()
		if err == nil && !utf8.ValidString(s) && json.Valid(fr.Data) && fr.Data[0] == '"' {
			t.Fatalf("string data %q is not valid UTF-8", s)
		}
		var sub protocol.Subscribe
		subErr := fr.DecodeData(&sub)
		// Only the channel's own type, or its absence, can make a
		// subscribe's object data undecodable: the extension fields never
		// hide the channel.
		var fields map[string]json.RawMessage
		if fr.DecodeData(&fields) == nil && subErr != nil {
			named, null := false, false
			for k, v := range fields {
				if !strings.EqualFold(k, "channel") {
					continue
				}
				if v[0] != '"' && string(v) != "null" {
					return
				}
				named, null = named || v[0] == '"', null || string(v) == "null"
			}
			if errors.Is(subErr, protocol.ErrNoChannel) && (!named || null) {
				return
			}
			t.Fatalf("subscribe data %s not decoded: %v", fr.Data, subErr)
		}
		if subErr == nil {
			for _, c := range []protocol.Count{sub.ResumeFrom, sub.Rewind, sub.RewindMs} {
				if (c.Invalid || c.Saturated || c.N > 0) && !c.Set || c.Invalid && c.Saturated {
					t.Fatalf("inconsistent field %+v in %s", c, fr.Data)
				}
			}
		}
		if _, err := protocol.ParsePresenceData(string(sub.ChannelData)); err == nil && sub.ChannelData == "" {
			t.Fatal("empty channel_data accepted")
		}
		// Whatever was decoded must re-encode as valid JSON.
		out := protocol.AppendMessage(nil, &protocol.Message{Event: fr.Event, Channel: fr.Channel, Data: s})
		if !json.Valid(out) {
			t.Fatalf("re-encoded frame is not JSON: %s", out)
		}
	})
}

// TestConnectionEstablishedAllocs holds the handshake event, built for
// every new connection, to its two allocations.
func TestConnectionEstablishedAllocs(t *testing.T) {
	const socketID = "18446744073709551615.18446744073709551615"
	want := `{"event":"pusher:connection_established","data":"{\"socket_id\":\"` + socketID + `\",\"activity_timeout\":120}"}`
	if got := string(protocol.ConnectionEstablished(socketID, 120)); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { protocol.ConnectionEstablished(socketID, 120) }); n > 2 {
		t.Fatalf("%v allocations, want at most 2", n)
	}
}

// TestChannelRequired: subscribe and unsubscribe data without a channel
// is malformed (the gateway answers pusher:error 4200), not a channel
// name to refuse with a subscription_error nobody can route.
func TestChannelRequired(t *testing.T) {
	for _, tc := range []struct {
		data    string
		channel string
		err     error
	}{
		{`{}`, "", protocol.ErrNoChannel},
		{`{"channel":null}`, "", protocol.ErrNoChannel},
		{`"{}"`, "", protocol.ErrNoChannel},
		{`{"auth":"k:s"}`, "", protocol.ErrNoChannel},
		{`{"channel":123}`, "", protocol.ErrInvalidData},
		{`{"channel":""}`, "", nil},
		{`{"channel":"news","auth":"k:s"}`, "news", nil},
		{`"{\"channel\":\"news\"}"`, "news", nil},
	} {
		f := protocol.Frame{Event: protocol.EventSubscribe, Data: json.RawMessage(tc.data)}
		var sub protocol.Subscribe
		var unsub protocol.Unsubscribe
		for name, err := range map[string]error{"subscribe": f.DecodeData(&sub), "unsubscribe": f.DecodeData(&unsub)} {
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("%s %s: err %v, want %v", name, tc.data, err, tc.err)
			}
		}
		if tc.err == nil && (sub.Channel != tc.channel || unsub.Channel != tc.channel) {
			t.Errorf("%s: channels %q, %q, want %q", tc.data, sub.Channel, unsub.Channel, tc.channel)
		}
	}
	var sub protocol.Subscribe
	f := protocol.Frame{Data: json.RawMessage(`{"channel":"presence-x","auth":"k:s","channel_data":"{}","rewind":3}`)}
	if err := f.DecodeData(&sub); err != nil || sub.Auth != "k:s" || sub.ChannelData != "{}" || sub.Rewind.N != 3 {
		t.Fatalf("fields lost: %+v, %v", sub, err)
	}
}
