package appsync_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/signingkeys"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/appsync"
)

// memKeys is an in-memory signing key source.
type memKeys struct {
	mu   sync.Mutex
	keys []controlplane.SigningKey
}

func (m *memKeys) ListSigningKeys(context.Context) ([]controlplane.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func (m *memKeys) add(tb testing.TB, kid string) {
	tb.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, controlplane.SigningKey{KID: kid, PublicKey: pub, CreatedAt: time.Now()})
}

func (m *memKeys) retire(kid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].KID == kid {
			now := time.Now()
			m.keys[i].RetiredAt = &now
		}
	}
}

func TestNewNeedsSigningKeysAndTheirBucketTogether(t *testing.T) {
	t.Parallel()
	_, kv := newKV(t)
	if _, err := appsync.New(appsync.Config{Source: newSource(), KV: kv, SigningKeys: &memKeys{}}); err == nil {
		t.Fatal("SigningKeys without SigningKV accepted")
	}
	s := newSyncer(t, newSource(), kv, time.Hour)
	if err := s.SyncSigningKeys(t.Context()); err == nil {
		t.Fatal("SyncSigningKeys without a bucket succeeded")
	}
}

// TestReconcileSyncsSigningKeys: the live keys reach the bucket, retired
// ones leave it, on SyncSigningKeys and on every reconcile.
func TestReconcileSyncsSigningKeys(t *testing.T) {
	t.Parallel()
	js, kv := newKV(t)
	skv, err := signingkeys.EnsureBucket(t.Context(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	keys := &memKeys{}
	keys.add(t, "sk_a")
	s, err := appsync.New(appsync.Config{Source: newSource(app("a1", "k1")), KV: kv, SigningKeys: keys, SigningKV: skv})
	if err != nil {
		t.Fatal(err)
	}
	inBucket := func() []string {
		t.Helper()
		l, err := skv.ListKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for k := range l.Keys() {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if _, err := s.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := inBucket(); !slices.Equal(got, []string{"sk_a"}) {
		t.Fatalf("after reconcile: %v", got)
	}
	if _, _, ok := stored(t, kv, "a1"); !ok {
		t.Fatal("the app config was not synced alongside")
	}

	keys.add(t, "sk_b")
	if err := s.SyncSigningKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := inBucket(); !slices.Equal(got, []string{"sk_a", "sk_b"}) {
		t.Fatalf("after rotation: %v", got)
	}
	// A retirement that no API call published (a crashed replica) is
	// healed by the next reconcile.
	keys.retire("sk_a")
	if _, err := s.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := inBucket(); !slices.Equal(got, []string{"sk_b"}) {
		t.Fatalf("after retirement: %v", got)
	}
}
