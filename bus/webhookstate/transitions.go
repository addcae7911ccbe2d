package webhookstate

import (
	"cmp"
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/channels"
)

// Defaults of TransitionsConfig.
const (
	// DefaultLeaveDelay is how long channel_vacated and member_removed
	// wait (--webhook-leave-delay); a return within it cancels the pair.
	DefaultLeaveDelay = 3 * time.Second
	// DefaultCountInterval is the shortest time between two
	// subscription_count events of one channel (--webhook-count-interval).
	DefaultCountInterval = 5 * time.Second
)

// Update is one change of the bucket: a gateway's share of a channel
// written (Value) or removed (Deleted).
type Update struct {
	Key     Key
	Seq     uint64    // the bucket revision
	At      time.Time // when the server stored it
	Deleted bool
	Value   Value
}

// Event is a webhook event ready to publish, with its Nats-Msg-Id.
type Event struct {
	Env   channels.WebhookEnvelope
	MsgID string
	// NoPublish marks a decided event that no endpoint of the app wants:
	// the Emitter keeps it in its channel's order for OnStored without
	// publishing it.
	NoPublish bool
}

// TransitionsConfig configures Transitions; zero durations take the
// defaults above.
type TransitionsConfig struct {
	LeaveDelay    time.Duration
	CountInterval time.Duration
}

// Transitions is the cluster-wide state of channels, folded from the
// bucket's updates in order, and the rules that turn it into events:
//
//   - channel_occupied when the first gateway writes a channel's key, and
//     channel_vacated LeaveDelay after the last key is removed, unless a
//     key is written again meanwhile (then neither is sent);
//   - member_added when a user id first appears in any gateway's users,
//     member_removed LeaveDelay after it is gone from all of them, unless
//     it returns meanwhile;
//   - subscription_count (not on presence channels) when the sum of the
//     gateways' counts changed, at once if the channel's last count event
//     is CountInterval old, otherwise when it is; a count of 0 is not
//     sent, channel_vacated says it.
//
// Time is the bucket's: Apply takes an update's server time stamp as the
// present, and Advance moves the present forward between updates. Two
// processes that fold the same updates and advance alike emit the same
// events with the same ids. Transitions is not safe for concurrent use.
type Transitions struct {
	cfg      TransitionsConfig
	chans    map[ChannelRef]*chanState
	timers   timerHeap
	timerSeq uint64
}

type chanState struct {
	presence bool
	gws      map[string]gwShare
	users    map[string]int // user -> gateways listing it
	lastSeq  uint64         // last update applied
	vacate   *timer
	removals map[string]*timer

	countSent  int64     // last subscription_count sent (0: none)
	countNext  time.Time // earliest time of the next one
	countTimer *timer
}

type gwShare struct {
	seq   uint64
	at    time.Time
	value Value
}

// NewTransitions returns an empty state.
func NewTransitions(cfg TransitionsConfig) *Transitions {
	if cfg.LeaveDelay <= 0 {
		cfg.LeaveDelay = DefaultLeaveDelay
	}
	if cfg.CountInterval <= 0 {
		cfg.CountInterval = DefaultCountInterval
	}
	return &Transitions{cfg: cfg, chans: map[ChannelRef]*chanState{}}
}

// Channels is the number of channels tracked: occupied, or vacated less
// than LeaveDelay ago.
func (t *Transitions) Channels() int { return len(t.chans) }

// Share is the revision and time of a key's last write.
type Share struct {
	Seq uint64
	At  time.Time
}

// Shares lists every key known.
func (t *Transitions) Shares() map[Key]Share {
	out := map[Key]Share{}
	for ref, cs := range t.chans {
		for gw, s := range cs.gws {
			out[Key{ChannelRef: ref, GatewayID: gw}] = Share{Seq: s.seq, At: s.at}
		}
	}
	return out
}

// Baseline folds in updates that were transitions already reported (a
// Decider's first load of the bucket): the state follows, no event is
// made.
func (t *Transitions) Baseline(us []Update) {
	for _, u := range us {
		t.apply(u, false, nil)
	}
	for _, cs := range t.chans {
		cs.countSent = cs.total()
	}
	// A load holds no deletes: nothing can be pending.
}

// Resume is Baseline for a process that knows what was reported before
// it (view: the channels reported occupied and not vacated, with the
// members reported), and returns the events that bring the reports up to
// the state: whatever changed while nobody decided, as of at (no leave
// delay: those leaves are older than that; no subscription_count: the
// counts are a baseline). seq names the events (the latest revision
// loaded).
func (t *Transitions) Resume(truth []Update, view map[ChannelRef][]string, at time.Time, seq uint64) []Event {
	t.Baseline(truth)
	refs := make([]ChannelRef, 0, len(t.chans)+len(view))
	for ref := range t.chans {
		refs = append(refs, ref)
	}
	for ref := range view {
		if t.chans[ref] == nil {
			refs = append(refs, ref)
		}
	}
	slices.SortFunc(refs, func(a, b ChannelRef) int {
		return cmp.Or(strings.Compare(a.AppID, b.AppID), strings.Compare(a.Channel, b.Channel))
	})
	u := Update{Seq: seq, At: at}
	var out []Event
	for _, ref := range refs {
		cs := t.chans[ref]
		users, reported := view[ref]
		if cs != nil && !reported {
			out = append(out, t.event(ref, u, channels.WebhookChannelOccupied, ""))
		}
		if cs != nil {
			for _, user := range sortedKeys(cs.users) {
				if !slices.Contains(users, user) {
					out = append(out, t.event(ref, u, channels.WebhookMemberAdded, user))
				}
			}
		}
		for _, user := range users {
			if cs == nil || cs.users[user] == 0 {
				out = append(out, t.event(ref, u, channels.WebhookMemberRemoved, user))
			}
		}
		if cs == nil && reported {
			out = append(out, t.event(ref, u, channels.WebhookChannelVacated, ""))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Apply folds in one update after advancing to its time stamp, and
// returns the events both caused, in order.
func (t *Transitions) Apply(u Update) []Event {
	out := t.Advance(u.At)
	return t.apply(u, true, out)
}

// apply folds in u; track false (a baseline) makes no event and no timer.
func (t *Transitions) apply(u Update, track bool, out []Event) []Event {
	ref, gw := u.Key.ChannelRef, u.Key.GatewayID
	cs := t.chans[ref]
	old, had := gwShare{}, false
	if cs != nil {
		old, had = cs.gws[gw]
	}
	if had && u.Seq != 0 && u.Seq <= old.seq {
		return out // an older write than what is applied
	}
	if u.Deleted && !had {
		return out
	}
	if cs == nil {
		ch, _ := channels.ParseChannel(ref.Channel)
		cs = &chanState{
			presence: ch.Kind == channels.KindPresence,
			// users and removals are made on demand: most channels
			// have no members, and a decider holds every channel.
			gws: make(map[string]gwShare, 1),
		}
		t.chans[ref] = cs
	}
	wasOccupied := len(cs.gws) > 0
	if u.Deleted {
		delete(cs.gws, gw)
	} else {
		cs.gws[gw] = gwShare{seq: u.Seq, at: u.At, value: u.Value}
	}
	cs.lastSeq = max(cs.lastSeq, u.Seq)
	isOccupied := len(cs.gws) > 0

	if !wasOccupied && isOccupied {
		if cs.vacate != nil {
			t.cancel(cs.vacate)
			cs.vacate = nil
		} else if track {
			out = append(out, t.event(ref, u, channels.WebhookChannelOccupied, ""))
		}
	}
	added, removed := diffUsers(old.value.Users, u.Value.Users, u.Deleted)
	for _, user := range added {
		if cs.users == nil {
			cs.users = map[string]int{}
		}
		if cs.users[user]++; cs.users[user] > 1 {
			continue
		}
		if tm := cs.removals[user]; tm != nil {
			t.cancel(tm)
			delete(cs.removals, user)
		} else if track {
			out = append(out, t.event(ref, u, channels.WebhookMemberAdded, user))
		}
	}
	for _, user := range removed {
		if cs.users[user]--; cs.users[user] > 0 {
			continue
		}
		delete(cs.users, user)
		if track {
			if cs.removals == nil {
				cs.removals = map[string]*timer{}
			}
			cs.removals[user] = t.schedule(ref, u, channels.WebhookMemberRemoved, user, u.At.Add(t.cfg.LeaveDelay))
		}
	}
	if wasOccupied && !isOccupied && track {
		cs.vacate = t.schedule(ref, u, channels.WebhookChannelVacated, "", u.At.Add(t.cfg.LeaveDelay))
	}
	if track {
		out = t.countChanged(ref, cs, u.At, out)
	}
	if !isOccupied && !track {
		delete(t.chans, ref)
	}
	return out
}

// diffUsers returns the users in next but not prev, and in prev but not
// next; both are sorted. A delete removes every user of prev.
func diffUsers(prev, next []string, deleted bool) (added, removed []string) {
	if deleted {
		return nil, prev
	}
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next) || (i < len(prev) && prev[i] < next[j]):
			removed = append(removed, prev[i])
			i++
		case i == len(prev) || next[j] < prev[i]:
			added = append(added, next[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

func (cs *chanState) total() int64 {
	var n int64
	for _, s := range cs.gws {
		n += s.value.Subscriptions
	}
	return n
}

// countChanged applies the subscription_count rule after a change at now.
func (t *Transitions) countChanged(ref ChannelRef, cs *chanState, now time.Time, out []Event) []Event {
	if cs.presence || cs.countTimer != nil {
		return out
	}
	n := cs.total()
	if n == cs.countSent || n == 0 {
		return out
	}
	if now.Before(cs.countNext) {
		cs.countTimer = t.schedule(ref, Update{Seq: cs.lastSeq, At: now}, channels.WebhookSubscriptionCount, "", cs.countNext)
		return out
	}
	return append(out, t.countEvent(ref, cs, now))
}

func (t *Transitions) countEvent(ref ChannelRef, cs *chanState, now time.Time) Event {
	n := cs.total()
	cs.countSent, cs.countNext = n, now.Add(t.cfg.CountInterval)
	ev := t.event(ref, Update{Seq: cs.lastSeq, At: now}, channels.WebhookSubscriptionCount, "")
	ev.Env.Event.SubscriptionCount = &n
	return ev
}

// Advance fires the delayed events due at or before now, in time order
// (member_removed before channel_vacated at equal times).
func (t *Transitions) Advance(now time.Time) []Event {
	var out []Event
	for len(t.timers) > 0 && !t.timers[0].due.After(now) {
		tm := heap.Pop(&t.timers).(*timer)
		if tm.canceled {
			continue
		}
		cs := t.chans[tm.ref]
		if cs == nil {
			continue
		}
		switch tm.kind {
		case channels.WebhookMemberRemoved:
			delete(cs.removals, tm.user)
			out = append(out, tm.ev)
		case channels.WebhookChannelVacated:
			cs.vacate = nil
			out = append(out, tm.ev)
		case channels.WebhookSubscriptionCount:
			cs.countTimer = nil
			if n := cs.total(); n != cs.countSent && n != 0 {
				out = append(out, t.countEvent(tm.ref, cs, tm.due))
			}
		}
		if len(cs.gws) == 0 && cs.vacate == nil && len(cs.removals) == 0 {
			if cs.countTimer != nil {
				t.cancel(cs.countTimer)
			}
			delete(t.chans, tm.ref)
		}
	}
	return out
}

// event builds the event of a transition that update u caused. Its id
// names the channel, the kind, the revision and the user, so that every
// process folding the same updates gives it the same id.
func (t *Transitions) event(ref ChannelRef, u Update, kind channels.WebhookEventName, user string) Event {
	return Event{
		Env: channels.WebhookEnvelope{
			AppID: ref.AppID, TimeMS: u.At.UnixMilli(),
			Event: channels.WebhookEvent{Name: kind, Channel: ref.Channel, UserID: user},
		},
		MsgID: MsgID(ref, kind, u.Seq, user),
	}
}

// MsgID is the Nats-Msg-Id of a transition: a hash of the app, channel,
// kind, bucket revision and user, short and header-safe.
func MsgID(ref ChannelRef, kind channels.WebhookEventName, seq uint64, user string) string {
	sum := sha256.Sum256([]byte(ref.AppID + "\x00" + ref.Channel + "\x00" + string(kind) + "\x00" +
		strconv.FormatUint(seq, 10) + "\x00" + user))
	return "whs-" + hex.EncodeToString(sum[:16])
}

// timer is a delayed event; canceled ones stay in the heap until due.
type timer struct {
	due      time.Time
	order    uint64 // scheduling order, for ties
	ref      ChannelRef
	kind     channels.WebhookEventName
	user     string
	ev       Event
	canceled bool
}

func (t *Transitions) schedule(ref ChannelRef, u Update, kind channels.WebhookEventName, user string, due time.Time) *timer {
	t.timerSeq++
	tm := &timer{due: due, order: t.timerSeq, ref: ref, kind: kind, user: user, ev: t.event(ref, u, kind, user)}
	heap.Push(&t.timers, tm)
	return tm
}

func (t *Transitions) cancel(tm *timer) { tm.canceled = true }

// NextDue is when the earliest pending event is due, if any.
func (t *Transitions) NextDue() (time.Time, bool) {
	for len(t.timers) > 0 && t.timers[0].canceled {
		heap.Pop(&t.timers)
	}
	if len(t.timers) == 0 {
		return time.Time{}, false
	}
	return t.timers[0].due, true
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].order < h[j].order
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(*timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}
