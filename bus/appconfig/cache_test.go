package appconfig_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/internal/testinfra"
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
	testinfra.WaitReady(t, "the cache", c.Ready())

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
		testinfra.WaitUntilWithin(t, step.name, propagation-time.Since(start), step.done)
		t.Logf("%s visible after %s", step.name, time.Since(start))
		want := i + 1
		testinfra.WaitUntilWithin(t, step.name+" OnChange", propagation, func() bool { return changes.count("a") == want })
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
	testinfra.WaitReady(t, "the cache", c.Ready())
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
	testinfra.WaitReady(t, "the cache", c.Ready())
	if c.Len() != 0 {
		t.Fatalf("Len = %d, want 0", c.Len())
	}
	if err := c.Run(t.Context()); !errors.Is(err, appconfig.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}
}

func TestCacheSkipsMalformedEntries(t *testing.T) {
	const secret = "TOP-SECRET-SEALED-BYTES"
	e := newEnv(t)
	put(t, e.kv, app("good", "kg"))
	putRaw(t, e.kv, "junk", `{"id":"junk","keys":[{"key":"kj","sealed_secret":"`+secret+`"`)
	putRaw(t, e.kv, "mismatch", `{"id":"other","keys":[{"key":"km"}]}`)

	var logs testinfra.LogBuffer
	c := appconfig.NewCache(cacheConfig(e.js, logs.Logger()))
	runCache(t, c)
	testinfra.WaitReady(t, "the cache", c.Ready())

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
	testinfra.WaitUntilWithin(t, "malformed update removes the app", propagation, func() bool {
		_, ok := c.ByKey("kg")
		return !ok
	})
	put(t, e.kv, app("good", "kg"))
	testinfra.WaitUntilWithin(t, "valid update restores the app", propagation, func() bool {
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
	testinfra.WaitReady(t, "the cache", c.Ready())
	if cfg, ok := c.ByKey("shared"); ok {
		t.Fatalf("a key claimed by two apps resolves to %s", cfg.ID)
	}
	if _, ok := c.ByKey("ka"); !ok {
		t.Fatal("unique key of app a lost")
	}
	// Once one app gives the key up, the other owns it.
	put(t, e.kv, app("b", "kb"))
	testinfra.WaitUntilWithin(t, "key owned by a", propagation, func() bool {
		cfg, ok := c.ByKey("shared")
		return ok && cfg.ID == "a"
	})
}

// AccountApps lists an account's apps, following moves and deletes.
func TestCacheAccountApps(t *testing.T) {
	e := newEnv(t)
	c := appconfig.NewCache(cacheConfig(e.js, nil))
	runCache(t, c)
	testinfra.WaitReady(t, "the cache", c.Ready())
	a, b := app("a", "ka"), app("b", "kb")
	b.AccountID = "other"
	put(t, e.kv, a)
	put(t, e.kv, b)
	ids := func(acct string) []string {
		var out []string
		for _, cfg := range c.AccountApps(acct) {
			out = append(out, cfg.ID)
		}
		slices.Sort(out)
		return out
	}
	testinfra.WaitUntilWithin(t, "both apps indexed", propagation, func() bool {
		return slices.Equal(ids("acc"), []string{"a"}) && slices.Equal(ids("other"), []string{"b"})
	})
	b.AccountID = "acc"
	put(t, e.kv, b)
	testinfra.WaitUntilWithin(t, "the moved app indexed", propagation, func() bool {
		return slices.Equal(ids("acc"), []string{"a", "b"}) && len(ids("other")) == 0
	})
}
