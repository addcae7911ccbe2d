package stream

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/channels"
)

// ErrMalformed marks a stored or republished message that lacks what
// Herald writes (it was not published through this package).
var ErrMalformed = errors.New("malformed stream message")

// Message is one event to store on one channel.
type Message struct {
	AppID   string
	Channel string
	Event   string
	// Data is the event's data, stored and delivered byte for byte.
	Data []byte
	// ExcludeSocket is a socket id that must not receive the message.
	ExcludeSocket string
	// UserID is the sender's user id, for client events on presence
	// channels.
	UserID string
	// Source says who published the message; it is required.
	Source Source
	// MsgID is the idempotency key: a second message with the same MsgID
	// within the stream's duplicate window is not stored again. Empty means
	// a generated unique id.
	MsgID string
	// TraceT0 is when the publish request arrived (Unix ns), stored in
	// HeaderTraceT0 for the gateway's hop timing; 0, the rule unless hop
	// tracing is on, adds no header.
	TraceT0 int64
}

// Delivery is a stored message as read back from the stream, live or by
// Direct Get.
type Delivery struct {
	AppID   string
	Channel string
	Event   string
	// Data is the event's data. It is never reused by this package, so a
	// receiver may keep it.
	Data []byte
	// Serial is the message's stream sequence.
	Serial uint64
	// PrevSerial is the serial of the previous stored message of the same
	// channel: for live deliveries the server's Nats-Last-Sequence (0 if
	// there was none), for messages read by a Reader the serial of the
	// message before it in the same read (0 for the first).
	PrevSerial    uint64
	ExcludeSocket string
	UserID        string
	Source        Source
	// Time is when the stream stored the message.
	Time time.Time
	// Trace holds the hop timing stamps of a live delivery when Live's
	// Hops is set; zero otherwise.
	Trace Trace
	// Waiting is how many messages were queued behind a live delivery in
	// its shard when it was taken: a fan-out that finds work waiting uses
	// more cores (gateway/broadcast.go). 0 for reads.
	Waiting int
}

// natsMsg builds the message to publish to subject with idempotency key id.
func (m *Message) natsMsg(subject, id string) *nats.Msg {
	h := make(nats.Header, 5)
	h[HeaderMsgID] = []string{id}
	h[HeaderEvent] = []string{m.Event}
	h[HeaderSource] = []string{string(m.Source)}
	if m.ExcludeSocket != "" {
		h[HeaderExclude] = []string{m.ExcludeSocket}
	}
	if m.UserID != "" {
		h[HeaderUser] = []string{m.UserID}
	}
	if m.TraceT0 != 0 {
		h[HeaderTraceT0] = []string{strconv.FormatInt(m.TraceT0, 10)}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: m.Data}
}

// DecodeLive decodes a message the stream republished on a live subject
// (channels.LiveSubject). It allocates only to decode the channel name
// from the subject.
func DecodeLive(msg *nats.Msg) (Delivery, error) {
	var d Delivery
	appID, channel, err := channels.ParseLiveSubject(msg.Subject)
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	err = decodeLive(&d, msg, appID, channel)
	return d, err
}

// decodeLive fills d from a republished message whose app and channel the
// caller already knows (Live keeps them per subscription, which saves
// decoding the subject).
func decodeLive(d *Delivery, msg *nats.Msg, appID, channel string) error {
	if err := decodeStored(d, msg, appID, channel); err != nil {
		return err
	}
	if v := directget.First(msg.Header, directget.HeaderLastSequence); v != "" {
		prev, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: bad %s %q", ErrMalformed, directget.HeaderLastSequence, v)
		}
		d.PrevSerial = prev
	}
	return nil
}

// decodeStored fills d from the headers and body the server sends with a
// stored message, both when republishing and in Direct Get responses.
// PrevSerial is left to the caller: its meaning differs between the two.
// When the server's headers are fine but Herald's are not, the error comes
// with d.Serial set, so that readers can step over the message.
func decodeStored(d *Delivery, msg *nats.Msg, appID, channel string) error {
	h := msg.Header
	*d = Delivery{
		AppID:         appID,
		Channel:       channel,
		Event:         directget.First(h, HeaderEvent),
		Data:          msg.Data,
		ExcludeSocket: directget.First(h, HeaderExclude),
		UserID:        directget.First(h, HeaderUser),
		Source:        Source(directget.First(h, HeaderSource)),
	}
	seq := directget.First(h, directget.HeaderSequence)
	serial, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || serial == 0 {
		return fmt.Errorf("%w: bad %s %q", ErrMalformed, directget.HeaderSequence, seq)
	}
	ts := directget.First(h, directget.HeaderTimeStamp)
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fmt.Errorf("%w: bad %s %q", ErrMalformed, directget.HeaderTimeStamp, ts)
	}
	d.Serial, d.Time = serial, t
	if d.Event == "" {
		return fmt.Errorf("%w: serial %d has no %s header", ErrMalformed, serial, HeaderEvent)
	}
	return nil
}
