package webhookstate_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/internal/testinfra"
)

// keyOf is the bucket key of gw's share of an app's channel.
func keyOf(gw, ch string) string {
	return webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app", Channel: ch}, GatewayID: gw}.String()
}

// The reporter writes a channel's share once however often it is marked,
// not at all when it did not change, purges it when the gateway holds
// nothing, writes everything again on Resync, and purges all it wrote
// when it stops.
func TestReporter(t *testing.T) {
	e := newEnv(t)
	kv, err := e.js.KeyValue(t.Context(), webhookstate.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	g := e.gateway(t, "gw-r")
	get := func(ch string) jetstream.KeyValueEntry {
		en, err := kv.Get(t.Context(), keyOf("gw-r", ch))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return en
	}

	for range 50 {
		g.set("presence-a", 2, "ann", "ben")
	}
	testinfra.WaitUntil(t, "the share written", func() bool { return get("presence-a") != nil })
	en := get("presence-a")
	v, err := webhookstate.DecodeValue(en.Value())
	if err != nil || v.Subscriptions != 2 || len(v.Users) != 2 {
		t.Fatalf("value = %+v, %v", v, err)
	}
	// Marked again with the same share, and another channel to know when
	// the round is done: the first key is not rewritten.
	g.set("presence-a", 2, "ann", "ben")
	g.set("b", 1)
	testinfra.WaitUntil(t, "the second channel written", func() bool { return get("b") != nil })
	if again := get("presence-a"); again.Revision() != en.Revision() {
		t.Fatalf("an unchanged share was rewritten: revision %d -> %d", en.Revision(), again.Revision())
	}

	g.set("b", 0)
	testinfra.WaitUntil(t, "the share purged", func() bool { return get("b") == nil })

	// Taken for dead meanwhile: the control plane purged the key.
	if err := kv.Purge(t.Context(), keyOf("gw-r", "presence-a")); err != nil {
		t.Fatal(err)
	}
	g.r.Resync()
	testinfra.WaitUntil(t, "the share written again", func() bool { return get("presence-a") != nil })

	// A clean stop purges what is left.
	g.stop()
	if get("presence-a") != nil {
		t.Fatal("a clean stop left the share")
	}
}
