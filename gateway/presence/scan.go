package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// memberBucketStream is the stream behind MemberBucket.
const memberBucketStream = "KV_" + MemberBucket

// scanMaxBytes caps one Direct Get batch reply.
const scanMaxBytes = 1 << 20

// directGetRequest is the part of JetStream's JSApiMsgGetRequest a scan
// uses.
type directGetRequest struct {
	Seq      uint64 `json:"seq,omitempty"`
	NextFor  string `json:"next_by_subj"`
	Batch    int    `json:"batch"`
	MaxBytes int    `json:"max_bytes"`
}

// scan calls fn, in stream order, with every stored message of stream
// whose subject matches filter, using batched Direct Get: requests
// {seq, next_by_subj, batch} on one reply inbox, each answered by up to
// batch messages and a 204 end-of-batch status carrying Nats-Num-Pending,
// until nothing is pending. It uses no consumer, so it costs the cluster
// nothing but reads, and any replica may answer.
//
// Batches rather than multi_last: multi_last answers at most 1024 subjects
// (docs/nats.md, "Direct Get"), and presence channels may be bigger. Member
// keys keep one message each (History 1), so scanning a channel's subjects
// reads exactly its current keys plus recent delete markers. The batches are
// not one atomic snapshot; callers reconcile by per-key sequence with the
// live updates they buffered meanwhile.
func (p *Presence) scan(ctx context.Context, stream, filter string, fn func(*nats.Msg)) error {
	inbox := p.nc.NewInbox()
	sub, err := p.nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("scan %s: %w", filter, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	subject := "$JS.API.DIRECT.GET." + stream
	var next uint64
	for {
		req, err := json.Marshal(directGetRequest{Seq: next, NextFor: filter, Batch: p.cfg.SnapshotBatch, MaxBytes: scanMaxBytes})
		if err != nil {
			return fmt.Errorf("scan %s: %w", filter, err)
		}
		if err := p.nc.PublishRequest(subject, inbox, req); err != nil {
			return fmt.Errorf("scan %s: %w", filter, err)
		}
		last, pending, err := readBatch(ctx, sub, fn)
		if err != nil {
			return fmt.Errorf("scan %s: %w", filter, err)
		}
		if last == 0 || pending == 0 {
			return nil
		}
		next = last + 1
	}
}

// readBatch reads one batch reply: it returns the last sequence read (0
// for none) and how many matching messages remain after it.
func readBatch(ctx context.Context, sub *nats.Subscription, fn func(*nats.Msg)) (last, pending uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return 0, 0, err
		}
		switch status := m.Header.Get(hdrStatus); status {
		case "":
			seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("direct get reply without sequence: %w", err)
			}
			last = seq
			fn(m)
		case statusNoContent:
			pending, err = strconv.ParseUint(m.Header.Get(hdrNumPending), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("end of batch without pending count: %w", err)
			}
			return last, pending, nil
		case statusNotFound:
			return last, 0, nil
		default:
			return 0, 0, fmt.Errorf("direct get: status %s %s", status, m.Header.Get(hdrDescription))
		}
	}
}
