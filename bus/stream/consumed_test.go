package stream_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// TestDecodeConsumed reads stored messages back through a durable pull
// consumer, as the history writer does.
func TestDecodeConsumed(t *testing.T) {
	e := newEnv(t)
	p := newPublisher(t, e.js, 0)
	const channel = "presence-room.1@x,y;z"
	good := stream.Message{AppID: testApp, Channel: channel, Event: "client-typing", Data: []byte{0, 0xff, 'x'},
		UserID: "user ü", ExcludeSocket: "1.2", Source: stream.SourceClient}
	serial := publish(t, p, good)

	// Messages that did not come through a Publisher.
	raw := func(subject string, h nats.Header) {
		t.Helper()
		if _, err := e.js.PublishMsg(t.Context(), &nats.Msg{Subject: subject, Header: h, Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	raw("herald.msg.0."+testApp+".!!", nats.Header{stream.HeaderEvent: {"e"}})
	raw(channels.MessageSubject(0, testApp, "c"), nats.Header{})
	raw("herald.msg.0."+testApp+"."+channels.SubjectToken("c")+".extra", nats.Header{stream.HeaderEvent: {"e"}})

	c, err := e.js.CreateOrUpdateConsumer(t.Context(), stream.StreamName(0), jetstream.ConsumerConfig{
		Durable: "test", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(4, jetstream.FetchMaxWait(testTimeout))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 4 {
		t.Fatalf("fetched %d messages (%v), want 4", len(msgs), batch.Error())
	}

	d, err := stream.DecodeConsumed(msgs[0])
	if err != nil {
		t.Fatalf("DecodeConsumed: %v", err)
	}
	if d.AppID != testApp || d.Channel != channel || d.Event != good.Event || !bytes.Equal(d.Data, good.Data) ||
		d.UserID != good.UserID || d.ExcludeSocket != good.ExcludeSocket || d.Source != good.Source || d.Serial != serial {
		t.Errorf("decoded %+v from %+v (serial %d)", d, good, serial)
	}
	if time.Since(d.Time) > time.Minute || d.Time.After(time.Now().Add(time.Minute)) {
		t.Errorf("time = %v", d.Time)
	}
	for i, m := range msgs[1:] {
		d, err := stream.DecodeConsumed(m)
		if !errors.Is(err, stream.ErrMalformed) {
			t.Errorf("malformed message %d (%s): err = %v", i, m.Subject(), err)
		}
		if d.Serial != serial+uint64(i)+1 {
			t.Errorf("malformed message %d: serial = %d, want %d", i, d.Serial, serial+uint64(i)+1)
		}
	}
}
