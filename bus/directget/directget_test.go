package directget_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/internal/testinfra"
)

// testTimeout is generous for a small shared machine; nothing waits this
// long when the code works.
const testTimeout = 10 * time.Second

const testStream = "DG_TEST"

// env is one embedded server with a stream that allows Direct Get, where
// subject t.a holds a0..a4 and t.b holds b0..b2, interleaved.
type env struct {
	nc   *nats.Conn
	get  *directget.Client
	seqs map[string]uint64 // by body
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, s)
	js := testinfra.JetStream(t, nc)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: testStream, Subjects: []string{"t.>"}, AllowDirect: true, Storage: jetstream.MemoryStorage,
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{nc: nc, get: directget.New(nc, testStream, testTimeout), seqs: map[string]uint64{}}
	for i := range 5 {
		for _, k := range []string{"a", "b"} {
			if k == "b" && i >= 3 {
				continue
			}
			body := fmt.Sprintf("%s%d", k, i)
			ack, err := js.Publish(ctx, "t."+k, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			e.seqs[body] = ack.Sequence
		}
	}
	return e
}

func bodies(ms []*nats.Msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Data)
	}
	return out
}

func TestGet(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name        string
		req         directget.Request
		stopAfter   int // fn returns false after this many; 0: never
		want        []string
		wantPending uint64
	}{
		{"first batch", directget.Request{NextFor: "t.a", Batch: 2}, 0, []string{"a0", "a1"}, 3},
		{"from a sequence", directget.Request{NextFor: "t.a", Batch: 10, Seq: e.seqs["a3"]}, 0, []string{"a3", "a4"}, 0},
		{"wildcard", directget.Request{NextFor: "t.*", Batch: 3}, 0, []string{"a0", "b0", "a1"}, 5},
		{"nothing matches", directget.Request{NextFor: "t.c", Batch: 10}, 0, nil, 0},
		{"past the end", directget.Request{NextFor: "t.a", Batch: 10, Seq: e.seqs["a4"] + 1}, 0, nil, 0},
		{"multi_last", directget.Request{MultiLast: []string{"t.*"}}, 0, []string{"b2", "a4"}, 0},
		{"fn stops", directget.Request{NextFor: "t.a", Batch: 10}, 2, []string{"a0", "a1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*nats.Msg
			pending, err := e.get.Get(t.Context(), tt.req, func(m *nats.Msg) bool {
				got = append(got, m)
				return tt.stopAfter == 0 || len(got) < tt.stopAfter
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bodies(got), tt.want) || pending != tt.wantPending {
				t.Fatalf("got %q pending %d, want %q pending %d", bodies(got), pending, tt.want, tt.wantPending)
			}
			for _, m := range got {
				seq, err := strconv.ParseUint(directget.First(m.Header, directget.HeaderSequence), 10, 64)
				if err != nil || seq != e.seqs[string(m.Data)] {
					t.Fatalf("%s: sequence header %v, want %d", m.Data, m.Header, e.seqs[string(m.Data)])
				}
			}
		})
	}
}

func TestScan(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  directget.Request
		want []string
	}{
		{"several batches", directget.Request{NextFor: "t.a", Batch: 2}, []string{"a0", "a1", "a2", "a3", "a4"}},
		{"one batch", directget.Request{NextFor: "t.b", Batch: 10}, []string{"b0", "b1", "b2"}},
		{"exact batches", directget.Request{NextFor: "t.b", Batch: 1}, []string{"b0", "b1", "b2"}},
		{"from a sequence", directget.Request{NextFor: "t.*", Batch: 2, Seq: e.seqs["b2"]}, []string{"b2", "a3", "a4"}},
		{"nothing matches", directget.Request{NextFor: "t.c", Batch: 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*nats.Msg
			if err := e.get.Scan(t.Context(), tt.req, func(m *nats.Msg) { got = append(got, m) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bodies(got), tt.want) {
				t.Fatalf("got %q, want %q", bodies(got), tt.want)
			}
		})
	}
	for _, bad := range []directget.Request{{Batch: 2}, {NextFor: "t.a"}, {NextFor: "t.a", Batch: 2, MultiLast: []string{"t.a"}}} {
		if err := e.get.Scan(t.Context(), bad, func(*nats.Msg) {}); err == nil {
			t.Errorf("Scan(%+v) succeeded", bad)
		}
	}
}

func TestGetNoStream(t *testing.T) {
	e := newEnv(t)
	c := directget.New(e.nc, "NO_SUCH_STREAM", testTimeout)
	_, err := c.Get(t.Context(), directget.Request{NextFor: "t.a", Batch: 1}, func(*nats.Msg) bool { return true })
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("err = %v, want no responders", err)
	}
	err = c.Scan(t.Context(), directget.Request{NextFor: "t.a", Batch: 1}, func(*nats.Msg) {})
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("scan err = %v, want no responders", err)
	}
}

// fakeServer answers Direct Gets of stream FAKE with answer.
func fakeServer(t *testing.T, nc *nats.Conn, answer func(req *nats.Msg)) *directget.Client {
	t.Helper()
	sub, err := nc.Subscribe(directget.Subject("FAKE"), answer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return directget.New(nc, "FAKE", time.Second)
}

func statusMsg(subject, status string, hdr ...string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(directget.HeaderStatus, status)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	return m
}

func TestGetBadAnswers(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		answer  *nats.Msg // nil: no answer at all
		wantErr error
	}{
		{"bad pending", statusMsg("", directget.StatusEndOfBatch, directget.HeaderNumPending, "x"), directget.ErrMalformed},
		{"no pending", statusMsg("", directget.StatusEndOfBatch), directget.ErrMalformed},
		{"server error", statusMsg("", "500", directget.HeaderDescription, "boom"), nil},
		{"no answer", nil, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeServer(t, e.nc, func(req *nats.Msg) {
				if tt.answer != nil {
					m := *tt.answer
					m.Subject = req.Reply
					_ = e.nc.PublishMsg(&m)
				}
			})
			_, err := c.Get(t.Context(), directget.Request{NextFor: "t.a", Batch: 1}, func(*nats.Msg) bool { return true })
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	c := fakeServer(t, e.nc, func(req *nats.Msg) {
		m := nats.NewMsg(req.Reply)
		m.Data = []byte("stored")
		_ = e.nc.PublishMsg(m) // no Nats-Sequence
	})
	if err := c.Scan(t.Context(), directget.Request{NextFor: "t.a", Batch: 1}, func(*nats.Msg) {}); !errors.Is(err, directget.ErrMalformed) {
		t.Fatalf("scan of a message without sequence: err = %v, want ErrMalformed", err)
	}
}

// TestAnswerFitsBuffer has a server send a whole batch and its end marker
// while the reader is still busy with the first message: the client
// buffers the whole answer, so none is dropped as a slow consumer.
func TestAnswerFitsBuffer(t *testing.T) {
	e := newEnv(t)
	const batch = 300
	sent := make(chan struct{})
	c := fakeServer(t, e.nc, func(req *nats.Msg) {
		defer close(sent)
		for i := range batch {
			m := nats.NewMsg(req.Reply)
			m.Header.Set(directget.HeaderSequence, strconv.Itoa(i+1))
			m.Data = []byte("x")
			_ = e.nc.PublishMsg(m)
		}
		_ = e.nc.PublishMsg(statusMsg(req.Reply, directget.StatusEndOfBatch, directget.HeaderNumPending, "7"))
		_ = e.nc.Flush()
	})
	n := 0
	pending, err := c.Get(t.Context(), directget.Request{NextFor: "t.a", Batch: batch}, func(*nats.Msg) bool {
		if n == 0 {
			<-sent
			// The server's messages are on their way back; let them land.
			if err := e.nc.Flush(); err != nil {
				t.Error(err)
			}
		}
		n++
		return true
	})
	if err != nil || n != batch || pending != 7 {
		t.Fatalf("got %d messages, pending %d, err %v; want %d, 7, nil", n, pending, err, batch)
	}
}
