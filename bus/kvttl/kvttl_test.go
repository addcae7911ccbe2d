package kvttl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestRound(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{time.Second, time.Second},
		{time.Second + time.Nanosecond, 2 * time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{15 * time.Second, 15 * time.Second},
	} {
		if got := kvttl.Round(tt.in); got != tt.want {
			t.Errorf("Round(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestLease writes, renews and purges a key the way presence and the
// gateway registry do, and checks that a stale renewal is refused.
func TestLease(t *testing.T) {
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	ctx := t.Context()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "KVTTL_TEST", LimitMarkerTTL: time.Second, History: 1})
	if err != nil {
		t.Fatal(err)
	}
	const subject = "$KV.KVTTL_TEST.k"
	ack, err := js.PublishMsg(ctx, kvttl.Put(subject, []byte("v1"), 1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if m := kvttl.Put(subject, nil, 1500*time.Millisecond); m.Header.Get(jetstream.MsgTTLHeader) != "2" {
		t.Fatalf("TTL header %q, want whole seconds rounded up", m.Header.Get(jetstream.MsgTTLHeader))
	}
	renewed, err := js.PublishMsg(ctx, kvttl.ExpectRev(kvttl.Put(subject, []byte("v2"), time.Minute), ack.Sequence))
	if err != nil {
		t.Fatalf("renewal: %v", err)
	}
	_, err = js.PublishMsg(ctx, kvttl.ExpectRev(kvttl.Put(subject, []byte("v3"), time.Minute), ack.Sequence))
	if !kvttl.IsWrongRev(err) {
		t.Fatalf("stale renewal: %v, want a wrong revision", err)
	}
	if kvttl.IsWrongRev(errors.New("other")) || kvttl.IsWrongRev(nil) {
		t.Fatal("IsWrongRev of other errors")
	}
	if e, err := kv.Get(ctx, "k"); err != nil || string(e.Value()) != "v2" || e.Revision() != renewed.Sequence {
		t.Fatalf("Get = %v, %v", e, err)
	}
	if _, err := js.PublishMsg(ctx, kvttl.ExpectRev(kvttl.Purge(subject, time.Second), renewed.Sequence)); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("after purge: %v", err)
	}
}

// A lease bucket keeps the latest value on disk, with markers rounded up
// to whole seconds; ensuring it again with another TTL updates it.
func TestEnsureBucket(t *testing.T) {
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	ctx := context.Background()
	for _, ttl := range []time.Duration{1500 * time.Millisecond, 3 * time.Second} {
		if err := kvttl.EnsureBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "LEASES", Description: "test"}, 0, ttl); err != nil {
			t.Fatal(err)
		}
		kv, err := js.KeyValue(ctx, "LEASES")
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
		c := info.Config
		if c.MaxMsgsPerSubject != 1 || c.Storage != jetstream.FileStorage || c.Replicas != 1 || c.SubjectDeleteMarkerTTL != kvttl.Round(ttl) {
			t.Fatalf("ttl %v: history %d, storage %v, replicas %d, marker TTL %v", ttl, c.MaxMsgsPerSubject, c.Storage, c.Replicas, c.SubjectDeleteMarkerTTL)
		}
	}
}
