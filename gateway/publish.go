package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// MaxPublishIDLen bounds the idempotency id of herald:publish, the acked
// publish: a client event with an answer (herald_internal:ack or nack).
const MaxPublishIDLen = 200

// publishRequest is the data of herald:publish.
type publishRequest struct {
	Channel string             `json:"channel"`
	Event   string             `json:"event"`
	Data    json.RawMessage    `json:"data"`
	ID      protocol.RawString `json:"id"`
}

// handlePublish stores a client's message in the stream and acks it with
// its serial, or nacks it with a reason. The id is the idempotency key: a
// resend after a reconnect is stored once and acked with the same serial.
func (c *conn) handlePublish(app *channels.AppConfig, f *protocol.Frame) {
	var req publishRequest
	if err := f.DecodeData(&req); err != nil {
		c.nack("", channels.NackInvalid, protocol.EventPublish+" needs data with channel, event, data and id")
		return
	}
	id := string(req.ID)
	if id == "" || utf8.RuneCountInString(id) > MaxPublishIDLen {
		c.nack(id, channels.NackInvalid, fmt.Sprintf("id must be 1 to %d characters", MaxPublishIDLen))
		return
	}
	if err := channels.ValidateEventName(req.Event); err != nil {
		c.nack(id, channels.NackInvalid, err.Error())
		return
	}
	data, err := (&protocol.Frame{Data: req.Data}).DataString()
	if err != nil {
		c.nack(id, channels.NackInvalid, "data must be a string or JSON value")
		return
	}
	if len(data) > app.Settings.MaxMessageBytes {
		c.nack(id, channels.NackInvalid, fmt.Sprintf("data is larger than %d bytes", app.Settings.MaxMessageBytes))
		return
	}
	c.mu.Lock()
	sub := c.subs.get(req.Channel)
	c.mu.Unlock()
	if msg := c.mayPublish(app, sub); msg != "" {
		c.nack(id, channels.PusherUnauthorized, msg)
		return
	}
	if !c.takeToken(app.Settings.ClientEventRate) {
		c.gw.metrics.clientEventsLimited.Inc()
		c.nack(id, channels.PusherClientEventLimit, fmt.Sprintf("more than %d client messages per second", app.Settings.ClientEventRate))
		return
	}
	msgID := channels.IdempotencyMsgID(app.ID, sub.ch.Name, id)
	ctx, cancel := context.WithTimeout(context.Background(), c.gw.cfg.PublishTimeout)
	defer cancel()
	v, res := c.gw.cfg.Quotas.CheckPublish(app, 1)
	if v.Refused {
		// A resend of a publish the stream stored is answered as the
		// stream would: with its serial, costing nothing.
		serial, stored, err := c.gw.cfg.Reader.Stored(ctx, app.ID, sub.ch.Name, msgID, time.Now())
		if err != nil {
			c.gw.cfg.Logger.Debug("acked publish over a quota: resend lookup failed", "app", app.ID, "err", err)
		}
		if !stored {
			c.nack(id, channels.PusherClientEventLimit, quotaMessage(v))
			return
		}
		c.acked(app, sub, req.Event, data, id, serial)
		return
	}
	serial, dup, err := c.gw.cfg.Publisher.Publish(ctx, stream.Message{
		AppID: app.ID, Channel: sub.ch.Name, Event: req.Event, Data: []byte(data),
		ExcludeSocket: c.socketID, UserID: sub.userID, Source: stream.SourceClient,
		MsgID: msgID,
	})
	if err != nil {
		res.Release()
		c.gw.cfg.Logger.Warn("acked publish failed", "app", app.ID, "err", err)
		c.nack(id, channels.NackNotStored, "the message could not be stored; retry with the same id")
		return
	}
	res.Accepted(serial, dup)
	c.acked(app, sub, req.Event, data, id, serial)
}

// acked finishes a stored herald:publish (or a resend of one): its
// webhook, its debug event and the ack.
func (c *conn) acked(app *channels.AppConfig, sub *subscription, event, data, id string, serial uint64) {
	// A client event with an ack: the same webhook (a resend has the same
	// serial, so its webhook is stored once too).
	c.gw.webhookClientEvent(app, c, sub, event, data, serial)
	c.debugMessage(channels.DebugAckedPublish, sub, event, data, serial)
	ack := append([]byte(`{"id":`), protocol.AppendString(nil, id)...)
	ack = append(ack, `,"serial":`...)
	ack = strconv.AppendUint(ack, serial, 10)
	ack = append(ack, '}')
	c.send(protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventAck, Data: string(ack)}))
}

func (c *conn) nack(id string, code channels.WireCode, message string) {
	d := append([]byte(`{"id":`), protocol.AppendString(nil, id)...)
	d = append(d, `,"code":`...)
	d = strconv.AppendInt(d, int64(code), 10)
	d = append(d, `,"message":`...)
	d = protocol.AppendString(d, message)
	d = append(d, '}')
	c.send(protocol.AppendMessage(nil, &protocol.Message{Event: protocol.EventNack, Data: string(d)}))
}
