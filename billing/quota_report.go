package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

// QuotaLevel is a use of a quota whose crossing is recorded and
// announced, once per account, quota and period: its event, and the share
// of the limit (percent) it takes, reached or, for Over, passed.
type QuotaLevel struct {
	Event     channels.WebhookEventName
	Threshold int
	Over      bool
}

// QuotaLevels are the crossings reported: 80% used (a warning), the whole
// quota used (reached: at the limit, nothing over it yet), and more than
// the quota (exceeded: only a soft plan, or the deliveries of accepted
// messages, go over). Only the last makes a period over_quota.
var QuotaLevels = []QuotaLevel{
	{channels.WebhookQuotaWarning, 80, false},
	{channels.WebhookQuotaReached, 100, false},
	{channels.WebhookQuotaExceeded, 100, true},
}

// crossed reports whether used of limit has crossed l.
func (l QuotaLevel) crossed(used, limit int64) bool {
	if l.Over {
		return used*100 > limit*int64(l.Threshold)
	}
	return used*100 >= limit*int64(l.Threshold)
}

// QuotaEvent is an account crossing a level of a quota of its plan: the
// JSON published on channels.QuotaEventSubject and the details of its
// audit entry.
type QuotaEvent struct {
	AccountID string `json:"account_id"`
	Plan      string `json:"plan,omitempty"`
	// Quota is the plan limit's name (max_messages_per_day, …).
	Quota string `json:"quota"`
	// Event is the level crossed: quota_warning, quota_reached or
	// quota_exceeded (QuotaLevels), the operator webhook's name too.
	Event       channels.WebhookEventName `json:"event"`
	Threshold   int                       `json:"threshold"`
	Enforcement channels.Enforcement      `json:"enforcement"`
	// Period is the start (UTC) of the day or month the quota is of.
	Period time.Time `json:"period"`
	Limit  int64     `json:"limit"`
	Used   int64     `json:"used"`
	At     time.Time `json:"at"`
}

// QuotaReporterConfig configures a QuotaReporter. Store, Put and Apps are
// required.
type QuotaReporterConfig struct {
	Store Store
	// Put writes an account's totals to HERALD_QUOTA_TOTALS.
	Put func(ctx context.Context, accountID string, e quota.Entry) error
	// Apps gives an app's config, whose Quota carries its account's plan
	// limits (bus/appconfig.Cache.App).
	Apps func(appID string) (*channels.AppConfig, bool)
	// Publish, when set, announces each new QuotaEvent (core NATS).
	Publish func(ctx context.Context, subject string, data []byte) error
	// Webhook, when set, stores each recorded QuotaEvent as an operator
	// webhook event in HERALD_WEBHOOK_EVENTS
	// (bus/webhookevents.PublishOperator), for operator endpoints: under
	// msgID, which names the quota_events row, so that a retry is stored
	// once. Every Report sends what the store still holds unsent
	// (Store.PendingQuotaWebhooks), whichever control plane recorded it:
	// at least once, even across a crash.
	Webhook    func(ctx context.Context, accountID string, timeMS int64, ev channels.WebhookEvent, msgID string) error
	Now        func() time.Time
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// QuotaReporter runs after each fold, on the control plane: it reads the
// running totals of the accounts the fold touched, puts them where the
// enforcers watch, and records and announces the thresholds they cross.
type QuotaReporter struct {
	cfg     QuotaReporterConfig
	crossed *prometheus.CounterVec
	// mu guards seen: the events this process knows are recorded, so
	// that most folds ask the database nothing.
	mu   sync.Mutex
	seen map[quotaEventKey]bool
	// seenMonth is the month seen is of; it is emptied when it ends.
	seenMonth time.Time
	// webhooksPending: quota events may wait to be sent to operator
	// webhooks (a failure, a crash before sending, more than one batch).
	// It starts true, so that a restarted control plane sends what a
	// dead one left.
	webhooksPending atomic.Bool
	// webhooksSwept is when sendWebhooks last ran (Unix nanoseconds):
	// what a control plane that died left unsent is sent by the others
	// within webhookSweepInterval.
	webhooksSwept atomic.Int64
}

type quotaEventKey struct {
	account string
	quota   QuotaKind
	event   channels.WebhookEventName
	period  time.Time
}

// NewQuotaReporter returns a QuotaReporter.
func NewQuotaReporter(cfg QuotaReporterConfig) (*QuotaReporter, error) {
	if cfg.Store == nil || cfg.Put == nil || cfg.Apps == nil {
		return nil, errors.New("quota reporter: Store, Put and Apps are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &QuotaReporter{cfg: cfg, seen: map[quotaEventKey]bool{}}
	r.webhooksPending.Store(true)
	r.crossed = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Subsystem: "quota",
		Name: "threshold_crossed_total", Help: "Accounts whose use of a quota of their plan crossed a level (event: quota_warning at 80%, quota_reached at 100%, quota_exceeded past it), once per period."},
		[]string{"quota", "event"})
	if err := register(cfg.Registerer, r.crossed); err != nil {
		return nil, err
	}
	return r, nil
}

// Report reads and publishes the totals of the accounts owning appIDs
// that have a message or connection quota. Failures are logged: the next
// fold reports again, and the enforcers count on meanwhile.
func (r *QuotaReporter) Report(ctx context.Context, appIDs []string) {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
	defer cancel()
	recorded := r.report(ctx, appIDs)
	if recorded || r.webhooksPending.Load() || time.Since(time.Unix(0, r.webhooksSwept.Load())) >= webhookSweepInterval {
		r.sendWebhooks(ctx)
	}
}

// Refresh reads and puts the totals of the accounts owning appIDs,
// whatever their plan: an account's plan changed (or its plan's limits),
// and the enforcers must judge the new limits against what the account
// has used from the moment its new config reaches them, not from its next
// fold. The caller puts the new configs after it returns.
func (r *QuotaReporter) Refresh(ctx context.Context, appIDs []string) error {
	if r == nil || len(appIDs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultFoldTimeout)
	defer cancel()
	totals, err := r.cfg.Store.AccountTotals(ctx, appIDs, r.cfg.Now())
	if err != nil {
		return fmt.Errorf("refresh quota totals: %w", err)
	}
	for _, t := range totals {
		if err := r.cfg.Put(ctx, t.AccountID, t.Entry); err != nil {
			return fmt.Errorf("refresh quota totals: %w", err)
		}
	}
	return nil
}

// report is Report but the operator webhooks; it reports whether it
// recorded a quota event.
func (r *QuotaReporter) report(ctx context.Context, appIDs []string) bool {
	limited := map[string]channels.Quota{}
	var ids []string
	for _, id := range appIDs {
		a, ok := r.cfg.Apps(id)
		if !ok || !a.Quota.Limited() {
			continue
		}
		if _, ok := limited[a.AccountID]; !ok {
			limited[a.AccountID] = a.Quota
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return false
	}
	now := r.cfg.Now()
	totals, err := r.cfg.Store.AccountTotals(ctx, ids, now)
	if err != nil {
		r.cfg.Logger.Warn("quota totals unavailable", "err", err)
		return false
	}
	recorded := false
	for _, t := range totals {
		q, ok := limited[t.AccountID]
		if !ok {
			continue
		}
		if err := r.cfg.Put(ctx, t.AccountID, t.Entry); err != nil {
			r.cfg.Logger.Warn("quota totals not published", "account", t.AccountID, "err", err)
		}
		recorded = r.thresholds(ctx, q, t, now) || recorded
	}
	return recorded
}

// thresholds records the levels t crossed and reports whether it
// recorded any.
func (r *QuotaReporter) thresholds(ctx context.Context, q channels.Quota, t AccountTotals, now time.Time) bool {
	recorded := false
	checks := []struct {
		kind   QuotaKind
		limit  int64
		used   int64
		period time.Time
	}{
		{QuotaMessagesPerDay, q.MaxMessagesPerDay, t.DayMessages, t.Day},
		{QuotaMessagesPerMonth, q.MaxMessagesPerMonth, t.MonthMessages, t.Month},
		{QuotaConnections, q.MaxConnections, t.Connections, t.Day},
	}
	for _, c := range checks {
		if c.limit <= 0 {
			continue
		}
		for _, l := range QuotaLevels {
			if !l.crossed(c.used, c.limit) {
				break
			}
			recorded = r.record(ctx, QuotaEvent{AccountID: t.AccountID, Plan: q.Plan, Quota: c.kind.String(), Event: l.Event,
				Threshold: l.Threshold, Enforcement: q.Enforcement, Period: c.period, Limit: c.limit, Used: c.used, At: now.UTC()},
				c.kind) || recorded
		}
	}
	return recorded
}

// record stores e once cluster-wide and, when it is new, counts and
// announces it and reports true.
func (r *QuotaReporter) record(ctx context.Context, e QuotaEvent, kind QuotaKind) bool {
	key := quotaEventKey{e.AccountID, kind, e.Event, e.Period}
	r.mu.Lock()
	if m := Month.Start(e.At); !m.Equal(r.seenMonth) {
		clear(r.seen)
		r.seenMonth = m
	}
	known := r.seen[key]
	r.mu.Unlock()
	if known {
		return false
	}
	recorded, err := r.cfg.Store.RecordQuotaEvent(ctx, e)
	if err != nil {
		r.cfg.Logger.Warn("quota event not recorded; retrying at the next fold", "account", e.AccountID, "quota", e.Quota, "err", err)
		return false
	}
	r.mu.Lock()
	r.seen[key] = true
	r.mu.Unlock()
	if !recorded {
		return false
	}
	r.crossed.WithLabelValues(e.Quota, string(e.Event)).Inc()
	r.cfg.Logger.Info("account crossed a quota level", "account", e.AccountID, "quota", e.Quota,
		"event", e.Event, "used", e.Used, "limit", e.Limit)
	if r.cfg.Publish == nil {
		return true
	}
	b, err := json.Marshal(e)
	if err == nil {
		err = r.cfg.Publish(ctx, channels.QuotaEventSubject(e.AccountID), b)
	}
	if err != nil {
		// Recorded and audited: only the announcement is lost.
		r.cfg.Logger.Warn("quota event not announced", "account", e.AccountID, "quota", e.Quota, "err", err)
	}
	return true
}

// webhookBatch bounds the unsent operator webhook events one Report
// sends; the rest wait for the next.
const webhookBatch = 100

// webhookSweepInterval is how often a control plane looks for quota
// events another one recorded and did not send (it died in between).
const webhookSweepInterval = time.Minute

// sendWebhooks stores the recorded quota events not yet sent in
// HERALD_WEBHOOK_EVENTS and marks them sent. A failure leaves them for
// the next Report (webhooksPending), here or on another control plane:
// the row's Nats-Msg-Id makes a repeat harmless.
func (r *QuotaReporter) sendWebhooks(ctx context.Context) {
	if r.cfg.Webhook == nil {
		return
	}
	r.webhooksSwept.Store(time.Now().UnixNano())
	evs, err := r.cfg.Store.PendingQuotaWebhooks(ctx, webhookBatch)
	if err != nil {
		r.webhooksPending.Store(true)
		r.cfg.Logger.Warn("pending quota webhooks unavailable; retrying at the next fold", "err", err)
		return
	}
	pending := len(evs) == webhookBatch
	for _, e := range evs {
		ev, msgID := QuotaWebhookEvent(e)
		err := r.cfg.Webhook(ctx, e.AccountID, e.At.UnixMilli(), ev, msgID)
		if err == nil {
			err = r.cfg.Store.QuotaWebhookPublished(ctx, e)
		}
		if err != nil {
			pending = true
			r.cfg.Logger.Warn("quota event not stored for operator webhooks; retrying at the next fold",
				"account", e.AccountID, "quota", e.Quota, "err", err)
			break
		}
	}
	r.webhooksPending.Store(pending)
}

// QuotaWebhookEvent is e as an operator webhook event, named by its
// level (QuotaLevels), with the Nats-Msg-Id that names its quota_events
// row: account, quota, event and period.
func QuotaWebhookEvent(e QuotaEvent) (channels.WebhookEvent, string) {
	period := e.Period.UTC().Format(time.RFC3339)
	ev := channels.WebhookEvent{Name: e.Event, AccountID: e.AccountID, Plan: e.Plan, Quota: e.Quota,
		Threshold: e.Threshold, Enforcement: string(e.Enforcement), Period: period, Limit: e.Limit, Used: e.Used}
	return ev, "quota:" + e.AccountID + ":" + e.Quota + ":" + string(e.Event) + ":" + period
}

// appsOf lists the distinct non-empty app ids add yields; hint sizes it.
func appsOf(hint int, add func(yield func(string))) []string {
	seen := make(map[string]bool, hint)
	var ids []string
	add(func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	})
	return ids
}
