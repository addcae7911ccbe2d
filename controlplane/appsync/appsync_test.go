package appsync_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane/appsync"
	"github.com/heraldhq/herald/internal/testinfra"
)

// memSource is an in-memory Source. The syncer's subject is NATS, which
// is real in these tests; the database side only needs to answer.
type memSource struct {
	mu   sync.Mutex
	apps map[string]channels.AppConfig
	err  error
	// afterRead, if set, runs after AppConfig has read its answer and
	// before it returns it, to simulate a slow reader racing a writer.
	afterRead func(id string)
}

func newSource(apps ...channels.AppConfig) *memSource {
	s := &memSource{apps: make(map[string]channels.AppConfig)}
	for _, a := range apps {
		s.apps[a.ID] = a
	}
	return s
}

func (s *memSource) AppConfig(_ context.Context, id string) (channels.AppConfig, error) {
	s.mu.Lock()
	cfg, ok := s.apps[id]
	err, hook := s.err, s.afterRead
	s.mu.Unlock()
	if hook != nil {
		hook(id)
	}
	switch {
	case err != nil:
		return channels.AppConfig{}, err
	case !ok:
		return channels.AppConfig{}, channels.NotFound("app not found")
	}
	return cfg, nil
}

func (s *memSource) AppIDs(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return slices.Sorted(maps.Keys(s.apps)), nil
}

func (s *memSource) set(cfg channels.AppConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[cfg.ID] = cfg
}

func (s *memSource) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.apps, id)
}

func app(id string, keys ...string) channels.AppConfig {
	cfg := channels.AppConfig{ID: id, AccountID: "acc", Name: "app " + id, Enabled: true, Settings: channels.DefaultSettings()}
	for _, k := range keys {
		cfg.Keys = append(cfg.Keys, channels.AppKey{Key: k, SealedSecret: []byte("sealed-" + k)})
	}
	return cfg
}

func newKV(tb testing.TB) (jetstream.JetStream, jetstream.KeyValue) {
	tb.Helper()
	js := testinfra.JetStream(tb, testinfra.NATSConn(tb, testinfra.NATS(tb)))
	kv, err := appconfig.EnsureBucket(tb.Context(), js, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return js, kv
}

func newSyncer(tb testing.TB, src appsync.Source, kv jetstream.KeyValue, interval time.Duration) *appsync.Syncer {
	tb.Helper()
	s, err := appsync.New(appsync.Config{Source: src, KV: kv, Interval: interval})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// stored returns the decoded entry of id and its revision; ok is false
// when there is none.
func stored(tb testing.TB, kv jetstream.KeyValue, id string) (channels.AppConfig, uint64, bool) {
	tb.Helper()
	e, err := kv.Get(tb.Context(), id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return channels.AppConfig{}, 0, false
	}
	if err != nil {
		tb.Fatalf("get %s: %v", id, err)
	}
	cfg, err := appconfig.Decode(e.Value())
	if err != nil {
		tb.Fatalf("decode %s: %v", id, err)
	}
	return cfg, e.Revision(), true
}

// lastSeq is the bucket stream's last sequence: it moves on every write.
func lastSeq(tb testing.TB, js jetstream.JetStream) uint64 {
	tb.Helper()
	st, err := js.Stream(tb.Context(), "KV_"+appconfig.Bucket)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.LastSeq
}

func keysOf(cfg channels.AppConfig) []string {
	var ks []string
	for _, k := range cfg.Keys {
		ks = append(ks, k.Key)
	}
	return ks
}

func TestNewRequiresSourceAndKV(t *testing.T) {
	if _, err := appsync.New(appsync.Config{}); err == nil {
		t.Fatal("New without Source and KV succeeded")
	}
}

func TestSyncAppPublishesUpdatesAndDeletes(t *testing.T) {
	js, kv := newKV(t)
	src := newSource(app("a", "k1", "k2"))
	s := newSyncer(t, src, kv, 0)
	ctx := t.Context()

	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, rev, ok := stored(t, kv, "a")
	if !ok || !slices.Equal(keysOf(got), []string{"k1", "k2"}) {
		t.Fatalf("after first sync: %+v, %v", got, ok)
	}

	// Unchanged: no new revision, nothing written at all.
	seq := lastSeq(t, js)
	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, rev2, _ := stored(t, kv, "a"); rev2 != rev || lastSeq(t, js) != seq {
		t.Fatalf("unchanged sync rewrote the entry: revision %d -> %d", rev, rev2)
	}

	// Revoke a key.
	src.set(app("a", "k2"))
	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := stored(t, kv, "a"); !slices.Equal(keysOf(got), []string{"k2"}) {
		t.Fatalf("after revoke: keys %v", keysOf(got))
	}

	// Delete the app.
	src.remove("a")
	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := stored(t, kv, "a"); ok {
		t.Fatal("entry of a deleted app is still there")
	}
	// Deleting again writes nothing.
	seq = lastSeq(t, js)
	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if lastSeq(t, js) != seq {
		t.Fatal("syncing an absent app wrote to the bucket")
	}

	// Re-created after a delete.
	src.set(app("a", "k3"))
	if err := s.SyncApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, _, ok := stored(t, kv, "a"); !ok || !slices.Equal(keysOf(got), []string{"k3"}) {
		t.Fatalf("after re-create: %+v, %v", got, ok)
	}
}

func TestSyncAppErrors(t *testing.T) {
	js, kv := newKV(t)
	src := newSource(app("a", "k"))
	s := newSyncer(t, src, kv, 0)
	if err := s.SyncApp(t.Context(), "no.dots"); err == nil {
		t.Fatal("invalid app id accepted")
	}
	boom := errors.New("database down")
	src.err = boom
	seq := lastSeq(t, js)
	if err := s.SyncApp(t.Context(), "a"); !errors.Is(err, boom) {
		t.Fatalf("SyncApp = %v, want the source's error", err)
	}
	if lastSeq(t, js) != seq {
		t.Fatal("a failed source read wrote to the bucket")
	}
}

// A slow syncer that read an old config must not overwrite the newer one a
// concurrent sync already published (e.g. re-publish a revoked key).
func TestSyncAppNeverOverwritesNewerConfig(t *testing.T) {
	cases := []struct {
		name     string
		existing bool // an entry exists before the race (update path) or not (create path)
	}{
		{"create", false},
		{"update", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, kv := newKV(t)
			src := newSource(app("a", "old-key"))
			slow := newSyncer(t, src, kv, 0)
			fast := newSyncer(t, src, kv, 0)
			if tc.existing {
				if err := appconfig.Put(t.Context(), kv, app("a", "older-key")); err != nil {
					t.Fatal(err)
				}
			}
			var fired atomic.Bool
			src.afterRead = func(string) {
				if !fired.CompareAndSwap(false, true) {
					return
				}
				// While slow holds "old-key", the key is revoked and
				// another replica publishes the change.
				src.set(app("a", "new-key"))
				if err := fast.SyncApp(t.Context(), "a"); err != nil {
					t.Errorf("concurrent sync: %v", err)
				}
			}
			if err := slow.SyncApp(t.Context(), "a"); err != nil {
				t.Fatal(err)
			}
			got, _, _ := stored(t, kv, "a")
			if !slices.Equal(keysOf(got), []string{"new-key"}) {
				t.Fatalf("bucket holds keys %v, want [new-key]: a stale config overwrote a newer one", keysOf(got))
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	js, kv := newKV(t)
	ctx := t.Context()
	// The bucket before: c is current, b is stale, ghost's app is gone, and
	// a key no app id can have; a is missing.
	for _, cfg := range []channels.AppConfig{app("b", "old"), app("c", "kc"), app("ghost", "kg")} {
		if err := appconfig.Put(ctx, kv, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kv.Put(ctx, "stray.key", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_, revC, _ := stored(t, kv, "c")

	src := newSource(app("a", "ka"), app("b", "kb"), app("c", "kc"))
	s := newSyncer(t, src, kv, 0)
	st, err := s.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := appsync.Stats{Apps: 3, Written: 2, Deleted: 2, Unchanged: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	for id, keys := range map[string][]string{"a": {"ka"}, "b": {"kb"}, "c": {"kc"}} {
		got, _, ok := stored(t, kv, id)
		if !ok || !slices.Equal(keysOf(got), keys) {
			t.Errorf("%s: %+v, %v; want keys %v", id, got, ok, keys)
		}
	}
	if _, rev, _ := stored(t, kv, "c"); rev != revC {
		t.Errorf("unchanged app c rewritten: revision %d -> %d", revC, rev)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for k := range keys.Keys() {
		left = append(left, k)
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"a", "b", "c"}) {
		t.Fatalf("keys after reconcile %v, want [a b c]", left)
	}

	// A second pass finds nothing to do and writes nothing.
	seq := lastSeq(t, js)
	st, err = s.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (appsync.Stats{Apps: 3, Unchanged: 3}); st != want {
		t.Fatalf("second pass stats %+v, want %+v", st, want)
	}
	if lastSeq(t, js) != seq {
		t.Fatal("second pass wrote to the bucket")
	}
}

func TestReconcileSourceDown(t *testing.T) {
	_, kv := newKV(t)
	if err := appconfig.Put(t.Context(), kv, app("a", "k")); err != nil {
		t.Fatal(err)
	}
	src := newSource()
	src.err = errors.New("database down")
	s := newSyncer(t, src, kv, 0)
	if _, err := s.Reconcile(t.Context()); err == nil {
		t.Fatal("Reconcile succeeded with the source down")
	}
	// An unreachable source must never look like "every app was deleted".
	if _, _, ok := stored(t, kv, "a"); !ok {
		t.Fatal("entry deleted while the source was down")
	}
}

func TestRunReconcilesPeriodically(t *testing.T) {
	_, kv := newKV(t)
	src := newSource(app("a", "ka"))
	const interval = 20 * time.Millisecond
	s := newSyncer(t, src, kv, interval)

	stop := testinfra.Background(t, s.Run)
	testinfra.WaitUntil(t, "initial pass publishes a", func() bool {
		_, _, ok := stored(t, kv, "a")
		return ok
	})
	// Changes that nobody synced (a replica crashed before SyncApp) are
	// healed by a later pass.
	src.remove("a")
	src.set(app("b", "kb"))
	testinfra.WaitUntil(t, "later pass removes a and adds b", func() bool {
		_, _, a := stored(t, kv, "a")
		_, _, b := stored(t, kv, "b")
		return !a && b
	})
	stop()
}
