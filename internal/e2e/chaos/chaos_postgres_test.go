package chaos

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// Scenario 4: PostgreSQL stopped (10 s; 2 minutes in the long version)
// while subscribers and publishers run through the balancer. The hot
// path (publish, connect, subscribe, deliver) keeps serving with no
// error; admin writes answer 503 with the unavailable code; once
// PostgreSQL is back, history stores every acknowledged message and
// usage counts exactly the acknowledged publishes (the reconciliation of
// meter, stream and history finds no difference), and no Herald, NATS or
// balancer process was restarted.
func TestChaosPostgresOutage(t *testing.T) {
	outage := pick(10*time.Second, 2*time.Minute)
	steady := pick(time.Second, 5*time.Second)
	top := faultTopology(t)
	app := newApp(t, top, "pg-outage", nil)
	chans := []string{"pg-a", "pg-b"}
	tr := newFaultTraffic(t, top, app)
	for _, ch := range chans {
		tr.subscribe(top.URL(), ch, pick(3, 10))
		tr.publish(ch, 1, 20*time.Millisecond, 0)
	}
	pids := faultPIDs(top)
	ctx, cancel := context.WithTimeout(context.Background(), faultOpTimeout+outage)
	defer cancel()
	time.Sleep(steady)

	down := time.Now()
	if err := top.Stop(ctx, topology.RolePostgres, 0); err != nil {
		t.Fatal(err)
	}
	code, _, body := faultAdmin(t, top, http.MethodPost, "/admin/v1/accounts", `{"name":"during-outage"}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) {
		t.Errorf("admin write with PostgreSQL down = %d %s, want 503 unavailable", code, body)
	}
	newConn := faultNewChannelDelivers(t, tr)
	time.Sleep(time.Until(down.Add(outage)))
	up := time.Now()
	if err := top.Start(ctx, topology.RolePostgres, 0); err != nil {
		t.Fatal(err)
	}
	var adminBack time.Duration
	testinfra.WaitUntilWithin(t, "admin writes again", faultCatchUpWithin, func() bool {
		code, _, _ := faultAdmin(t, top, http.MethodPost, "/admin/v1/accounts", `{"name":"after-outage"}`)
		adminBack = time.Since(up)
		return code == http.StatusCreated
	})
	time.Sleep(steady)
	tr.stopPublishing()
	tr.waitDelivered()
	catchUp, _ := faultCatchUp(t, top, tr, chans)
	stored := 0
	for _, ch := range chans {
		stored += faultHistoryExact(t, tr, ch)
	}
	faultSamePIDs(t, top, pids, "postgres-0")

	before, during, after := tr.window(time.Time{}, down), tr.window(down, up), tr.window(up, time.Now())
	tr.logErrors("PostgreSQL down", during)
	if during.published == 0 || during.failed > 0 {
		t.Errorf("with PostgreSQL down: %s; want publishes and no error", during)
	}
	if tr.allCloses() > 0 {
		t.Errorf("%d subscriber connections ended while PostgreSQL was down", tr.allCloses())
	}
	figures(t, "postgres", "PostgreSQL down %s (load %s); before: %s; during: %s; after: %s",
		outage, load(), before, during, after)
	figures(t, "postgres", "admin write during: %d %s; admin writes again %s after the restart; "+
		"history (%d messages, each acknowledged publish once) and usage caught up %s after the last publish; new connection+subscription+delivery during the outage in %s; "+
		"serials gap-free, no duplicates, no process restarted but PostgreSQL",
		code, strings.TrimSpace(body), adminBack.Round(time.Millisecond), stored, catchUp.Round(time.Millisecond), newConn.Round(time.Millisecond))
}

// faultNewChannelDelivers connects a new client to a new channel, has a
// message published there and waits for it: the whole hot path, from the
// handshake on. It returns how long that took; the publish counts among
// tr's acknowledged ones.
func faultNewChannelDelivers(t *testing.T, tr *faultTraffic) time.Duration {
	t.Helper()
	top, app := tr.top, tr.app
	began := time.Now()
	p, err := faultDialSubscribe(t, top.URL(), app.Key, "pg-new", 0)
	if err != nil {
		t.Fatalf("new connection during the fault: %v", err)
	}
	defer p.WS().Close()
	testenv.Trigger(t, top.URL(), app.ID, app.Key, app.Secret, faultEvent, `{"id":"new"}`, "pg-new")
	tr.published.Add(1)
	for {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("new subscriber during the fault: %v", err)
		}
		if e.Event == faultEvent && e.Channel == "pg-new" {
			return time.Since(began)
		}
	}
}
