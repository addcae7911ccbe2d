package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// IdempotencyKeyHeader makes a publish retry-safe within the stream's
// duplicate window.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 200

// triggerRequest is the body of POST /apps/{id}/events. Unknown fields are
// ignored: the SDKs send extras.
type triggerRequest struct {
	Name     string   `json:"name"`
	Data     *string  `json:"data"`
	Channel  string   `json:"channel"`
	Channels []string `json:"channels"`
	SocketID string   `json:"socket_id"`
	Info     string   `json:"info"`
}

// triggerResponse is the answer: {} for Pusher's SDKs, plus the serial
// each channel's message got, and with info the channels' attributes
// (docs/protocol.md, "Pusher compatibility").
type triggerResponse struct {
	Channels map[string]channelInfo `json:"channels,omitempty"`
	Serials  map[string]uint64      `json:"serials"`
}

func (a *API) triggerEvent(c echo.Context) error {
	app := appOf(c)
	var req triggerRequest
	if err := json.Unmarshal(bodyOf(c), &req); err != nil {
		return channels.BadRequest("", "request body must be a JSON object with name, data and channels")
	}
	attrs, err := parseInfo(req.Info, attrUserCount, attrSubscriptionCount)
	if err != nil {
		return err
	}
	msgs, err := a.buildMessages(app, &req, c.Request().Header.Get(IdempotencyKeyHeader))
	if err != nil {
		return err
	}
	results, err := a.publishChecked(c, app, msgs)
	if err != nil {
		return err
	}
	serials := make([]namedSerial, 0, len(msgs))
	for i, r := range results {
		if r.Err != nil {
			return r.Err
		}
		serials = append(serials, namedSerial{msgs[i].Channel, r.Serial})
		a.cacheLast(c, app, &msgs[i], r.Serial)
	}
	if attrs.any() {
		resp := triggerResponse{Serials: serialsMap(serials)}
		// The messages are stored: a count that fails must not turn the
		// publish into an error that a client would retry. The answer
		// then has no channels (the failure is logged).
		resp.Channels, _ = a.publishedInfo(c.Request().Context(), app.ID, msgs, attrs)
		return c.JSON(http.StatusOK, resp)
	}
	return writeSerials(c, [][]namedSerial{serials}, false, func() any {
		return triggerResponse{Serials: serialsMap(serials)}
	})
}

// buildMessages validates a trigger and makes one message per channel.
func (a *API) buildMessages(app *channels.AppConfig, req *triggerRequest, idemKey string) ([]stream.Message, error) {
	if err := channels.ValidateEventName(req.Name); err != nil {
		return nil, err
	}
	if req.Data == nil {
		return nil, channels.BadRequest("data", "data is required and must be a string")
	}
	if n := len(*req.Data); n > app.Settings.MaxMessageBytes {
		return nil, &channels.Error{Code: channels.CodeTooLarge, Field: "data",
			Message: fmt.Sprintf("data is %d bytes; the limit is %d", n, app.Settings.MaxMessageBytes)}
	}
	names := req.Channels
	if req.Channel != "" {
		names = append([]string{req.Channel}, names...)
	}
	if len(names) == 0 {
		return nil, channels.BadRequest("channels", "channels (or channel) is required")
	}
	if len(names) > app.Settings.MaxChannelsPerPublish {
		return nil, channels.BadRequest("channels", fmt.Sprintf("at most %d channels per publish", app.Settings.MaxChannelsPerPublish))
	}
	if req.SocketID != "" && !channels.ValidSocketID(req.SocketID) {
		return nil, channels.BadRequest("socket_id", "socket_id must look like 123.456")
	}
	if len(idemKey) > maxIdempotencyKey || strings.ContainsAny(idemKey, "\r\n") {
		return nil, channels.BadRequest(IdempotencyKeyHeader, "Idempotency-Key must be at most 200 characters on one line")
	}
	msgs := make([]stream.Message, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		ch, err := channels.ParseChannel(name)
		if err != nil {
			return nil, err
		}
		if ch.Kind == channels.KindPrivateEncrypted && len(names) > 1 {
			return nil, channels.BadRequest("channels", "an encrypted channel must be the only channel of a publish")
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		m := stream.Message{
			AppID: app.ID, Channel: name, Event: req.Name, Data: []byte(*req.Data),
			ExcludeSocket: req.SocketID, Source: stream.SourceAPI,
		}
		if idemKey != "" {
			// Scoped to the app and the channel, so that one tenant's keys
			// never suppress another's messages.
			m.MsgID = channels.IdempotencyMsgID(app.ID, name, idemKey)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// cacheLast keeps a cache channel's event for late subscribers. A failure
// is logged: the message itself was delivered.
func (a *API) cacheLast(c echo.Context, app *channels.AppConfig, m *stream.Message, serial uint64) {
	ch, err := channels.ParseChannel(m.Channel)
	if err != nil || !ch.Cache || a.cache == nil {
		return
	}
	e := cachechan.Entry{Event: m.Event, Data: string(m.Data), Serial: serial}
	if err := a.cache.Put(c.Request().Context(), app.ID, m.Channel, e, app.Settings.CacheTTL()); err != nil {
		a.logger.Warn("cache channel write failed", "app", app.ID, "err", err)
	}
}
