package encrypted_test

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
)

// The master key "This is a string that is 32 chr!"; the shared secret is
// what pusher-http-go v5 answers for the channel.
var master = []byte("This is a string that is 32 chr!")

func TestSharedSecretMatchesPusher(t *testing.T) {
	got, err := encrypted.SharedSecretBase64("private-encrypted-foobar", master)
	if err != nil {
		t.Fatal(err)
	}
	if want := "pJ4vBuUXSHCFbhqZYxl5l+tcH2b1Dz9enig8HnovwS0="; got != want {
		t.Fatalf("shared secret = %s, want %s", got, want)
	}
	if _, err := encrypted.SharedSecret("private-encrypted-foobar", master[:31]); !errors.Is(err, encrypted.ErrMasterKey) {
		t.Fatalf("31-byte master key: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	sealed, err := encrypted.Seal("private-encrypted-a", master, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := encrypted.Seal("private-encrypted-a", master, []byte("hello"))
	if err != nil || again == sealed {
		t.Fatalf("two seals of the same data are equal (nonce reused?): %v", err)
	}
	secret, _ := encrypted.SharedSecretBase64("private-encrypted-a", master)
	key, err := encrypted.KeyFromBase64(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := encrypted.Open(key, sealed); err != nil || string(got) != "hello" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for _, bad := range []string{"", "{}", `{"nonce":"AAAA","ciphertext":""}`, "not json"} {
		if _, err := encrypted.Open(key, bad); !errors.Is(err, encrypted.ErrDecrypt) {
			t.Errorf("Open(%q) = %v", bad, err)
		}
	}
	if _, err := encrypted.KeyFromBase64("c2hvcnQ="); err == nil {
		t.Error("a short shared secret was accepted")
	}
}
