package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

const (
	appID     = "hookapp"
	appKey    = "hookkey"
	appSecret = "hook-secret-value"
)

// env is a database with one app and key, a NATS server with the webhook
// stream, and a way to start dispatchers.
type env struct {
	store *postgres.Store
	js    jetstream.JetStream
	pgx   *pgxpool.Pool
}

func (e *env) pool(*testing.T) *pgxpool.Pool { return e.pgx }

func newEnv(t *testing.T) *env { return newBenchEnv(t) }

func newBenchEnv(t testing.TB) *env {
	t.Helper()
	url := testenv.MigratedPostgres(t)
	store, pool := testenv.OpenStore(t, url)
	ctx := context.Background()
	acc, err := store.CreateAccount(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateApp(ctx, controlplane.NewApp{ID: appID, AccountID: acc.ID, Name: "hooks"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateKey(ctx, appID, appKey, appSecret); err != nil {
		t.Fatal(err)
	}
	testinfra.Sensitive(appSecret)
	nc := testinfra.NATSConn(t, testinfra.NATS(t))
	js := testinfra.JetStream(t, nc)
	if err := webhookevents.EnsureStream(ctx, js, webhookevents.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return &env{store: store, js: js, pgx: pool}
}

// fastConfig is second-scale (or less) retry timing.
func (e *env) fastConfig() webhooks.Config {
	return webhooks.Config{
		JS: e.js, Store: e.store, AllowPrivate: true, Version: "test",
		Timeout: 500 * time.Millisecond, FirstRetry: 100 * time.Millisecond, MaxRetry: 400 * time.Millisecond,
		RetryWindow: 30 * time.Second, PollInterval: 20 * time.Millisecond, BatchGap: 200 * time.Millisecond,
	}
}

// start runs a dispatcher until the test ends.
func (e *env) start(t *testing.T, cfg webhooks.Config) *webhooks.Dispatcher { return e.startB(t, cfg) }

func (e *env) startB(t testing.TB, cfg webhooks.Config) *webhooks.Dispatcher {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testinfra.Logger(t)
	}
	d, err := webhooks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func (e *env) benchEndpoint(b testing.TB, url string) {
	b.Helper()
	if _, err := e.store.CreateWebhookEndpoint(context.Background(), appID, controlplane.NewWebhookEndpoint{
		URL: url, Events: channels.WebhookEventNames(), Batch: true, Enabled: true}); err != nil {
		b.Fatal(err)
	}
}

func (e *env) endpoint(t *testing.T, url string, batch bool, events ...channels.WebhookEventName) controlplane.WebhookEndpoint {
	t.Helper()
	if events == nil {
		events = channels.WebhookEventNames()
	}
	w, err := e.store.CreateWebhookEndpoint(context.Background(), appID, controlplane.NewWebhookEndpoint{
		URL: url, Events: events, Batch: batch, Enabled: true,
		Headers: map[string]string{"X-Receiver-Auth": "static"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (e *env) publish(t *testing.T, evs ...channels.WebhookEvent) {
	t.Helper()
	for _, ev := range evs {
		env := channels.WebhookEnvelope{AppID: appID, TimeMS: time.Now().UnixMilli(), Event: ev}
		if err := webhookevents.Publish(context.Background(), e.js, env, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) deliveries(t *testing.T, endpointID string) []controlplane.WebhookDelivery {
	t.Helper()
	items, _, err := e.store.ListWebhookDeliveries(context.Background(), controlplane.WebhookDeliveryQuery{
		AppID: appID, EndpointID: endpointID, Page: controlplane.Page{Limit: controlplane.MaxPageLimit}})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// newReceiver is a checking endpoint of the test app.
func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter) bool) *testenv.WebhookReceiver {
	t.Helper()
	return testenv.NewWebhookReceiver(t, appID, appKey, appSecret, answer)
}

func occupied(ch string) channels.WebhookEvent {
	return channels.WebhookEvent{Name: channels.WebhookChannelOccupied, Channel: ch}
}

func vacated(ch string) channels.WebhookEvent {
	return channels.WebhookEvent{Name: channels.WebhookChannelVacated, Channel: ch}
}

// sequence is, for each of the channels, n events that all differ:
// member_added and member_removed in turn, each with a user of its own,
// so that any reordering shows.
func sequence(chans []string, n int) []channels.WebhookEvent {
	var out []channels.WebhookEvent
	for i := range n {
		for _, c := range chans {
			ev := channels.WebhookEvent{Name: channels.WebhookMemberAdded, Channel: c, UserID: fmt.Sprintf("u%d", i)}
			if i%2 == 1 {
				ev.Name = channels.WebhookMemberRemoved
			}
			out = append(out, ev)
		}
	}
	return out
}

// checkOrder fails unless got holds, per channel, exactly the names of
// want in want's order.
func checkOrder(t *testing.T, got []pusher.WebhookEvent, want []channels.WebhookEvent) {
	t.Helper()
	g, w := testenv.WebhookEventsByChannel(got), map[string][]string{}
	for _, e := range want {
		w[e.Channel] = append(w[e.Channel], testenv.WebhookEventKey(string(e.Name), e.UserID))
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("events per channel\n got %v\nwant %v", g, w)
	}
}
