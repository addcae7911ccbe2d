package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bus/occupancy"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
)

// batchRequest is the body of POST /apps/{id}/batch_events.
type batchRequest struct {
	Batch []batchItem `json:"batch"`
}

// batchItem is one event of a batch. Unknown fields are ignored, as in a
// trigger.
type batchItem struct {
	Name     string  `json:"name"`
	Data     *string `json:"data"`
	Channel  string  `json:"channel"`
	SocketID string  `json:"socket_id"`
	Info     string  `json:"info"`
	// IdempotencyKey makes this item retry-safe on its own; without it,
	// the request's Idempotency-Key header covers every item.
	IdempotencyKey string `json:"idempotency_key"`
}

// batchResponse is the answer: always an array, in request order, because
// pusher-http-go unmarshals it into a slice (docs/protocol.md,
// "Pusher compatibility").
type batchResponse struct {
	Batch []batchItemResponse `json:"batch"`
}

// batchItemResponse is one item's answer: its channel's attributes when
// it asked for info, and the serial its message got.
type batchItemResponse struct {
	channelInfo
	Serials map[string]uint64 `json:"serials"`
}

// decodeBatch reads a batch_events body and checks its size. Each item is
// validated later, as a trigger.
func decodeBatch(body []byte, maxItems int) ([]batchItem, error) {
	var req batchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			// encoding/json names a wrong item without its index.
			if ierr := itemTypeError(body); ierr != nil {
				return nil, ierr
			}
			return nil, channels.BadRequest(typeErr.Field, fmt.Sprintf("%s must be %s", typeErr.Field, describeKind(typeErr.Type)))
		}
		return nil, channels.BadRequest("", "request body must be a JSON object with a batch array")
	}
	if n := len(req.Batch); n == 0 || n > maxItems {
		return nil, channels.BadRequest("batch", fmt.Sprintf("batch must hold 1 to %d events; it holds %d", maxItems, n))
	}
	// As in a trigger: no text the decoder had to replace.
	if err := checkPublishText(body); err != nil {
		return nil, err
	}
	return req.Batch, nil
}

// itemTypeError names the first batch item of the wrong type, or a field
// of it, with the item's index; nil when the batch is not an array.
func itemTypeError(body []byte) error {
	var raw struct {
		Batch []json.RawMessage `json:"batch"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	for i, item := range raw.Batch {
		var it batchItem
		err := json.Unmarshal(item, &it)
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			continue
		}
		if typeErr.Field == "" {
			return itemError(i, channels.BadRequest("", "must be an object"))
		}
		return itemError(i, channels.BadRequest(typeErr.Field, fmt.Sprintf("%s must be %s", typeErr.Field, describeKind(typeErr.Type))))
	}
	return nil
}

func (a *API) triggerBatch(c echo.Context) error {
	app := appOf(c)
	items, err := decodeBatch(bodyOf(c), a.maxBatch)
	if err != nil {
		return err
	}
	header := c.Request().Header.Get(IdempotencyKeyHeader)
	if err := checkIdempotencyKey(header); err != nil {
		return err
	}
	var msgs []stream.Message
	// Item i's messages are msgs[ends[i-1]:ends[i]] (one each today).
	ends := make([]int, len(items))
	attrs := make([]infoAttrs, len(items))
	q := occupancy.Query{AppID: app.ID}
	for i := range items {
		it := &items[i]
		if attrs[i], err = parseInfo(it.Info, attrUserCount, attrSubscriptionCount); err != nil {
			return itemError(i, err)
		}
		if err := checkKeyField(fieldIdempotencyKey, it.IdempotencyKey); err != nil {
			return itemError(i, err)
		}
		key := it.IdempotencyKey
		if key == "" && header != "" {
			key = batchItemKey(header, i)
		}
		m, err := a.buildMessages(app, &triggerRequest{Name: it.Name, Data: it.Data, Channel: it.Channel, SocketID: it.SocketID}, key)
		if err != nil {
			return itemError(i, err)
		}
		msgs = append(msgs, m...)
		ends[i] = len(msgs)
		if attrs[i].any() {
			q.Channels = append(q.Channels, it.Channel)
			q.Users = q.Users || attrs[i].userCount
		}
	}
	ctx := c.Request().Context()
	results, err := a.publishChecked(c, app, msgs)
	if err != nil {
		return err
	}
	serials := make([][]namedSerial, len(items))
	flat := make([]namedSerial, 0, len(msgs))
	start := 0
	for i := range items {
		serials[i] = flat[start:start:ends[i]]
		for j := start; j < ends[i]; j++ {
			if results[j].Err != nil {
				return results[j].Err
			}
			serials[i] = append(serials[i], namedSerial{msgs[j].Channel, results[j].Serial})
			a.cacheLast(c, app, &msgs[j], results[j])
		}
		start = ends[i]
	}
	if len(q.Channels) == 0 {
		return writeSerials(c, serials, true, func() any { return newBatchResponse(serials) })
	}
	resp := newBatchResponse(serials)
	// As in a trigger, a count that fails leaves the info out of a
	// publish that was stored.
	res, err := a.queryOccupancy(ctx, q)
	if err != nil {
		return c.JSON(http.StatusOK, resp)
	}
	for i := range items {
		if attrs[i].any() {
			ch, _ := channels.ParseChannel(items[i].Channel) // validated by buildMessages
			resp.Batch[i].channelInfo = infoOf(ch, res.Channel(ch.Name), attrs[i])
		}
	}
	return c.JSON(http.StatusOK, resp)
}

// newBatchResponse is the answer to a batch with no channel info yet.
func newBatchResponse(serials [][]namedSerial) batchResponse {
	resp := batchResponse{Batch: make([]batchItemResponse, len(serials))}
	for i, s := range serials {
		resp.Batch[i].Serials = serialsMap(s)
	}
	return resp
}

// itemError names the batch item an error is about.
func itemError(i int, err error) error {
	var ce *channels.Error
	if !errors.As(err, &ce) {
		return err
	}
	out := *ce
	prefix := "batch[" + strconv.Itoa(i) + "]"
	out.Field = prefix
	if ce.Field != "" {
		out.Field += "." + ce.Field
	}
	out.Message = prefix + ": " + ce.Message
	return &out
}

// checkIdempotencyKey applies the rule buildMessages applies to every key.
func checkIdempotencyKey(key string) error {
	return checkKeyField(IdempotencyKeyHeader, key)
}

// checkKeyField refuses an idempotency key, named field, that is too long
// or not on one line.
func checkKeyField(field, key string) error {
	if len(key) > maxIdempotencyKey || strings.ContainsAny(key, "\r\n") {
		return channels.BadRequest(field, fmt.Sprintf("%s must be at most %d bytes on one line", field, maxIdempotencyKey))
	}
	return nil
}

// batchItemKey derives item i's key from the request's Idempotency-Key,
// so that the items of one batch never suppress one another and a retry
// of the whole batch matches item by item.
func batchItemKey(header string, i int) string {
	sum := sha256.Sum256([]byte(header))
	return "batch-" + strconv.Itoa(i) + "-" + hex.EncodeToString(sum[:])
}
