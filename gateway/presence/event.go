package presence

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
)

// event is one stored change of a member key, whether read by Direct Get,
// received through RePublish or made locally.
type event struct {
	key    string // the key, relative to a roster's channel prefix
	seq    uint64 // stream sequence: the key's revision
	at     time.Time
	del    bool // delete, purge or expiry marker
	member Member
}

// parseStored reads a stored message of the member bucket. Both Direct Get
// replies and republished messages carry the original subject, sequence
// and time in headers. prefix ("<app>.<chanTok>" or "") is cut from the
// key.
func parseStored(m *nats.Msg, prefix string) (event, error) {
	subject := m.Header.Get(jetstream.SubjectHeader)
	key, ok := strings.CutPrefix(subject, memberSubjectPrefix)
	if !ok {
		return event{}, fmt.Errorf("presence message: unexpected subject %q", subject)
	}
	if prefix != "" {
		if key, ok = strings.CutPrefix(key, prefix+"."); !ok {
			return event{}, fmt.Errorf("presence message: subject %q outside %q", subject, prefix)
		}
	}
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil || seq == 0 {
		return event{}, errors.New("presence message: missing sequence")
	}
	ev := event{key: key, seq: seq}
	if ts := m.Header.Get(jetstream.TimeStampHeaer); ts != "" {
		if ev.at, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return event{}, fmt.Errorf("presence message: time stamp: %w", err)
		}
	} else {
		ev.at = time.Now()
	}
	// Deletes and purges carry KV-Operation; the markers the server
	// leaves when a key's TTL runs out carry Nats-Marker-Reason.
	if op := m.Header.Get(directget.HeaderKVOperation); op == directget.KVOpDelete || op == directget.KVOpPurge ||
		m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		ev.del = true
		return ev, nil
	}
	if ev.member, err = decodeMember(m.Data); err != nil {
		return event{}, err
	}
	return ev, nil
}
