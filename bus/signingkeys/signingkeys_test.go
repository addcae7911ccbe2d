package signingkeys_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/signingkeys"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// propagation bounds how long a bucket change takes to reach a cache.
const propagation = 5 * time.Second

func newKey(tb testing.TB, kid string) signingkeys.Key {
	tb.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return signingkeys.Key{KID: kid, PublicKey: pub}
}

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	k := newKey(t, "sk_a")
	b, err := signingkeys.Encode(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := signingkeys.Decode(b)
	if err != nil || got.KID != k.KID || !bytes.Equal(got.PublicKey, k.PublicKey) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	bad := map[string]string{
		"not JSON":      `{`,
		"bad kid":       `{"kid":"a b","public_key":"` + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" + `"}`,
		"short key":     `{"kid":"sk_a","public_key":"AAAA"}`,
		"no public key": `{"kid":"sk_a"}`,
	}
	for name, v := range bad {
		if _, err := signingkeys.Decode([]byte(v)); !errors.Is(err, signingkeys.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := signingkeys.Encode(signingkeys.Key{KID: "x"}); !errors.Is(err, signingkeys.ErrMalformed) {
		t.Errorf("Encode of an empty key = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kid":"sk_a","public_key":"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}`))
	f.Add([]byte(`{"kid":"","public_key":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := signingkeys.Decode(data)
		if err != nil {
			if !errors.Is(err, signingkeys.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Whatever decodes encodes again to a value that decodes the same.
		b, err := signingkeys.Encode(k)
		if err != nil {
			t.Fatalf("decoded key does not encode: %v", err)
		}
		again, err := signingkeys.Decode(b)
		if err != nil || again.KID != k.KID || !bytes.Equal(again.PublicKey, k.PublicKey) {
			t.Fatalf("re-decode = %+v, %v", again, err)
		}
	})
}

// changes records OnChange calls.
type changes struct {
	mu   sync.Mutex
	kids []string
}

func (c *changes) add(kid string) { c.mu.Lock(); c.kids = append(c.kids, kid); c.mu.Unlock() }

func (c *changes) has(kid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.kids {
		if k == kid {
			return true
		}
	}
	return false
}

func TestSyncAndCache(t *testing.T) {
	t.Parallel()
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	ctx := t.Context()
	kv, err := signingkeys.EnsureBucket(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := newKey(t, "sk_a"), newKey(t, "sk_b"), newKey(t, "sk_c")

	// A stray entry and a stale value are both replaced by the sync.
	if _, err := kv.Put(ctx, "sk_stray", []byte("junk")); err != nil {
		t.Fatal(err)
	}
	st, err := signingkeys.Sync(ctx, kv, []signingkeys.Key{a, b})
	if err != nil || st != (signingkeys.SyncStats{Written: 2, Deleted: 1}) {
		t.Fatalf("first sync = %+v, %v", st, err)
	}
	if st, err := signingkeys.Sync(ctx, kv, []signingkeys.Key{a, b}); err != nil || st != (signingkeys.SyncStats{Unchanged: 2}) {
		t.Fatalf("idempotent sync = %+v, %v", st, err)
	}

	var seen changes
	cache := signingkeys.NewCache(signingkeys.CacheConfig{JS: js, Logger: testinfra.Logger(t), OnChange: seen.add})
	testinfra.Background(t, cache.Run)
	testinfra.WaitReady(t, "the cache", cache.Ready())
	// Ready means loaded: no waiting for the initial keys.
	if k, ok := cache.PublicKey("sk_a"); !ok || !bytes.Equal(k, a.PublicKey) || cache.Len() != 2 {
		t.Fatalf("after load: sk_a %v, len %d", ok, cache.Len())
	}
	if _, ok := cache.PublicKey("sk_stray"); ok {
		t.Fatal("stray entry in the cache")
	}

	// Rotate (c added) and retire (a removed) in one sync.
	if st, err := signingkeys.Sync(ctx, kv, []signingkeys.Key{b, c}); err != nil || st.Written != 1 || st.Deleted != 1 {
		t.Fatalf("rotate+retire sync = %+v, %v", st, err)
	}
	testinfra.WaitUntilWithin(t, "sk_c added and sk_a removed", propagation, func() bool {
		_, hasC := cache.PublicKey("sk_c")
		_, hasA := cache.PublicKey("sk_a")
		return hasC && !hasA && seen.has("sk_a") && seen.has("sk_c")
	})

	// A malformed value under a kid counts as absent, never as the old key.
	if _, err := kv.Put(ctx, "sk_b", []byte(`{"kid":"sk_other","public_key":"AAAA"}`)); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntilWithin(t, "malformed sk_b dropped", propagation, func() bool {
		_, ok := cache.PublicKey("sk_b")
		return !ok
	})
	if err := cache.Run(ctx); !errors.Is(err, signingkeys.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
}
