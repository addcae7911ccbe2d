package appconfig_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/appconfig"
	"github.com/heraldhq/herald/internal/testenv"
)

// changeLog records OnChange calls.
type changeLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *changeLog) add(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, id)
}

func (l *changeLog) count(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.ids {
		if x == id {
			n++
		}
	}
	return n
}

func TestCacheFollowsChangesWithinASecond(t *testing.T) {
	e := newEnv(t)
	var changes changeLog
	cfg := cacheConfig(e.js, nil)
	cfg.OnChange = changes.add
	c := appconfig.NewCache(cfg)
	runCache(t, c)
	waitReady(t, c, slowTimeout)

	renamed := app("a", "k1", "k2")
	renamed.Name = "renamed"

	steps := []struct {
		name  string
		write func()
		done  func() bool
	}{
		{
			name:  "put",
			write: func() { put(t, e.kv, app("a", "k1", "k2")) },
			done: func() bool {
				cfg, ok := c.ByKey("k1")
				_, ok2 := c.App("a")
				return ok && ok2 && cfg.ID == "a"
			},
		},
		{
			name:  "update",
			write: func() { put(t, e.kv, renamed) },
			done: func() bool {
				cfg, ok := c.App("a")
				return ok && cfg.Name == "renamed"
			},
		},
		{
			name:  "revoke key",
			write: func() { put(t, e.kv, app("a", "k2")) },
			done: func() bool {
				_, revoked := c.ByKey("k1")
				cfg, kept := c.ByKey("k2")
				return !revoked && kept && cfg.ID == "a"
			},
		},
		{
			name:  "delete",
			write: func() { del(t, e.kv, "a") },
			done: func() bool {
				_, app := c.App("a")
				_, key := c.ByKey("k2")
				return !app && !key
			},
		},
	}
	for i, step := range steps {
		start := time.Now()
		step.write()
		eventually(t, propagation-time.Since(start), step.name, step.done)
		t.Logf("%s visible after %s", step.name, time.Since(start))
		want := i + 1
		eventually(t, propagation, step.name+" OnChange", func() bool { return changes.count("a") == want })
	}
	if c.Len() != 0 {
		t.Fatalf("Len = %d after delete, want 0", c.Len())
	}
}

func TestCacheReadyAfterInitialLoad(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"a", "b", "c", "gone"} {
		put(t, e.kv, app(id, "key-"+id))
	}
	del(t, e.kv, "gone")

	c := appconfig.NewCache(cacheConfig(e.js, nil))
	select {
	case <-c.Ready():
		t.Fatal("Ready before Run")
	default:
	}
	if _, ok := c.App("a"); ok {
		t.Fatal("App found before Run")
	}
	runCache(t, c)
	waitReady(t, c, slowTimeout)
	// Everything present at start is visible as soon as Ready closes.
	for _, id := range []string{"a", "b", "c"} {
		if _, ok := c.App(id); !ok {
			t.Errorf("App(%q) missing after Ready", id)
		}
		if cfg, ok := c.ByKey("key-" + id); !ok || cfg.ID != id {
			t.Errorf("ByKey(key-%s) = %v, %v", id, cfg, ok)
		}
	}
	if _, ok := c.App("gone"); ok {
		t.Error("deleted app present after Ready")
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
}

func TestCacheReadyOnEmptyBucket(t *testing.T) {
	e := newEnv(t)
	c := appconfig.NewCache(cacheConfig(e.js, nil))
	runCache(t, c)
	waitReady(t, c, slowTimeout)
	if c.Len() != 0 {
		t.Fatalf("Len = %d, want 0", c.Len())
	}
}

func TestCacheSkipsMalformedEntries(t *testing.T) {
	const secret = "TOP-SECRET-SEALED-BYTES"
	e := newEnv(t)
	put(t, e.kv, app("good", "kg"))
	putRaw(t, e.kv, "junk", `{"id":"junk","keys":[{"key":"kj","sealed_secret":"`+secret+`"`)
	putRaw(t, e.kv, "mismatch", `{"id":"other","keys":[{"key":"km"}]}`)

	var logs logBuffer
	c := appconfig.NewCache(cacheConfig(e.js, logs.logger()))
	runCache(t, c)
	waitReady(t, c, slowTimeout)

	if _, ok := c.App("good"); !ok {
		t.Fatal("valid app missing next to malformed ones")
	}
	for _, id := range []string{"junk", "mismatch", "other"} {
		if _, ok := c.App(id); ok {
			t.Errorf("malformed entry %q loaded", id)
		}
	}
	for _, k := range []string{"kj", "km"} {
		if _, ok := c.ByKey(k); ok {
			t.Errorf("key %q of a malformed entry is live", k)
		}
	}

	// A malformed update must not leave the previous (maybe revoked)
	// config in force: the app disappears until a valid value comes.
	putRaw(t, e.kv, "good", "not json")
	eventually(t, propagation, "malformed update removes the app", func() bool {
		_, ok := c.ByKey("kg")
		return !ok
	})
	put(t, e.kv, app("good", "kg"))
	eventually(t, propagation, "valid update restores the app", func() bool {
		_, ok := c.ByKey("kg")
		return ok
	})

	out := logs.String()
	if !strings.Contains(out, "malformed") || !strings.Contains(out, "junk") {
		t.Errorf("malformed entries were not logged; logs:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("logs contain a sealed secret:\n%s", out)
	}
}

func TestCacheDuplicateKeyFailsClosed(t *testing.T) {
	e := newEnv(t)
	put(t, e.kv, app("a", "shared", "ka"))
	put(t, e.kv, app("b", "shared", "kb"))
	c := appconfig.NewCache(cacheConfig(e.js, nil))
	runCache(t, c)
	waitReady(t, c, slowTimeout)
	if cfg, ok := c.ByKey("shared"); ok {
		t.Fatalf("a key claimed by two apps resolves to %s", cfg.ID)
	}
	if _, ok := c.ByKey("ka"); !ok {
		t.Fatal("unique key of app a lost")
	}
	// Once one app gives the key up, the other owns it.
	put(t, e.kv, app("b", "kb"))
	eventually(t, propagation, "key owned by a", func() bool {
		cfg, ok := c.ByKey("shared")
		return ok && cfg.ID == "a"
	})
}

func TestCacheWaitsForBucket(t *testing.T) {
	srv := testenv.NATS(t)
	js := testenv.JetStream(t, testenv.NATSConn(t, srv))
	var logs logBuffer
	c := appconfig.NewCache(cacheConfig(js, logs.logger()))
	runCache(t, c)
	eventually(t, slowTimeout, "a failed attempt on the missing bucket", func() bool {
		return strings.Contains(logs.String(), "bucket not found")
	})
	select {
	case <-c.Ready():
		t.Fatal("Ready without a bucket")
	default:
	}

	kv, err := appconfig.EnsureBucket(t.Context(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	put(t, kv, app("late", "kl"))
	waitReady(t, c, slowTimeout)
	eventually(t, slowTimeout, "app in a bucket created after Run", func() bool {
		_, ok := c.ByKey("kl")
		return ok
	})
}

func TestCacheSurvivesServerRestart(t *testing.T) {
	srv := testenv.NATS(t)
	// The cache and the writer use separate connections, as a gateway and
	// a control plane would.
	cacheJS := testenv.JetStream(t, testenv.NATSConn(t, srv))
	writerJS := testenv.JetStream(t, testenv.NATSConn(t, srv))
	kv, err := appconfig.EnsureBucket(t.Context(), writerJS, 1)
	if err != nil {
		t.Fatal(err)
	}
	put(t, kv, app("before", "kb"))
	put(t, kv, app("doomed", "kd"))

	var logs logBuffer
	c := appconfig.NewCache(cacheConfig(cacheJS, logs.logger()))
	stop := runCache(t, c)
	waitReady(t, c, slowTimeout)

	testenv.RestartNATS(t, srv)
	// The new server's cleanup runs before runCache's; stop first.
	defer stop()

	// The writer's connection reconnects on its own; retry until it has.
	eventually(t, slowTimeout, "write after restart", func() bool {
		if err := appconfig.Put(t.Context(), kv, app("after", "ka")); err != nil {
			t.Logf("put after restart: %v", err)
			return false
		}
		return true
	})
	del(t, kv, "doomed")
	eventually(t, slowTimeout, "cache follows writes after restart", func() bool {
		_, after := c.ByKey("ka")
		_, doomed := c.App("doomed")
		_, before := c.App("before")
		return after && !doomed && before
	})
	// The old watcher's consumer does not linger next to the new one.
	eventually(t, slowTimeout, "one watcher consumer", func() bool {
		st, err := cacheJS.Stream(t.Context(), "KV_"+appconfig.Bucket)
		if err != nil {
			return false
		}
		info, err := st.Info(t.Context())
		return err == nil && info.State.Consumers == 1
	})
	if !strings.Contains(logs.String(), "watching again") {
		t.Errorf("the cache did not notice the restart; logs:\n%s", logs.String())
	}

	// Changes after recovery still arrive within the promised second.
	start := time.Now()
	put(t, kv, app("before"))
	eventually(t, propagation-time.Since(start), "revoke after restart", func() bool {
		_, ok := c.ByKey("kb")
		return !ok
	})
}

func TestCacheRunErrors(t *testing.T) {
	if err := appconfig.NewCache(appconfig.CacheConfig{}).Run(t.Context()); err == nil {
		t.Fatal("Run without JS succeeded")
	}

	srv := testenv.NATS(t)
	nc := testenv.NATSConn(t, srv)
	js := testenv.JetStream(t, nc)
	if _, err := appconfig.EnsureBucket(t.Context(), js, 1); err != nil {
		t.Fatal(err)
	}
	c := appconfig.NewCache(cacheConfig(js, nil))
	done := make(chan error, 1)
	go func() { done <- c.Run(t.Context()) }()
	waitReady(t, c, slowTimeout)
	if err := c.Run(t.Context()); !errors.Is(err, appconfig.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}

	// A connection closed for good ends Run with an error.
	nc.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after the connection closed")
		}
	case <-time.After(slowTimeout):
		t.Fatal("Run did not return after the connection closed")
	}
}
