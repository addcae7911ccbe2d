package stream

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/channels"
)

// DecodeConsumed decodes a message that a JetStream consumer of a message
// stream delivered (the history writer's). Consumers get the stored
// subject and the publisher's headers, but not the headers the server adds
// to republished messages: the serial and the time come from the
// delivery's metadata instead. PrevSerial is left 0. As with the other
// decoders, an error about Herald's own headers comes with d.Serial set,
// so that the caller can acknowledge and step over the message.
func DecodeConsumed(msg jetstream.Msg) (Delivery, error) {
	var d Delivery
	meta, err := msg.Metadata()
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	h := msg.Headers()
	d = Delivery{
		Event:         directget.First(h, HeaderEvent),
		Data:          msg.Data(),
		ExcludeSocket: directget.First(h, HeaderExclude),
		UserID:        directget.First(h, HeaderUser),
		Source:        Source(directget.First(h, HeaderSource)),
		Serial:        meta.Sequence.Stream,
		Time:          meta.Timestamp,
	}
	if d.Serial == 0 {
		return d, fmt.Errorf("%w: no stream sequence in the delivery metadata", ErrMalformed)
	}
	d.AppID, d.Channel, err = parseMessageSubject(msg.Subject())
	if err != nil {
		return d, fmt.Errorf("%w: serial %d: %w", ErrMalformed, d.Serial, err)
	}
	if d.Event == "" {
		return d, fmt.Errorf("%w: serial %d has no %s header", ErrMalformed, d.Serial, HeaderEvent)
	}
	return d, nil
}

// parseMessageSubject returns the app id and channel of a stored subject,
// herald.msg.<shard>.<app>.<chan> (channels.MessageSubject).
func parseMessageSubject(subject string) (appID, channel string, err error) {
	rest, ok := strings.CutPrefix(subject, channels.MessageSubjectPrefix+".")
	if !ok {
		return "", "", fmt.Errorf("not a message subject: %q", subject)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("malformed message subject: %q", subject)
	}
	channel, err = channels.ParseSubjectToken(parts[2])
	if err != nil {
		return "", "", err
	}
	return parts[1], channel, nil
}

// DecodeRaw decodes a message read from a message stream by sequence
// (jetstream.Stream.GetMsg), as DecodeConsumed does a delivered one:
// the serial and the time come from the stored message.
func DecodeRaw(msg *jetstream.RawStreamMsg) (Delivery, error) {
	h := msg.Header
	d := Delivery{
		Event:         directget.First(h, HeaderEvent),
		Data:          msg.Data,
		ExcludeSocket: directget.First(h, HeaderExclude),
		UserID:        directget.First(h, HeaderUser),
		Source:        Source(directget.First(h, HeaderSource)),
		Serial:        msg.Sequence,
		Time:          msg.Time,
	}
	if d.Serial == 0 {
		return d, fmt.Errorf("%w: no stream sequence", ErrMalformed)
	}
	var err error
	d.AppID, d.Channel, err = parseMessageSubject(msg.Subject)
	if err != nil {
		return d, fmt.Errorf("%w: serial %d: %w", ErrMalformed, d.Serial, err)
	}
	if d.Event == "" {
		return d, fmt.Errorf("%w: serial %d has no %s header", ErrMalformed, d.Serial, HeaderEvent)
	}
	return d, nil
}
