package webhookstate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
)

// ReportedBucket is the KV bucket of what the deciders reported: one key
// <app>.<chan> per channel reported occupied and not vacated since, whose
// value lists the members reported added and not removed since. A
// decider that starts compares it with HERALD_WEBHOOK_STATE and reports
// what changed while no decider ran.
const ReportedBucket = "HERALD_WEBHOOK_REPORTED"

// reportedSubjectPrefix is the reported bucket's stream subject prefix.
const reportedSubjectPrefix = "$KV." + ReportedBucket + "."

// reportedSubject is the subject of a channel's key in the reported
// bucket.
func reportedSubject(ref ChannelRef) string {
	return reportedSubjectPrefix + ref.AppID + "." + channels.SubjectToken(ref.Channel)
}

// parseReportedKey is the inverse of the key of reportedSubject.
func parseReportedKey(key string) (ChannelRef, error) {
	app, tok, ok := strings.Cut(key, ".")
	if !ok || channels.ValidateAppID(app) != nil {
		return ChannelRef{}, fmt.Errorf("reported key %q: %w", key, ErrMalformed)
	}
	ch, err := channels.ParseSubjectToken(tok)
	if err != nil || ch == "" {
		return ChannelRef{}, fmt.Errorf("reported key %q: %w", key, ErrMalformed)
	}
	return ChannelRef{AppID: app, Channel: ch}, nil
}

// reportedValue is a reported channel's value.
type reportedValue struct {
	Members []string `json:"members,omitempty"`
}

// view is what was reported of each channel: present while its
// channel_occupied stands, with the members whose member_added stands.
type view map[ChannelRef]map[string]struct{}

// apply records stored events of the kinds the view follows.
func (v view) apply(evs []Event) (changed []ChannelRef) {
	for _, ev := range evs {
		e := ev.Env.Event
		ref := ChannelRef{AppID: ev.Env.AppID, Channel: e.Channel}
		switch e.Name {
		case channels.WebhookChannelOccupied:
			if v[ref] == nil {
				v[ref] = map[string]struct{}{}
			}
		case channels.WebhookChannelVacated:
			delete(v, ref)
		case channels.WebhookMemberAdded:
			if v[ref] == nil {
				v[ref] = map[string]struct{}{}
			}
			v[ref][e.UserID] = struct{}{}
		case channels.WebhookMemberRemoved:
			delete(v[ref], e.UserID)
		default:
			continue
		}
		changed = append(changed, ref)
	}
	return changed
}

// encode is a channel's value, and false when it has no key.
func (v view) encode(ref ChannelRef) ([]byte, bool) {
	members, ok := v[ref]
	if !ok {
		return nil, false
	}
	val := reportedValue{Members: make([]string, 0, len(members))}
	for m := range members {
		val.Members = append(val.Members, m)
	}
	slices.Sort(val.Members)
	b, _ := json.Marshal(val) // strings cannot fail
	return b, true
}

// members lists each channel's reported members, sorted.
func (v view) members() map[ChannelRef][]string {
	out := make(map[ChannelRef][]string, len(v))
	for ref, ms := range v {
		list := make([]string, 0, len(ms))
		for m := range ms {
			list = append(list, m)
		}
		slices.Sort(list)
		out[ref] = list
	}
	return out
}

// loadView reads the whole reported bucket; raw holds each key's stored
// value.
func loadView(ctx context.Context, js jetstream.JetStream) (view, map[ChannelRef][]byte, error) {
	kv, err := js.KeyValue(ctx, ReportedBucket)
	if err != nil {
		return nil, nil, fmt.Errorf("open bucket %s: %w", ReportedBucket, err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, nil, fmt.Errorf("read bucket %s: %w", ReportedBucket, err)
	}
	defer func() { _ = w.Stop() }()
	v, raw := view{}, map[ChannelRef][]byte{}
	for {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, nil, fmt.Errorf("read bucket %s: watcher closed", ReportedBucket)
			}
			if e == nil {
				return v, raw, nil
			}
			ref, err := parseReportedKey(e.Key())
			if err != nil {
				continue
			}
			var val reportedValue
			if json.Unmarshal(e.Value(), &val) != nil {
				continue
			}
			ms := map[string]struct{}{}
			for _, m := range val.Members {
				ms[m] = struct{}{}
			}
			v[ref], raw[ref] = ms, e.Value()
		}
	}
}
