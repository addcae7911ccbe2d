package secretbox_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/secretbox"
)

func newBox(t *testing.T) *secretbox.Box {
	t.Helper()
	key, err := secretbox.ParseKey(secretbox.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	b := newBox(t)
	sealed := b.Seal([]byte("app-secret"), []byte("aad"))
	if bytes.Contains(sealed, []byte("app-secret")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := b.Open(sealed, []byte("aad"))
	if err != nil || string(got) != "app-secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRejects(t *testing.T) {
	b := newBox(t)
	other := newBox(t)
	sealed := b.Seal([]byte("s"), []byte("aad"))
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	cases := map[string]struct {
		box    *secretbox.Box
		sealed []byte
		aad    string
	}{
		"wrong aad":        {b, sealed, "other"},
		"wrong master key": {other, sealed, "aad"},
		"tampered":         {b, tampered, "aad"},
		"truncated":        {b, sealed[:5], "aad"},
		"empty":            {b, nil, "aad"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := c.box.Open(c.sealed, []byte(c.aad)); !errors.Is(err, secretbox.ErrOpen) {
				t.Fatalf("Open err = %v, want ErrOpen", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	if _, err := secretbox.ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := secretbox.ParseKey("!!!"); err == nil {
		t.Fatal("non-base64 accepted")
	}
	if _, err := secretbox.New(make([]byte, 16)); err == nil {
		t.Fatal("16-byte key accepted")
	}
}
