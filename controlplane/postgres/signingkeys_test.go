package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/secretbox"
)

// liveKIDs lists the live kids, newest first, and the active one.
func liveKIDs(tb testing.TB, f *fixture) (live []string, active string) {
	tb.Helper()
	keys, err := f.store.ListSigningKeys(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		if k.Live() {
			live = append(live, k.KID)
		}
		if k.Active {
			if active != "" {
				tb.Fatalf("two active keys: %s and %s", active, k.KID)
			}
			active = k.KID
		}
	}
	return live, active
}

func TestActiveSignerCreatesOneFirstKeyUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Several control planes starting at once on a fresh database.
	const starters = 8
	signers := make([]controlplane.Signer, starters)
	errs := make([]error, starters)
	var wg sync.WaitGroup
	for i := range starters {
		wg.Go(func() { signers[i], errs[i] = f.store.ActiveSigner(ctx) })
	}
	wg.Wait()
	for i := range starters {
		if errs[i] != nil {
			t.Fatalf("ActiveSigner: %v", errs[i])
		}
		if signers[i].KID != signers[0].KID {
			t.Fatalf("signers disagree: %s and %s", signers[i].KID, signers[0].KID)
		}
	}
	live, active := liveKIDs(t, f)
	if len(live) != 1 || active != signers[0].KID || !strings.HasPrefix(active, "sk_") {
		t.Fatalf("keys = %v, active %s, signer %s", live, active, signers[0].KID)
	}
	// The opened private key is the pair of the listed public key.
	keys, _ := f.store.ListSigningKeys(ctx)
	if !bytes.Equal(signers[0].PrivateKey.Public().(ed25519.PublicKey), keys[0].PublicKey) {
		t.Fatal("private key does not match the public key")
	}
}

func TestRotateAndRetire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.store.ActiveSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.store.RotateSigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Active || second.KID == first.KID || len(second.PublicKey) != ed25519.PublicKeySize {
		t.Fatalf("rotated = %+v", second)
	}
	if s, _ := f.store.ActiveSigner(ctx); s.KID != second.KID {
		t.Fatalf("signer after rotate = %s, want %s", s.KID, second.KID)
	}
	if live, active := liveKIDs(t, f); len(live) != 2 || active != second.KID || live[1] != first.KID {
		t.Fatalf("after rotate: live %v, active %s", live, active)
	}

	cases := []struct {
		name       string
		kid        string
		code       channels.Code
		wantLive   int
		wantActive string
	}{
		{"unknown kid", "sk_nope", channels.CodeNotFound, 2, second.KID},
		// Retiring the signer is allowed while another live key exists;
		// that one signs from then on.
		{"the signer, with another live key", second.KID, "", 1, first.KID},
		{"again: changes nothing", second.KID, "", 1, first.KID},
		{"the last live key", first.KID, channels.CodeConflict, 1, first.KID},
	}
	for _, c := range cases {
		err := f.store.RetireSigningKey(ctx, c.kid)
		if c.code != "" {
			wantError(t, err, c.code, "")
		} else if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		live, active := liveKIDs(t, f)
		if len(live) != c.wantLive || active != c.wantActive {
			t.Fatalf("%s: live %v, active %s; want %d live, %s active", c.name, live, active, c.wantLive, c.wantActive)
		}
	}
	if s, _ := f.store.ActiveSigner(ctx); s.KID != first.KID {
		t.Fatalf("signer = %s, want %s", s.KID, first.KID)
	}
	// A retired key shows its retirement; rotating then retiring the
	// old signer leaves only the new one.
	third, err := f.store.RotateSigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.RetireSigningKey(ctx, first.KID); err != nil {
		t.Fatal(err)
	}
	keys, _ := f.store.ListSigningKeys(ctx)
	if len(keys) != 3 || keys[0].KID != third.KID || !keys[0].Active || keys[1].RetiredAt == nil || keys[2].RetiredAt == nil {
		t.Fatalf("keys = %+v", keys)
	}
}

func TestSigningKeySealedAtRest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, err := f.store.ActiveSigner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	if err := f.pool.QueryRow(ctx, "select sealed_private_key from signing_keys where kid = $1", a.KID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, a.PrivateKey.Seed()) {
		t.Fatal("the private key is stored in the clear")
	}
	if got, err := f.box.Open(sealed, postgres.SigningKeyAAD(a.KID)); err != nil || !bytes.Equal(got, a.PrivateKey) {
		t.Fatalf("open with its kid: %v", err)
	}

	// A sealed key moved to another row does not open there: the
	// binding to the kid holds.
	b, err := f.store.RotateSigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, "update signing_keys set sealed_private_key = $1 where kid = $2", sealed, b.KID); err != nil {
		t.Fatal(err)
	}
	_, err = f.store.ActiveSigner(ctx)
	if !errors.Is(err, secretbox.ErrOpen) {
		t.Fatalf("ActiveSigner with a swapped sealed key = %v, want ErrOpen", err)
	}
}
