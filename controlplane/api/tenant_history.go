package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// HistoryReader reads message history: controlplane/history.Reader, which
// answers from PostgreSQL and, above what the writer has stored, from the
// message stream, so that a page never has a hole.
type HistoryReader interface {
	// ListHistory returns at most q.Limit messages of a channel in serial
	// order.
	ListHistory(ctx context.Context, q controlplane.HistoryQuery) ([]controlplane.HistoryMessage, error)
}

// HistoryConfig enables GET /apps/{id}/channels/{name}/messages.
type HistoryConfig struct {
	// Reader reads the history; nil answers the route 503.
	Reader HistoryReader
	// MasterKey is the platform master key (raw bytes), required with
	// Reader: the key that signs history cursors is derived from it, so
	// that every control plane accepts the others' cursors.
	MasterKey []byte
}

// historyService is the history API's state.
type historyService struct {
	reader HistoryReader
	cursor *cursorSigner
}

// newHistoryService returns nil when cfg has no Reader.
func newHistoryService(cfg HistoryConfig) (*historyService, error) {
	if cfg.Reader == nil {
		return nil, nil
	}
	signer, err := newCursorSigner(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	return &historyService{reader: cfg.Reader, cursor: signer}, nil
}

// Query parameters of the history API.
const (
	paramLimit      = "limit"
	paramDirection  = "direction"
	paramStart      = "start"
	paramEnd        = "end"
	paramFromSerial = "from_serial"
	paramCursor     = "cursor"
)

// Directions of the history API.
const (
	directionBackwards = "backwards"
	directionForwards  = "forwards"
)

// historyResponse is the answer of GET /apps/{id}/channels/{name}/messages.
type historyResponse struct {
	// Items is never null.
	Items []historyItem `json:"items"`
	// Next is the cursor of the next page, null on the last one.
	Next *string `json:"next"`
}

// historyItem is one message; data is a JSON string, as Pusher delivers
// it (bytes that are not UTF-8, which Herald's publish paths never store,
// would show as U+FFFD).
type historyItem struct {
	Serial        uint64 `json:"serial"`
	Event         string `json:"event"`
	Data          string `json:"data"`
	PublishedAtMs int64  `json:"published_at_ms"`
	UserID        string `json:"user_id,omitempty"`
}

// historyParams are the validated query parameters.
type historyParams struct {
	limit int
	scope cursorScope
	query controlplane.HistoryQuery
}

func (a *API) listMessages(c echo.Context) error {
	if a.history == nil {
		return &channels.Error{Code: channels.CodeUnavailable, Message: "history is not available"}
	}
	app := appOf(c)
	ch, err := channelParam(c)
	if err != nil {
		return err
	}
	p, err := a.history.parseParams(c.QueryParams(), app.ID, ch.Name)
	if err != nil {
		return err
	}
	// One more than asked tells whether there is a next page, so that
	// callers never fetch an empty last one.
	p.query.Limit = p.limit + 1
	items, err := a.history.reader.ListHistory(c.Request().Context(), p.query)
	if err != nil {
		return err
	}
	resp := historyResponse{Items: make([]historyItem, 0, min(len(items), p.limit))}
	for _, m := range items[:min(len(items), p.limit)] {
		resp.Items = append(resp.Items, historyItem{
			Serial: m.Serial, Event: m.Event, Data: string(m.Data),
			PublishedAtMs: m.PublishedAt.UnixMilli(), UserID: m.UserID,
		})
	}
	a.meter.App(app.ID).HistoryReads(int64(len(resp.Items)))
	if len(items) > p.limit {
		next := a.history.cursor.sign(p.scope, resp.Items[p.limit-1].Serial)
		resp.Next = &next
		c.Response().Header().Set("Link", nextLink(c.Request().URL, next))
	}
	return c.JSON(http.StatusOK, resp)
}

// nextLink is the relative Link header of the next page: the same path
// and history parameters, with the new cursor. Request signing parameters
// are left out; the caller signs the next request anew.
func nextLink(u *url.URL, cursor string) string {
	in := u.Query()
	q := url.Values{}
	for _, k := range []string{paramLimit, paramDirection, paramStart, paramEnd, paramFromSerial} {
		if v := in.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set(paramCursor, cursor)
	return fmt.Sprintf(`<%s?%s>; rel="next"`, u.EscapedPath(), q.Encode())
}

// parseParams validates the query parameters (every problem is a 400
// naming its parameter) and turns them into a query.
func (h *historyService) parseParams(in url.Values, appID, channel string) (historyParams, error) {
	p := historyParams{limit: controlplane.DefaultHistoryLimit}
	p.scope = cursorScope{appID: appID, channel: channel}
	p.query = controlplane.HistoryQuery{AppID: appID, Channel: channel}
	if v := in.Get(paramLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > controlplane.MaxHistoryLimit {
			return p, channels.BadRequest(paramLimit, fmt.Sprintf("limit must be an integer from 1 to %d", controlplane.MaxHistoryLimit))
		}
		p.limit = n
	}
	switch v := in.Get(paramDirection); v {
	case "", directionBackwards:
		p.query.Backwards, p.scope.backwards = true, true
	case directionForwards:
	default:
		return p, channels.BadRequest(paramDirection, "direction must be backwards or forwards")
	}
	var err error
	if p.query.Start, p.scope.start, err = parseMillis(in, paramStart); err != nil {
		return p, err
	}
	if p.query.End, p.scope.end, err = parseMillis(in, paramEnd); err != nil {
		return p, err
	}
	if !p.query.Start.IsZero() && !p.query.End.IsZero() && p.query.End.Before(p.query.Start) {
		return p, channels.BadRequest(paramEnd, "end must not be before start")
	}
	if !p.query.End.IsZero() {
		// Inclusive of the whole millisecond: stored times have
		// microseconds.
		p.query.End = p.query.End.Add(time.Millisecond - time.Microsecond)
	}
	if v := in.Get(paramFromSerial); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return p, channels.BadRequest(paramFromSerial, "from_serial must be an integer from 0 to 18446744073709551615")
		}
		// The range a WebSocket resume accepts. Serials are stored as
		// bigint: none is above MaxInt64, so nothing follows a larger one.
		p.query.After, p.query.HasAfter = min(n, math.MaxInt64), true
		p.scope.fromSerial = strconv.FormatUint(n, 10)
	}
	if v := in.Get(paramCursor); v != "" {
		serial, err := h.cursor.verify(p.scope, v)
		if errors.Is(err, errBadCursor) {
			return p, channels.BadRequest(paramCursor, "cursor is not valid for this channel and these parameters; repeat the other parameters unchanged")
		}
		p.query.After, p.query.HasAfter = serial, true
	}
	return p, nil
}

// parseMillis reads an optional Unix time in milliseconds; raw is the
// value normalized for the cursor scope.
func parseMillis(in url.Values, name string) (t time.Time, raw string, err error) {
	v := in.Get(name)
	if v == "" {
		return time.Time{}, "", nil
	}
	// Up to year 9999 in milliseconds.
	const maxMillis = 253402300799999
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 0 || n > maxMillis {
		return time.Time{}, "", channels.BadRequest(name, name+" must be a Unix time in milliseconds")
	}
	return time.UnixMilli(n).UTC(), strconv.FormatInt(n, 10), nil
}
