package stream_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// TestRange reads interleaved channels with more messages than a batch,
// with batches cut by count and by bytes.
func TestRange(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)

	// Interleave a, b and c so that serials of one channel are not
	// contiguous; a gets more than one default batch.
	const na = stream.DefaultBatch + 44
	var a, b []uint64
	msgs := make([]stream.Message, 0, 3)
	for i := range na {
		msgs = msgs[:0]
		msgs = append(msgs, msg("a", "ev", "x"))
		if i%2 == 0 {
			msgs = append(msgs, msg("b", "ev", "y"))
		}
		if i%7 == 0 {
			msgs = append(msgs, msg("c", "ev", "z"))
		}
		// Sequential publishes keep a's serials in publish order.
		for _, m := range msgs {
			serial := publish(t, p, m)
			switch m.Channel {
			case "a":
				a = append(a, serial)
			case "b":
				b = append(b, serial)
			}
		}
	}

	readers := map[string]*stream.Reader{
		"default":     newReader(t, e.nc, stream.ReaderConfig{}),
		"small batch": newReader(t, e.nc, stream.ReaderConfig{Batch: 7}),
		"small bytes": newReader(t, e.nc, stream.ReaderConfig{MaxBytes: 300}),
	}
	tests := []struct {
		name        string
		channel     string
		after, upTo uint64
		limit       int
		want        []uint64
	}{
		{"all of a", "a", 0, 0, 0, a},
		{"all of b", "b", 0, 0, 0, b},
		{"after the 10th", "a", a[9], 0, 0, a[10:]},
		{"after a serial of another channel", "a", b[3], 0, 0, afterSerial(a, b[3])},
		{"up to the 100th", "a", a[4], a[99], 0, a[5:100]},
		{"limit", "a", a[4], 0, 30, a[5:35]},
		{"limit and upTo", "b", 0, b[50], 20, b[:20]},
		{"up to the newest", "a", a[na-3], a[na-1], 0, a[na-2:]},
		{"after the newest", "a", a[na-1], 0, 0, nil},
		{"empty range", "a", a[5], a[5], 0, nil},
		{"unknown channel", "nope", 0, 0, 0, nil},
	}
	for rname, r := range readers {
		t.Run(rname, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := r.Range(t.Context(), testApp, tt.channel, tt.after, tt.upTo, tt.limit)
					if err != nil {
						t.Fatalf("Range: %v", err)
					}
					if s := serialsOf(got); !slices.Equal(s, tt.want) {
						t.Fatalf("got  %v\nwant %v", s, tt.want)
					}
					for i, d := range got {
						if d.Channel != tt.channel || d.AppID != testApp || d.Event != "ev" {
							t.Fatalf("delivery %+v", d)
						}
						if i > 0 && d.PrevSerial != got[i-1].Serial {
							t.Fatalf("prev serial %d, want %d", d.PrevSerial, got[i-1].Serial)
						}
					}
				})
			}
		})
	}
}

func afterSerial(serials []uint64, after uint64) []uint64 {
	i, _ := slices.BinarySearch(serials, after+1)
	return serials[i:]
}

// TestRangeUnreachable: a range that must reach a serial the channel does
// not have (deleted, or never its own) fails after its retries, with the
// messages it did read.
func TestRangeUnreachable(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{StaleRetries: 2, StaleBackoff: time.Millisecond})

	a1 := publish(t, p, msg("a", "ev", "1"))
	b1 := publish(t, p, msg("b", "ev", "1"))
	a2 := publish(t, p, msg("a", "ev", "2"))
	a3 := publish(t, p, msg("a", "ev", "3"))
	got, err := r.Range(t.Context(), testApp, "a", 0, a3+1, 0)
	if !errors.Is(err, stream.ErrGapUnrecoverable) {
		t.Fatalf("err = %v, want ErrGapUnrecoverable", err)
	}
	if s := serialsOf(got); !slices.Equal(s, []uint64{a1, a2, a3}) {
		t.Errorf("partial = %v", s)
	}

	// b1 lies inside a's range but is not a's: the read passes it.
	if got, err := r.Range(t.Context(), testApp, "a", 0, b1, 0); err != nil || !slices.Equal(serialsOf(got), []uint64{a1}) {
		t.Errorf("upTo another channel's serial: %v, %v", serialsOf(got), err)
	}

	// A deleted message cannot be reached either.
	st, err := e.js.Stream(t.Context(), stream.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(t.Context(), a3); err != nil {
		t.Fatal(err)
	}
	got, err = r.Range(t.Context(), testApp, "a", a1, a3, 0)
	if !errors.Is(err, stream.ErrGapUnrecoverable) || !slices.Equal(serialsOf(got), []uint64{a2}) {
		t.Errorf("deleted upTo: %v, %v", serialsOf(got), err)
	}
}

func TestLast(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{})

	if _, ok, err := r.Last(t.Context(), testApp, "c"); err != nil || ok {
		t.Fatalf("empty channel: ok=%v err=%v", ok, err)
	}
	publish(t, p, msg("c", "ev", "1"))
	want := publish(t, p, msg("c", "last-ev", "2"))
	publish(t, p, msg("other", "ev", "3"))
	d, ok, err := r.Last(t.Context(), testApp, "c")
	if err != nil || !ok {
		t.Fatalf("Last: ok=%v err=%v", ok, err)
	}
	if d.Serial != want || d.Event != "last-ev" || string(d.Data) != "2" || d.Channel != "c" || d.Source != stream.SourceAPI {
		t.Errorf("Last = %+v, want serial %d", d, want)
	}
}

func TestSinceTime(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{Batch: 4})

	for range 12 {
		publish(t, p, msg("c", "ev", "x"))
		publish(t, p, msg("d", "ev", "y"))
	}
	all, err := r.Range(t.Context(), testApp, "c", 0, 0, 0)
	if err != nil || len(all) != 12 {
		t.Fatalf("Range: %d, %v", len(all), err)
	}
	// Expected from the stored timestamps, so that equal timestamps
	// cannot make the test flaky.
	since := all[5].Time
	var want []uint64
	for _, d := range all {
		if !d.Time.Before(since) {
			want = append(want, d.Serial)
		}
	}
	got, err := r.SinceTime(t.Context(), testApp, "c", since, 0)
	if err != nil || !slices.Equal(serialsOf(got), want) {
		t.Fatalf("SinceTime = %v, %v; want %v", serialsOf(got), err, want)
	}
	got, err = r.SinceTime(t.Context(), testApp, "c", since, 3)
	if err != nil || !slices.Equal(serialsOf(got), want[:3]) {
		t.Fatalf("SinceTime limit 3 = %v, %v; want %v", serialsOf(got), err, want[:3])
	}
	got, err = r.SinceTime(t.Context(), testApp, "c", time.Now().Add(time.Hour), 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("SinceTime future = %v, %v", serialsOf(got), err)
	}
}

// TestMalformedSkipped: a message stored without Herald's headers (not
// published through this package) is stepped over by reads and by live
// delivery, without breaking either.
func TestMalformedSkipped(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{})
	rec := newRecorder()
	l := startLive(t, stream.LiveConfig{NC: e.liveNC, Reader: r, Handler: rec.handle})
	subscribe(t, l, "c")

	want := []uint64{publish(t, p, msg("c", "ev", "1"))}
	raw, err := e.js.Publish(t.Context(), channels.MessageSubject(0, testApp, "c"), []byte("raw"))
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, publish(t, p, msg("c", "ev", "2")))
	rec.waitSerials(t, "c", want)

	got, err := r.Range(t.Context(), testApp, "c", 0, 0, 0)
	if err != nil || !slices.Equal(serialsOf(got), want) {
		t.Fatalf("Range = %v, %v; want %v", serialsOf(got), err, want)
	}
	got, err = r.Range(t.Context(), testApp, "c", 0, raw.Sequence, 0)
	if err != nil || !slices.Equal(serialsOf(got), want[:1]) {
		t.Fatalf("Range up to the malformed one = %v, %v; want %v", serialsOf(got), err, want[:1])
	}
	if st := l.Stats(); st.Malformed != 1 || st.GapsUnrecovered != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestEach passes every message above a serial, in order, across several
// batches, and stops when told to.
func TestEach(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	var a []uint64
	for i := range 30 {
		a = append(a, publish(t, p, msg("a", "ev", "x")))
		if i%3 == 0 {
			publish(t, p, msg("b", "ev", "y"))
		}
	}
	r := newReader(t, e.nc, stream.ReaderConfig{Batch: 4})
	collect := func(after uint64, stopAt int) []uint64 {
		t.Helper()
		var got []uint64
		err := r.Each(t.Context(), testApp, "a", after, 0, func(d *stream.Delivery) bool {
			got = append(got, d.Serial)
			return len(got) != stopAt
		})
		if err != nil {
			t.Fatalf("Each: %v", err)
		}
		return got
	}
	if got := collect(0, -1); !slices.Equal(got, a) {
		t.Fatalf("all: got %v\nwant %v", got, a)
	}
	if got := collect(a[9], -1); !slices.Equal(got, a[10:]) {
		t.Fatalf("after the 10th: got %v\nwant %v", got, a[10:])
	}
	if got := collect(0, 13); !slices.Equal(got, a[:13]) {
		t.Fatalf("stopped at 13: got %v\nwant %v", got, a[:13])
	}
	if got := collect(a[29], -1); len(got) != 0 {
		t.Fatalf("after the newest: %v", got)
	}
}

// TestLeaderLast: the channel's newest serial from the stream leader, 0
// for a channel with none, and Each up to it.
func TestLeaderLast(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	r := newReader(t, e.nc, stream.ReaderConfig{Batch: 3})
	var a []uint64
	for range 10 {
		a = append(a, publish(t, p, msg("a", "ev", "x")))
		publish(t, p, msg("b", "ev", "y"))
	}
	last, err := r.LeaderLast(t.Context(), testApp, "a")
	if err != nil || last != a[9] {
		t.Fatalf("LeaderLast(a) = %d, %v; want %d", last, err, a[9])
	}
	if last, err := r.LeaderLast(t.Context(), testApp, "none"); err != nil || last != 0 {
		t.Fatalf("LeaderLast(none) = %d, %v; want 0", last, err)
	}
	var got []uint64
	err = r.Each(t.Context(), testApp, "a", a[2], a[7], func(d *stream.Delivery) bool {
		got = append(got, d.Serial)
		return true
	})
	if err != nil || !slices.Equal(got, a[3:8]) {
		t.Fatalf("Each up to the 8th = %v, %v; want %v", got, err, a[3:8])
	}
	e.nc.Close()
	if _, err := r.LeaderLast(t.Context(), testApp, "a"); !errors.Is(err, stream.ErrUnavailable) {
		t.Fatalf("LeaderLast on a closed connection = %v, want ErrUnavailable", err)
	}
}
