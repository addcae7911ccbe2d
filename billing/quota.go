package billing

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// Quota enforcement at the edge (docs/billing.md, "Quotas and
// enforcement"): every process that accepts publishes (the gateway's
// client events and herald:publish, the REST API) checks them against the
// account's plan with an Enforcer, from the running totals the aggregator
// puts in HERALD_QUOTA_TOTALS plus what this process accepted itself
// since, never asking a database.

// TotalsSource gives an account's running totals; bus/quota.Cache
// implements it.
type TotalsSource interface {
	Totals(accountID string) (*quota.Entry, bool)
}

// EnforcerConfig configures an Enforcer; every field is optional.
type EnforcerConfig struct {
	// Totals are the cluster's totals; nil counts this process's only.
	Totals TotalsSource
	// Meter, when set, adds this process's deliveries and presence events
	// not yet flushed to the account's usage.
	Meter *Meter
	// Now is the clock of periods and rates; nil means time.Now.
	Now        func() time.Time
	Registerer prometheus.Registerer
	// AppLabels adds an app label to herald_quota_exceeded_total
	// (--metrics-app-labels); each app's series are resolved once, when
	// its state is made.
	AppLabels bool
}

// Verdict is the outcome of a check.
type Verdict struct {
	// Exceeded names the quota the check went over; QuotaNone if none.
	Exceeded QuotaKind
	// Refused is set with hard enforcement: the publish or connection
	// must be refused. A soft overage is Exceeded and not Refused.
	Refused bool
	// Limit is the exceeded quota's value.
	Limit int64
	// AtLimit: the quota was used up before this check (the account is at
	// its limit, or past it); otherwise what was checked would take it
	// past. Refusal messages say "reached" only then.
	AtLimit bool
	// RetryAfter is when a retry may pass: until the exceeded period
	// resets (00:00 UTC), or until the rate bucket refills.
	RetryAfter time.Duration
}

// enforcerShards spreads accounts and apps over several locks.
const enforcerShards = 32

// Enforcer checks publishes and connections against the quotas of the
// apps' accounts. It is safe for concurrent use; a check takes one lock
// of its account and allocates nothing once the app was seen.
type Enforcer struct {
	cfg      EnforcerConfig
	seed     maphash.Seed
	shards   [enforcerShards]enforcerShard
	exceeded quotaCounters
	// exceededVec gives each app its counters with AppLabels; nil
	// without.
	exceededVec *prometheus.CounterVec
	periods     periodCache
}

// quotaCounters are herald_quota_exceeded_total's series by quota.
type quotaCounters [len(quotaNames)]prometheus.Counter

type enforcerShard struct {
	mu       sync.RWMutex
	apps     map[string]*appQuota
	accounts map[string]*accountQuota
}

// NewEnforcer returns an Enforcer.
func NewEnforcer(cfg EnforcerConfig) (*Enforcer, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Enforcer{cfg: cfg, seed: maphash.MakeSeed()}
	for i := range e.shards {
		e.shards[i].apps = map[string]*appQuota{}
		e.shards[i].accounts = map[string]*accountQuota{}
	}
	labels := []string{"quota"}
	if cfg.AppLabels {
		labels = append(labels, "app")
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Subsystem: "quota", Name: "exceeded_total",
		Help: "Publishes (each message) and connections over a quota of their account's plan: refused with hard enforcement, let through with soft."},
		labels)
	if cfg.AppLabels {
		e.exceededVec = vec
	} else {
		for k := QuotaMessagesPerDay; int(k) < len(quotaNames); k++ {
			e.exceeded[k] = vec.WithLabelValues(k.String())
		}
	}
	if err := register(cfg.Registerer, vec); err != nil {
		return nil, err
	}
	return e, nil
}

// Reservation is what a check let through: each of its publishes is then
// Accepted, with the serial the stream gave it, or Released. A zero
// Reservation (nothing limited) does nothing.
type Reservation struct {
	app *appQuota
	n   int
	// p are the periods of the check, which the messages count in.
	p periodKeys
}

// CheckPublish checks n messages (one per channel) that app is about to
// publish against its publish_rate and its account's daily and monthly
// message quotas, and reserves them unless they are refused. The caller
// publishes only when the verdict is not Refused, then accounts for each
// message with the reservation.
func (e *Enforcer) CheckPublish(app *channels.AppConfig, n int) (Verdict, Reservation) {
	q := &app.Quota
	if e == nil || !q.Limited() || n <= 0 {
		return Verdict{}, Reservation{}
	}
	now := e.cfg.Now()
	aq := e.app(app)
	acct := aq.account
	var totals *quota.Entry
	if e.cfg.Totals != nil {
		totals, _ = e.cfg.Totals.Totals(app.AccountID)
	}
	p := e.periods.of(now)
	acct.mu.Lock()
	v := acct.check(q, totals, p, int64(n), now)
	if v.Exceeded == QuotaNone || !v.Refused {
		if rv := aq.rate.take(q.PublishRate, int64(n), now, q.Hard()); rv.Exceeded != QuotaNone && v.Exceeded == QuotaNone {
			v = rv
		}
	}
	if !v.Refused {
		acct.reserved += int64(n)
	}
	acct.mu.Unlock()
	if v.Exceeded != QuotaNone {
		aq.exceeded[v.Exceeded].Add(float64(n))
	}
	if v.Refused {
		return v, Reservation{}
	}
	return v, Reservation{app: aq, n: n, p: p}
}

// Accepted accounts for one reserved message the stream stored with
// serial; a duplicate (an idempotent retry stored before) was counted by
// its first publish and adds nothing.
func (r *Reservation) Accepted(serial uint64, duplicate bool) {
	if r.app == nil || r.n == 0 {
		return
	}
	r.n--
	acct := r.app.account
	acct.mu.Lock()
	acct.reserved--
	if !duplicate {
		acct.accept(r.app.stream, serial, r.p)
	}
	acct.mu.Unlock()
}

// Release gives back the reserved messages not Accepted: they were not
// stored (or refused further on) and count nothing.
func (r *Reservation) Release() {
	if r.app == nil || r.n == 0 {
		return
	}
	acct := r.app.account
	acct.mu.Lock()
	acct.reserved -= int64(r.n)
	acct.mu.Unlock()
	r.n = 0
}

// CheckConnections judges one more connection of app when its account
// has conns connections open cluster-wide (this one excluded) against the
// account's max_connections.
func (e *Enforcer) CheckConnections(app *channels.AppConfig, conns int64) Verdict {
	q := &app.Quota
	if q.MaxConnections <= 0 || conns < q.MaxConnections {
		return Verdict{}
	}
	if e != nil {
		e.app(app).exceeded[QuotaConnections].Inc()
	}
	return Verdict{Exceeded: QuotaConnections, Refused: q.Hard(), Limit: q.MaxConnections, AtLimit: true}
}

// app returns app's state, made on first sight; the account it belongs to
// is looked up again when the app moves (its AccountID changed).
func (e *Enforcer) app(app *channels.AppConfig) *appQuota {
	s := &e.shards[maphash.String(e.seed, app.ID)%enforcerShards]
	s.mu.RLock()
	aq, ok := s.apps[app.ID]
	s.mu.RUnlock()
	if ok && aq.account.id == app.AccountID && aq.shard == app.Shard {
		return aq
	}
	acct := e.account(app.AccountID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if aq, ok := s.apps[app.ID]; ok && aq.account == acct && aq.shard == app.Shard {
		return aq
	}
	aq = &appQuota{id: app.ID, shard: app.Shard, stream: stream.StreamName(app.Shard), account: acct, exceeded: e.countersOf(app.ID)}
	if e.cfg.Meter != nil {
		aq.meter = e.cfg.Meter.App(app.ID)
	}
	s.apps[app.ID] = aq
	acct.mu.Lock()
	acct.addApp(aq)
	acct.mu.Unlock()
	return aq
}

func (e *Enforcer) account(id string) *accountQuota {
	s := &e.shards[maphash.String(e.seed, id)%enforcerShards]
	s.mu.RLock()
	acct, ok := s.accounts[id]
	s.mu.RUnlock()
	if ok {
		return acct
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if acct, ok := s.accounts[id]; ok {
		return acct
	}
	acct = &accountQuota{id: id}
	s.accounts[id] = acct
	return acct
}

// countersOf returns the exceeded counters appID counts in: its own with
// AppLabels, else the shared ones.
func (e *Enforcer) countersOf(appID string) *quotaCounters {
	if e.exceededVec == nil {
		return &e.exceeded
	}
	c := new(quotaCounters)
	for k := QuotaMessagesPerDay; int(k) < len(quotaNames); k++ {
		c[k] = e.exceededVec.WithLabelValues(k.String(), appID)
	}
	return c
}
