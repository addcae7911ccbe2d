package appconfig_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := app("app_1", "k1", "k2")
	b, err := appconfig.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := appconfig.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the config:\n in: %+v\nout: %+v", in, out)
	}
}

func TestEncodeRejectsBadID(t *testing.T) {
	if _, err := appconfig.Encode(app("not.a.key")); err == nil {
		t.Fatal("Encode accepted an app id that is not a legal KV key")
	}
}

func TestDecodeMalformed(t *testing.T) {
	const secret = "c2VjcmV0LXNob3VsZC1uZXZlci1sZWFr"
	cases := []struct {
		name, value string
	}{
		{"not json", "{nope"},
		{"empty", ""},
		{"missing id", `{"name":"x"}`},
		{"bad id", `{"id":"a b"}`},
		{"empty key", `{"id":"a","keys":[{"key":"","sealed_secret":null}]}`},
		{"bad secret encoding", `{"id":"a","keys":[{"key":"k","sealed_secret":"!` + secret + `"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := appconfig.Decode([]byte(tc.value))
			if !isMalformed(err) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error quotes the sealed secret: %v", err)
			}
		})
	}
}

func TestPutDeleteAndBucketConfig(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	status, err := e.kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.History() != 1 || status.Bucket() != appconfig.Bucket {
		t.Fatalf("bucket %s history %d, want %s history 1", status.Bucket(), status.History(), appconfig.Bucket)
	}
	// EnsureBucket is idempotent.
	if _, err := appconfig.EnsureBucket(ctx, e.js, 1); err != nil {
		t.Fatalf("second EnsureBucket: %v", err)
	}

	put(t, e.kv, app("a", "k"))
	got, err := e.kv.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := appconfig.Decode(got.Value()); err != nil || cfg.ID != "a" {
		t.Fatalf("stored value decodes to %+v, %v", cfg, err)
	}
	del(t, e.kv, "a")
	if _, err := e.kv.Get(ctx, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("after Delete, Get = %v, want ErrKeyNotFound", err)
	}
	// Deleting again is fine.
	del(t, e.kv, "a")
	if err := appconfig.Delete(context.Background(), e.kv, "bad id"); err == nil {
		t.Fatal("Delete accepted an invalid app id")
	}
}
