package realtime

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name, in    string
		wantErr     bool
		wantPayload string
		wantSerial  uint64
	}{
		{name: "double encoded", in: `{"event":"e","channel":"c","data":"{\"a\":1}","serial":7}`, wantPayload: `{"a":1}`, wantSerial: 7},
		{name: "object data", in: `{"event":"e","data":{"a":1}}`, wantPayload: `{"a":1}`},
		{name: "plain string", in: `{"event":"e","data":"hi"}`, wantPayload: `hi`},
		{name: "no data", in: `{"event":"e"}`},
		{name: "no event", in: `{"data":"x"}`, wantErr: true},
		{name: "not json", in: `nope`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeFrame([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := string(f.payload()); got != tt.wantPayload {
				t.Errorf("payload = %q, want %q", got, tt.wantPayload)
			}
			if f.Serial != tt.wantSerial {
				t.Errorf("serial = %d, want %d", f.Serial, tt.wantSerial)
			}
		})
	}
}

func TestEncodeFrame(t *testing.T) {
	tests := []struct {
		name    string
		data    any
		channel string
		want    string
		wantErr bool
	}{
		{name: "object", data: map[string]int{"a": 1}, want: `{"event":"ev","data":{"a":1}}`},
		{name: "raw", data: json.RawMessage(`[1,2]`), channel: "c", want: `{"event":"ev","channel":"c","data":[1,2]}`},
		{name: "string", data: "x", want: `{"event":"ev","data":"x"}`},
		{name: "nil", want: `{"event":"ev"}`},
		{name: "bad raw", data: json.RawMessage(`{`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeFrame("ev", tt.channel, tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	b := backoff{min: time.Second, max: 30 * time.Second}
	for attempt := range 40 {
		ceiling := min(30*time.Second, time.Second<<min(attempt, maxDoublings))
		for range 200 {
			d := b.delay(attempt)
			if d < 0 || d >= ceiling {
				t.Fatalf("attempt %d: delay %s outside [0, %s)", attempt, d, ceiling)
			}
		}
	}
	// The extremes of the random source hit both ends.
	lo := backoff{min: time.Second, max: 30 * time.Second, rand: func(int64) int64 { return 0 }}
	hi := backoff{min: time.Second, max: 30 * time.Second, rand: func(n int64) int64 { return n - 1 }}
	if lo.delay(3) != 0 || hi.delay(3) != 8*time.Second-1 || hi.delay(10) != 30*time.Second-1 {
		t.Errorf("bounds: %s %s %s", lo.delay(3), hi.delay(3), hi.delay(10))
	}
}

func TestActionFor(t *testing.T) {
	tests := []struct {
		code int
		want closeAction
	}{
		{4001, actFail}, {4003, actFail}, {4009, actToken}, {4100, actBackoff}, {4199, actBackoff},
		{4200, actNow}, {4201, actNow}, {1006, actBackoff}, {-1, actBackoff}, {1000, actBackoff},
	}
	for _, tt := range tests {
		if got := actionFor(tt.code); got != tt.want {
			t.Errorf("actionFor(%d) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestOutboxBounds(t *testing.T) {
	o := outbox{max: 2}
	a, b := &pending{id: "a", channel: "x"}, &pending{id: "b", channel: "y"}
	if o.add(a) != nil || o.add(b) != nil {
		t.Fatal("first two must fit")
	}
	if err := o.add(&pending{id: "c"}); !errors.Is(err, ErrOutboxFull) {
		t.Fatalf("third: %v, want ErrOutboxFull", err)
	}
	got := o.take(func(ch string) bool { return ch == "y" })
	if len(got) != 1 || got[0] != b {
		t.Fatalf("take = %v", got)
	}
	if len(o.take(func(string) bool { return true })) != 1 {
		t.Fatal("a must go next, b is sent")
	}
	o.unsend()
	if got := o.take(func(string) bool { return true }); len(got) != 2 || got[0] != a {
		t.Fatalf("after unsend, both in order: %v", got)
	}
	if retry := o.nack(&NackError{ID: "a", Code: 4500}); !retry || a.sent {
		t.Fatal("4500 is retriable")
	}
	o.settle("b", pubResult{serial: 9})
	if r := <-b.done; r.serial != 9 {
		t.Fatalf("b settled with %+v", r)
	}
	if o.nack(&NackError{ID: "a", Code: 4400}) {
		t.Fatal("4400 is final")
	}
	var ne *NackError
	if r := <-a.done; !errors.As(r.err, &ne) || ne.Code != 4400 {
		t.Fatalf("a: %v", r.err)
	}
	if len(o.list) != 0 || o.add(&pending{id: "d"}) != nil {
		t.Fatal("room again")
	}
}

func TestSocketURL(t *testing.T) {
	tests := []struct {
		cfg   Config
		token string
		want  string
	}{
		{Config{Host: "127.0.0.1:6001", Key: "k"}, "", "ws://127.0.0.1:6001/app/k?client=herald-go&protocol=7"},
		{Config{URL: "https://h.example/rt/", Key: "k"}, "a.b.c", "wss://h.example/rt/app/k?client=herald-go&protocol=7&token=a.b.c"},
	}
	for _, tt := range tests {
		got, err := tt.cfg.socketURL(tt.token)
		if err != nil || got != tt.want {
			t.Errorf("socketURL = %q, %v; want %q", got, err, tt.want)
		}
	}
	if _, err := (Config{URL: "ftp://x", Key: "k"}).socketURL(""); err == nil {
		t.Error("ftp must be refused")
	}
}

func TestStateFeedDropsOldest(t *testing.T) {
	f := newStateFeed(2)
	f.set(StateConnected, nil, 0)
	f.set(StateDisconnected, nil, 0)
	f.set(StateReconnecting, nil, 0)
	f.set(StateClosed, nil, 0)
	var got []State
	for sc := range f.ch {
		got = append(got, sc.Current)
	}
	if len(got) != 2 || got[0] != StateReconnecting || got[1] != StateClosed || f.dropped != 2 {
		t.Fatalf("got %v (dropped %d)", got, f.dropped)
	}
}

func TestOutboxFailChannel(t *testing.T) {
	o := outbox{max: 3}
	a, b := &pending{id: "a", channel: "x"}, &pending{id: "b", channel: "y"}
	_, _ = o.add(a), o.add(b)
	o.failChannel("x", ErrClosed)
	if r := <-a.done; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("a: %v", r.err)
	}
	if len(o.list) != 1 || o.list[0] != b {
		t.Fatalf("left %v", o.list)
	}
}
