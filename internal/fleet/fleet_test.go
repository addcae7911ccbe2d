package fleet_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fleet"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// A fleet against `herald dev`: subscribers connect, a publisher's
// acknowledged serials all arrive; every connection is dropped, each
// client resumes, and still every acknowledged serial arrives once.
func TestFleetResumesAfterDrop(t *testing.T) {
	const subscribers = 20
	h := testenv.Herald(t)
	names := []string{"fleet-a", "fleet-b"}
	f := fleet.New(fleet.Config{
		Key: platform.DefaultDevAppKey, Event: "tick",
		URL:     func(int, int) string { return h.URL() },
		Channel: func(i int) string { return names[i%len(names)] },
	})
	t.Cleanup(f.Stop)
	if err := f.Start(context.Background(), subscribers, 4); err != nil {
		t.Fatal(err)
	}
	acks := fleet.NewAcks()
	pub, err := fleet.StartPublisher(fleet.PublisherConfig{
		URL: h.URL(), AppID: platform.DefaultDevAppID, Key: platform.DefaultDevAppKey, Secret: platform.DefaultDevAppSecret,
		Channels: names, Event: "tick", Rate: 100, Workers: 2,
	}, acks)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "some publishes", func() bool { return acks.Count() >= 10 })
	if n := f.Drop(); n != subscribers {
		t.Fatalf("dropped %d of %d", n, subscribers)
	}
	testinfra.WaitUntil(t, "every subscriber back", func() bool { return f.Connected() == subscribers })
	n := acks.Count()
	testinfra.WaitUntil(t, "publishes after the drop", func() bool { return acks.Count() >= n+10 })
	pub.Stop()
	testinfra.WaitUntil(t, "every acknowledged serial delivered", func() bool { return f.Check(acks).Missing == 0 })
	f.Stop()
	r := f.Check(acks)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if nerr, kinds := pub.Errors(); nerr > 0 {
		t.Fatalf("%d publish errors: %v", nerr, kinds)
	}
	if rec := f.Reconnects(); len(rec) != subscribers || rec.Max() > time.Minute {
		t.Fatalf("reconnects %s for %d dropped", rec.Summary(), subscribers)
	}
	if r.Expected != r.Delivered || r.Delivered == 0 {
		t.Fatalf("report %s", r)
	}
	if closes := f.Closes(); closes[0] < subscribers {
		t.Fatalf("closes %v: the drops were not seen", closes)
	}
}
