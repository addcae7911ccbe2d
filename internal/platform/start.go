package platform

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/conncount"
	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/bus/signingkeys"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/api"
	"github.com/heraldhq/herald/controlplane/appsync"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/controlplane/webhooks"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/secretbox"
)

// parts are the running pieces, kept for the handler and background work.
type parts struct {
	pgCluster *pgcluster.Cluster
	pool      *pgxpool.Pool
	store     *postgres.Store
	nats      *natsembed.Server
	nc        *nats.Conn
	liveNC    *nats.Conn
	js        jetstream.JetStream
	syncer    *appsync.Syncer
	api       *api.API

	apps        *appconfig.Cache
	signingKeys *signingkeys.Cache
	publisher   *stream.Publisher
	reader      *stream.Reader
	cache       *cachechan.Store
	presence    *presence.Presence
	connCount   *conncount.Counter
	gateway     *gateway.Gateway
	// authGuard is shared by the gateway and the API of one process.
	authGuard *authguard.Guard

	history        historyParts
	meter          meterParts
	perf           perfParts
	quota          quotaParts
	webhooks       *webhooks.Dispatcher
	webhookSources webhookSourceParts
	debug          debugParts
}

// start brings up every part in dependency order. Postgres and NATS start
// concurrently because each takes a noticeable share of start-up time.
func (p *Platform) start(ctx context.Context) error {
	if p.cfg.MetricsAppLabels {
		p.cfg.Logger.Warn("--metrics-app-labels: the connections, deliveries, slow-consumer and quota series get one series per app; " +
			"with many apps this multiplies what Prometheus stores (docs/operations.md, \"Per-app labels\")")
	}
	if p.cfg.Mode == ModeDev {
		if err := p.openDataDir(ctx); err != nil {
			return err
		}
	}
	if p.cfg.DatabaseURL != "" && p.cfg.Mode != ModeGateway {
		// Before anything else starts, so that a bad URL is one clear
		// error and not the tail of a half-started platform.
		if err := p.checkDatabase(ctx); err != nil {
			return err
		}
	}
	fresh, err := p.freshDataDir()
	if err != nil {
		return err
	}
	p.newDataDir = fresh
	masterKey, err := p.secretFromFile(p.cfg.MasterKey, masterKeyFile, secretbox.GenerateKey)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	keyBytes, err := secretbox.ParseKey(masterKey)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	box, err := secretbox.New(keyBytes)
	if err != nil {
		return err
	}
	p.adminToken, err = p.secretFromFile(p.cfg.AdminToken, AdminTokenFile, newBootstrapToken)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}

	p.box = box
	p.parts.history.masterKey = keyBytes
	if err := p.startPerf(); err != nil {
		return err
	}

	var dbURL string
	g, gctx := errgroup.WithContext(ctx)
	if p.cfg.Mode != ModeGateway {
		g.Go(func() error {
			u, err := p.startPostgres(gctx)
			dbURL = u
			return err
		})
	}
	g.Go(func() error { return p.startNATS(gctx) })
	if err := g.Wait(); err != nil {
		return err
	}
	p.ops.AddCheck("nats", p.checkNATS)
	p.ops.AddCheck("started", p.startedCheck)

	guard, err := authguard.New(authguard.Config{
		Rate: p.cfg.Limits.AuthFailRate, Burst: p.cfg.Limits.AuthFailBurst,
		Loopback: p.cfg.Limits.Conn.Loopback, TrustedProxies: p.cfg.Limits.Conn.TrustedProxies,
		Registerer: p.ops.Registry(),
	})
	if err != nil {
		return err
	}
	p.parts.authGuard = guard

	if err := p.startMessaging(ctx); err != nil {
		return err
	}
	if err := p.startMeter(ctx); err != nil {
		return err
	}
	if err := p.startQuotas(ctx); err != nil {
		return err
	}
	if err := p.startWebhookSources(ctx); err != nil {
		return err
	}
	if err := p.startDebug(ctx); err != nil {
		return err
	}
	if p.cfg.Mode != ModeGateway {
		if err := p.startControlPlane(ctx, dbURL); err != nil {
			return err
		}
	}
	if p.cfg.Mode != ModeControlPlane {
		if err := p.startGateway(ctx); err != nil {
			return err
		}
	}
	return nil
}

// startControlPlane connects to Postgres and builds the APIs and the app
// config syncer.
func (p *Platform) startControlPlane(ctx context.Context, dbURL string) error {
	if err := postgres.MigrateUp(ctx, dbURL); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("database url: %w", err)
	}
	poolCfg.ConnConfig.RuntimeParams["application_name"] = "herald"
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	p.parts.pool = pool
	p.addCloser("postgres pool", func(context.Context) error { pool.Close(); return nil })

	store, err := postgres.NewStore(postgres.Config{Pool: pool, Box: p.box, Logger: p.cfg.Logger})
	if err != nil {
		return err
	}
	p.parts.store = store
	if p.cfg.Mode == ModeDev {
		if err := p.seedDemoApp(ctx); err != nil {
			return err
		}
	}
	defaultPlan, err := p.resolveDefaultPlan(ctx)
	if err != nil {
		return err
	}

	kv, err := ensureBucket(ctx, p.cfg.Logger, "app config bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return appconfig.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	})
	if err != nil {
		return fmt.Errorf("app config bucket: %w", err)
	}
	signingKV, err := ensureBucket(ctx, p.cfg.Logger, "signing key bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return signingkeys.EnsureBucket(ctx, p.parts.js, p.cfg.NATSReplicas)
	})
	if err != nil {
		return fmt.Errorf("signing key bucket: %w", err)
	}
	// A fresh database gets its first signing key now, before the first
	// reconcile publishes the live keys; concurrent control planes agree
	// on one (the store serializes the creation).
	if _, err := store.ActiveSigner(ctx); err != nil {
		return err
	}
	syncer, err := appsync.New(appsync.Config{
		Source: store, KV: kv, Interval: p.cfg.ConfigSyncInterval, Logger: p.cfg.Logger,
		SigningKeys: store, SigningKV: signingKV,
	})
	if err != nil {
		return err
	}
	p.parts.syncer = syncer
	// One pass before serving, so that gateways (ours included) know every
	// app, the demo app among them, from the first request. It reads and
	// writes the buckets just ensured: on a young cluster their replicas
	// may not answer yet ("no responders"), so it gets start-up's retries.
	if err := retryStartup(ctx, p.cfg.Logger, "first app config sync", func(ctx context.Context) error {
		_, err := syncer.Reconcile(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("app config sync: %w", err)
	}

	// Channel queries ask every gateway the registry lists
	// (docs/architecture.md, "Cluster-wide state").
	occ, err := occupancy.NewClient(occupancy.ClientConfig{
		NC: p.parts.nc, Registry: gateways.NewReader(p.parts.nc), Logger: p.cfg.Logger,
	})
	if err != nil {
		return err
	}
	if err := p.startHistory(store); err != nil {
		return err
	}
	if err := p.startAggregators(store); err != nil {
		return err
	}
	if err := p.startWebhooks(store); err != nil {
		return err
	}
	if err := p.newWebhookDecider(); err != nil {
		return err
	}
	var totals api.TotalsRefresher
	if r := p.parts.meter.reporter; r != nil {
		totals = r
	}
	a, err := api.New(api.Config{
		Store: store, Publisher: syncer, KeyPublisher: syncer, SigningKeys: p.parts.signingKeys,
		AdminToken: p.adminToken, Logger: p.cfg.Logger, Streams: stream.NewCounter(p.parts.js),
		Apps: p.parts.apps, Box: p.box, Events: p.parts.publisher, Cache: p.parts.cache,
		Occupancy: occ,
		History:   api.HistoryConfig{Reader: p.parts.history.reader, MasterKey: p.parts.history.masterKey},
		Meter:     p.parts.meter.meter, DefaultPlanID: defaultPlan,
		Quotas:     p.parts.quota.enforcer,
		Stored:     p.parts.reader,
		Totals:     totals,
		Webhooks:   api.WebhooksConfig{Tester: p.parts.webhooks, AllowPrivate: p.cfg.Webhooks.AllowPrivate},
		Registerer: p.ops.Registry(),
		AuthGuard:  p.parts.authGuard,
		Hops:       p.parts.perf.hops,
		Debug: api.DebugConfig{
			Watchers: p.parts.debug.watchers, Events: p.parts.debug.publisher, Heartbeat: p.cfg.Debug.Heartbeat,
		},
	})
	if err != nil {
		return err
	}
	p.parts.api = a
	p.ops.AddCheck("postgres", store.Ping)
	return nil
}

// runBackground starts the long-running workers in g; they stop with ctx.
func (p *Platform) runBackground(ctx context.Context, g *errgroup.Group) {
	if p.parts.syncer != nil {
		g.Go(func() error {
			if err := p.parts.syncer.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("app config sync: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error { p.parts.authGuard.Run(ctx); return nil })
	p.runHistory(ctx, g)
	p.runMeter(ctx, g)
	p.runWebhooks(ctx, g)
	p.runWebhookSources(ctx, g)
	p.runDebug(ctx, g)
	p.runPprof(ctx, g)
	p.runEdge(ctx, g)
}

func (p *Platform) startPostgres(ctx context.Context) (string, error) {
	if p.cfg.DatabaseURL != "" {
		return p.cfg.DatabaseURL, nil
	}
	bin, err := pgcluster.FindBinaries(p.cfg.PGBinDir)
	if err != nil {
		return "", err
	}
	dir, err := pgcluster.DirFor(p.cfg.DataDir)
	if err != nil {
		return "", err
	}
	p.sweepClusters(ctx, dir)
	if p.newDataDir {
		if err := p.dropStaleCluster(ctx, dir); err != nil {
			return "", err
		}
	}
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, BinDir: bin, Logger: p.cfg.Logger, Owner: p.cfg.DataDir})
	if err != nil {
		return "", fmt.Errorf("start postgres: %w", err)
	}
	p.parts.pgCluster = c
	p.addCloser("postgres", c.Stop)
	return c.URL(pgcluster.DefaultDatabase), nil
}

func (p *Platform) startNATS(ctx context.Context) error {
	if p.cfg.NATSURL == "" {
		s, err := natsembed.Start(ctx, natsembed.Config{
			StoreDir: filepath.Join(p.cfg.DataDir, natsDir),
			Port:     p.cfg.NATSPort,
			Logger:   p.cfg.Logger,
		})
		if err != nil {
			return fmt.Errorf("start embedded nats: %w", err)
		}
		p.parts.nats = s
		p.addCloser("embedded nats", s.Shutdown)
		p.natsURL = s.ClientURL()
	} else {
		p.natsURL = p.cfg.NATSURL
	}
	// Live subscriptions get a connection of their own, so that a burst of
	// deliveries never queues behind JetStream API calls (docs/nats.md,
	// "Connections").
	nc, err := p.connectNATS("herald-" + p.modeName())
	if err != nil {
		return err
	}
	p.parts.nc = nc
	p.addCloser("nats connection", func(context.Context) error { return drain(nc) })
	liveNC, err := p.connectNATS("herald-" + p.modeName() + "-live")
	if err != nil {
		return err
	}
	p.parts.liveNC = liveNC
	if err := p.registerNATSMetrics(map[string]*nats.Conn{natsConnMain: nc, natsConnLive: liveNC}); err != nil {
		return fmt.Errorf("nats metrics: %w", err)
	}
	p.addCloser("nats live connection", func(context.Context) error { return drain(liveNC) })
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	p.parts.js = js
	return nil
}

func (p *Platform) connectNATS(name string) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			p.cfg.Logger.Warn("nats error", "conn", name, "err", err)
		}),
	}
	var nc *nats.Conn
	var err error
	if p.parts.nats != nil {
		nc, err = p.parts.nats.Connect(name, opts...)
	} else {
		nc, err = nats.Connect(p.cfg.NATSURL, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	return nc, nil
}

// drain flushes what this process published and closes the connection.
func drain(nc *nats.Conn) error {
	if nc.IsClosed() {
		return nil
	}
	if err := nc.Drain(); err != nil {
		nc.Close()
		return err
	}
	return nil
}

func (p *Platform) checkNATS(ctx context.Context) error {
	if !p.parts.nc.IsConnected() {
		return fmt.Errorf("nats %s", strings.ToLower(p.parts.nc.Status().String()))
	}
	if _, err := p.parts.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return nil
}

func (p *Platform) seedDemoApp(ctx context.Context) error {
	// An unlimited plan, so that dev shows plans without limiting
	// anything; the operator may change it, and that change stays.
	err := p.parts.store.SeedPlan(ctx, controlplane.NewPlan{
		ID: DevPlanID, Name: DevPlanID, Enforcement: channels.EnforceSoft,
	})
	if err != nil {
		return fmt.Errorf("seed dev plan: %w", err)
	}
	err = p.parts.store.SeedApp(ctx, postgres.SeedApp{
		PlanID:      DevPlanID,
		AccountName: DefaultDevAccountName,
		AppID:       p.cfg.DevAppID,
		AppName:     "Demo app",
		Key:         p.cfg.DevAppKey,
		Secret:      p.cfg.DevAppSecret,
		Settings:    channels.SettingsPatch{ClientEvents: ptr(true)},
	})
	if err != nil {
		return fmt.Errorf("seed demo app: %w", err)
	}
	return nil
}

// resolveDefaultPlan finds the plan --default-plan names, by id or name,
// and returns its id ("" for none).
func (p *Platform) resolveDefaultPlan(ctx context.Context) (string, error) {
	if p.cfg.DefaultPlan == "" {
		return "", nil
	}
	plan, err := p.parts.store.FindPlan(ctx, p.cfg.DefaultPlan)
	if errors.Is(err, channels.ErrNotFound) {
		return "", fmt.Errorf("--default-plan %q: no plan has that id or name; create it first (herald admin plans create) or leave the flag empty", p.cfg.DefaultPlan)
	}
	if err != nil {
		return "", fmt.Errorf("--default-plan: %w", err)
	}
	return plan.ID, nil
}

func (p *Platform) modeName() string {
	switch p.cfg.Mode {
	case ModeControlPlane:
		return "controlplane"
	case ModeGateway:
		return "gateway"
	default:
		return "dev"
	}
}

func ptr[T any](v T) *T { return &v }

// slogErrorLog routes net/http's internal errors (TLS handshakes, bad
// requests) to the structured log at debug level: they are per-client
// noise, not server faults.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}
