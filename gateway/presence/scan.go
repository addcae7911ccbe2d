package presence

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
)

// memberBucketStream is the stream behind MemberBucket.
const memberBucketStream = "KV_" + MemberBucket

// scanMaxBytes caps one Direct Get batch reply.
const scanMaxBytes = 1 << 20

// scan calls fn, in stream order, with every stored message of the member
// bucket whose subject matches filter, using batched Direct Get
// (directget.Client.Scan). It uses no consumer, so it costs the cluster
// nothing but reads, and any replica may answer.
//
// Batches rather than multi_last: multi_last answers at most 1024 subjects
// (docs/nats.md, "Direct Get"), and presence channels may be bigger. Member
// keys keep one message each (History 1), so scanning a channel's subjects
// reads exactly its current keys plus recent delete markers. The batches are
// not one atomic snapshot; callers reconcile by per-key sequence with the
// live updates they buffered meanwhile.
func (p *Presence) scan(ctx context.Context, filter string, fn func(*nats.Msg)) error {
	req := directget.Request{NextFor: filter, Batch: p.cfg.SnapshotBatch, MaxBytes: scanMaxBytes}
	if err := p.members.Scan(ctx, req, fn); err != nil {
		return fmt.Errorf("scan %s: %w", filter, err)
	}
	return nil
}
