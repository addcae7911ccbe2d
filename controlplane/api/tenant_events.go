package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// IdempotencyKeyHeader makes a publish retry-safe within the stream's
// duplicate window.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds an idempotency key's length.
const maxIdempotencyKey = 200

// fieldIdempotencyKey is the body field twin of IdempotencyKeyHeader.
const fieldIdempotencyKey = "idempotency_key"

// triggerRequest is the body of POST /apps/{id}/events. Unknown fields are
// ignored: the SDKs send extras.
type triggerRequest struct {
	Name     string   `json:"name"`
	Data     *string  `json:"data"`
	Channel  string   `json:"channel"`
	Channels []string `json:"channels"`
	SocketID string   `json:"socket_id"`
	Info     string   `json:"info"`
	// IdempotencyKey is the Idempotency-Key header's twin inside the
	// body, where the signature (body_md5) covers it: only this one
	// protects against the replay of a captured request.
	IdempotencyKey string `json:"idempotency_key"`
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
	// encoding/json turned invalid UTF-8 and lone surrogates into U+FFFD:
	// subscribers would get something other than what was sent.
	if err := checkPublishText(bodyOf(c)); err != nil {
		return err
	}
	attrs, err := parseInfo(req.Info, attrUserCount, attrSubscriptionCount)
	if err != nil {
		return err
	}
	key, err := triggerKey(req.IdempotencyKey, c.Request().Header.Get(IdempotencyKeyHeader))
	if err != nil {
		return err
	}
	msgs, err := a.buildMessages(app, &req, key)
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
		a.cacheLast(c, app, &msgs[i], r)
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
	if err := checkIdempotencyKey(idemKey); err != nil {
		return nil, err
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

// triggerKey is a trigger's idempotency key: the body's idempotency_key
// or the Idempotency-Key header; both, when they differ, are refused.
func triggerKey(body, header string) (string, error) {
	if err := checkKeyField(fieldIdempotencyKey, body); err != nil {
		return "", err
	}
	switch {
	case body == "":
		return header, nil
	case header != "" && header != body:
		return "", channels.BadRequest(fieldIdempotencyKey, "idempotency_key and the Idempotency-Key header differ; send one")
	}
	return body, nil
}

// cacheLast keeps a cache channel's event for late subscribers. A
// duplicate (an idempotent retry) is not a new event: its data was
// neither delivered nor stored, so it leaves the cache alone. A failure is
// logged: the message itself was delivered.
func (a *API) cacheLast(c echo.Context, app *channels.AppConfig, m *stream.Message, r stream.Result) {
	if r.Duplicate || a.cache == nil {
		return
	}
	ch, err := channels.ParseChannel(m.Channel)
	if err != nil || !ch.Cache {
		return
	}
	e := cachechan.Entry{Event: m.Event, Data: string(m.Data), Serial: r.Serial}
	if err := a.cache.Put(c.Request().Context(), app.ID, m.Channel, e, app.Settings.CacheTTL()); err != nil {
		a.logger.Warn("cache channel write failed", "app", app.ID, "err", err)
	}
}
