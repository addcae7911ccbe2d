// Package api serves Herald's control-plane HTTP APIs with echo. It is the
// only package that imports echo. The admin API lives under /admin/v1 and
// is described by an OpenAPI document built from the same route table that
// registers the handlers, so the two cannot drift.
package api

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/hoptrace"
	"github.com/heraldhq/herald/internal/secretbox"
)

// Defaults for zero Config fields.
const (
	// DefaultMaxBodyBytes caps a request body (docs/architecture.md,
	// "Limits and defaults").
	DefaultMaxBodyBytes = 256 << 10
	// DefaultSyncTimeout bounds one ConfigPublisher.SyncApp call made
	// after a change.
	DefaultSyncTimeout = 10 * time.Second
	// DefaultMaxBatchEvents caps the events of one batch_events request
	// (Pusher's limit, docs/architecture.md, "Limits and defaults").
	DefaultMaxBatchEvents = 10
)

// Config configures an API. Zero fields take the defaults above.
type Config struct {
	// Store is the control plane's state; required.
	Store controlplane.Store
	// Publisher copies an app's config to the gateways after every change
	// to the app or its keys. Nil publishes nothing (tests). A failed sync
	// is logged and the request still succeeds: Postgres holds the
	// change, and the syncer's periodic reconcile publishes it.
	Publisher controlplane.ConfigPublisher
	// KeyPublisher copies the live token signing keys to the gateways
	// after a rotation or retirement; nil publishes nothing (tests). A
	// failure is logged, as for Publisher.
	KeyPublisher controlplane.SigningKeyPublisher
	// AdminToken is the bootstrap admin token from the configuration. It
	// may be empty, and then only stored admin tokens are accepted.
	AdminToken string
	// Logger receives one debug line per request and the errors that
	// are not shown to callers; nil discards. Bodies, Authorization
	// headers and secrets are never logged.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies; larger ones are answered 413.
	MaxBodyBytes int64
	// SyncTimeout bounds each Publisher.SyncApp call.
	SyncTimeout time.Duration
	// AuthGuard counts failed admin and tenant authentications per client
	// address and throttles the addresses over its limit (429 with
	// Retry-After, checked before the credentials); nil throttles none.
	AuthGuard *authguard.Guard
	// Now is the clock of request signing; nil means time.Now.
	Now func() time.Time
	// Streams counts an app's messages in the message stream for
	// GET /admin/v1/apps/{id}/usage/reconcile; nil answers that route 503.
	Streams StreamCounter

	// The tenant API (/apps/{id}/…) is served when Apps is set.
	//
	// Apps looks up app configs (the config KV, never the database, so
	// the publish path has no database on it).
	Apps AppSource
	// Box opens app key secrets.
	Box *secretbox.Box
	// Events publishes messages into the message stream.
	Events EventPublisher
	// Cache keeps cache channels' last events; nil disables it.
	Cache CacheStore
	// Occupancy answers channel queries and terminates users'
	// connections cluster-wide; nil answers those requests 503.
	Occupancy Occupancy
	// MaxBatchEvents caps the events of one batch_events request.
	MaxBatchEvents int
	// History serves GET /apps/{id}/channels/{name}/messages; without a
	// Reader that route answers 503.
	History HistoryConfig
	// SigningKeys finds the public signing keys that verify platform
	// tokens presented as Authorization: Bearer (bus/signingkeys.Cache,
	// so that no request reads the database for them); nil refuses
	// platform tokens.
	SigningKeys PublicKeySource
	// Meter counts each app's authenticated tenant requests and the
	// history messages they read (docs/billing.md); nil counts nothing.
	Meter *billing.Meter
	// DefaultPlanID is the plan new accounts get (--default-plan,
	// resolved to an id); empty means none. It cannot be deleted.
	DefaultPlanID string
	// Quotas enforces the account plans' message quotas and publish_rate
	// on REST publishes (docs/billing.md); nil enforces none.
	Quotas *billing.Enforcer
	// Stored finds the message an idempotent publish stored before, so
	// that its retry is answered with its serials even when a quota
	// refuses new publishes (stream.Reader); nil refuses such a retry.
	Stored StoredFinder
	// Totals puts the quota totals of the accounts whose plan changes,
	// before their apps' new configs (billing.QuotaReporter); nil puts
	// none, and the totals wait for the account's next fold.
	Totals TotalsRefresher
	// Webhooks configures the webhook endpoint routes.
	Webhooks WebhooksConfig
	// Debug configures the console's live debug stream.
	Debug DebugConfig
	// Registerer receives the API's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Hops times the REST publish's hops and stamps the stored messages
	// with the request's arrival (--trace-hops; docs/performance.md,
	// "Per-hop timing"); nil, the default, takes no time stamp.
	Hops *hoptrace.Recorder
}

// PublicKeySource finds live public token signing keys by kid.
type PublicKeySource interface {
	PublicKey(kid string) (ed25519.PublicKey, bool)
}

// AppSource looks up app configs.
type AppSource interface {
	App(id string) (*channels.AppConfig, bool)
}

// EventPublisher stores messages in the message stream.
type EventPublisher interface {
	PublishBatch(ctx context.Context, msgs []stream.Message) ([]stream.Result, error)
}

// StoredFinder finds the message of a channel stored with an idempotency
// key within the stream's duplicate window (stream.Reader.Stored).
type StoredFinder interface {
	Stored(ctx context.Context, appID, channel, msgID string, now time.Time) (serial uint64, ok bool, err error)
}

// TotalsRefresher puts the quota totals of the accounts owning appIDs
// (billing.QuotaReporter.Refresh).
type TotalsRefresher interface {
	Refresh(ctx context.Context, appIDs []string) error
}

// CacheStore keeps the last event of cache channels.
type CacheStore interface {
	Put(ctx context.Context, appID, channel string, e cachechan.Entry, ttl time.Duration) error
	Get(ctx context.Context, appID, channel string) (cachechan.Entry, bool, error)
}

// Occupancy asks every gateway of the cluster (bus/occupancy.Client).
type Occupancy interface {
	// Query merges every gateway's view of the app's channels.
	Query(ctx context.Context, q occupancy.Query) (*occupancy.Result, error)
	// Terminate closes a user's connections on every gateway.
	Terminate(ctx context.Context, appID, userID string) (closed int, missing []string, err error)
}

// API serves the control-plane HTTP APIs. It holds no goroutines; it is
// safe for concurrent use.
type API struct {
	store        controlplane.Store
	publisher    controlplane.ConfigPublisher
	keyPublisher controlplane.SigningKeyPublisher
	logger       *slog.Logger
	maxBody      int64
	syncTimeout  time.Duration
	streams      StreamCounter

	// bootstrap is the SHA-256 of the bootstrap token, so that comparing
	// it in constant time does not leak the token's length.
	bootstrap    [sha256.Size]byte
	hasBootstrap bool
	guard        *authguard.Guard

	echo    *echo.Echo
	openapi []byte

	apps      AppSource
	box       *secretbox.Box
	events    EventPublisher
	cache     CacheStore
	occupancy Occupancy
	maxBatch  int
	history   *historyService
	pubKeys   PublicKeySource
	meter     *billing.Meter
	quotas    *billing.Enforcer
	stored    StoredFinder
	totals    TotalsRefresher
	webhooks  WebhooksConfig
	now       func() time.Time

	debug   DebugConfig
	metrics *metrics
	hops    *hoptrace.Recorder
	// streamsDone is closed by StopStreams.
	streamsDone chan struct{}
	stopStreams sync.Once

	defaultPlan string
}

// New builds an API and its routes.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: Config.Store is required")
	}
	if cfg.MaxBodyBytes < 0 || cfg.SyncTimeout < 0 || cfg.MaxBatchEvents < 0 {
		return nil, errors.New("api: negative MaxBodyBytes, SyncTimeout or MaxBatchEvents")
	}
	a := &API{
		store:        cfg.Store,
		publisher:    cfg.Publisher,
		keyPublisher: cfg.KeyPublisher,
		pubKeys:      cfg.SigningKeys,
		meter:        cfg.Meter,
		quotas:       cfg.Quotas,
		stored:       cfg.Stored,
		totals:       cfg.Totals,
		webhooks:     cfg.Webhooks,
		logger:       cfg.Logger,
		maxBody:      orDefault(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		syncTimeout:  orDefault(cfg.SyncTimeout, DefaultSyncTimeout),
		streams:      cfg.Streams,
		guard:        cfg.AuthGuard,
		defaultPlan:  cfg.DefaultPlanID,
		debug:        cfg.Debug,
		hops:         cfg.Hops,
		streamsDone:  make(chan struct{}),
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	a.debug.Heartbeat = orDefault(a.debug.Heartbeat, DefaultDebugHeartbeat)
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	a.now = cfg.Now
	if a.now == nil {
		a.now = time.Now
	}
	if cfg.Apps != nil {
		if cfg.Box == nil || cfg.Events == nil {
			return nil, errors.New("api: the tenant API needs Box and Events")
		}
		a.apps, a.box, a.events, a.cache = cfg.Apps, cfg.Box, cfg.Events, cfg.Cache
		a.occupancy = cfg.Occupancy
		a.maxBatch = orDefault(cfg.MaxBatchEvents, DefaultMaxBatchEvents)
		history, err := newHistoryService(cfg.History)
		if err != nil {
			return nil, err
		}
		a.history = history
	}
	if cfg.AdminToken != "" {
		a.bootstrap = sha256.Sum256([]byte(cfg.AdminToken))
		a.hasBootstrap = true
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = a.handleError
	if a.hops != nil {
		e.Pre(stampArrival)
	}
	e.Pre(literalSemicolons, headAsGet)
	e.Use(headRestored, a.requestID, a.logRequests, a.recoverPanics, a.limitBody)

	routes := a.adminRoutes()
	for _, r := range routes {
		var mw []echo.MiddlewareFunc
		if !r.public {
			mw = append(mw, a.requireAdmin)
		}
		// After authentication, so that an unauthenticated caller
		// learns nothing but 401.
		mw = append(mw, checkParams)
		e.Add(r.method, r.path, r.handler, mw...)
	}
	if a.apps != nil {
		for _, r := range a.tenantRoutes() {
			auth := a.requireApp
			if r.tokenOp != "" {
				auth = a.requireAppOrToken(r.tokenOp)
			}
			e.Add(r.method, r.path, r.handler, auth, a.meterRequest)
			if r.tokenOp != "" {
				e.OPTIONS(r.path, a.appPreflight(servedMethods(r.method)...))
			}
		}
		e.GET(JWKSPath, a.serveJWKS)
		e.OPTIONS(JWKSPath, publicPreflight(servedMethods(http.MethodGet)...))
	}
	doc, err := buildOpenAPI(adminDocInfo, routes)
	if err != nil {
		return nil, fmt.Errorf("api: build openapi document: %w", err)
	}
	a.openapi = doc
	a.echo = e
	return a, nil
}

// Handler returns the http.Handler serving every route of the API.
func (a *API) Handler() http.Handler { return a.echo }

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
