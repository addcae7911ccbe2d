package postgres

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// pageArgs is a validated controlplane.Page.
type pageArgs struct {
	limit int
	// after is the decoded cursor: the last id of the previous page, or
	// empty for the first page.
	after string
	// shape is the list's cursor, which the next page's is made of.
	shape cursorShape
}

// cursorShape is a list's cursor: the list's name, which its cursors
// carry so that a cursor of another list is refused (README: a value the
// list could not have answered is a 400), and whether a decoded value is
// one the list could have issued. A cursor reaches SQL as text, so it
// must at least be valid UTF-8 (PostgreSQL refuses anything else with
// SQLSTATE 22021, a 500); checking the whole shape also answers a forged
// or truncated one with the same 400 as every other list.
type cursorShape struct {
	list  string
	valid func(after string) bool
}

// The lists the store pages. Lists ordered by a text id (accounts, apps,
// plans): every such id is in the app id alphabet, which is ASCII. Lists
// ordered by a bigint serial (the audit log, webhook deliveries): a
// positive decimal as FormatInt writes it.
var (
	accountsCursor   = cursorShape{"accounts", isIDCursor}
	appsCursor       = cursorShape{"apps", isIDCursor}
	plansCursor      = cursorShape{"plans", isIDCursor}
	auditCursor      = cursorShape{"audit", isSeqCursor}
	deliveriesCursor = cursorShape{"deliveries", isSeqCursor}
)

func isIDCursor(after string) bool { return channels.ValidateAppID(after) == nil }

func isSeqCursor(after string) bool {
	n, err := strconv.ParseInt(after, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == after
}

// parsePage applies the default limit, rejects limits out of range and
// decodes the cursor, which must have the list's shape.
func parsePage(p controlplane.Page, shape cursorShape) (pageArgs, error) {
	limit := p.Limit
	if limit == 0 {
		limit = controlplane.DefaultPageLimit
	}
	if limit < 0 || limit > controlplane.MaxPageLimit {
		return pageArgs{}, channels.BadRequest("limit",
			fmt.Sprintf("limit must be between 1 and %d", controlplane.MaxPageLimit))
	}
	after, err := decodeCursor(p.Cursor, shape)
	if err != nil {
		return pageArgs{}, err
	}
	return pageArgs{limit: limit, after: after, shape: shape}, nil
}

// seq is the serial of a seqCursor page: the next page holds the rows
// below it; 0 means the first page.
func (a pageArgs) seq() int64 {
	n, _ := strconv.ParseInt(a.after, 10, 64) // checked by seqCursor; "" is 0
	return n
}

// decodeCursor returns what c encodes, "" for the first page. Only what
// encodeCursor writes for the list is accepted: base64url without padding
// in its one canonical spelling (the decoder lets the unused low bits of
// the last symbol vary), of the list's name, a colon and a value of the
// list's shape.
func decodeCursor(c string, shape cursorShape) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || base64.RawURLEncoding.EncodeToString(b) != c {
		return "", badCursor()
	}
	list, after, ok := strings.Cut(string(b), ":")
	if !ok || list != shape.list || after == "" || !shape.valid(after) {
		return "", badCursor()
	}
	return after, nil
}

// encodeCursor is the cursor of the list's page that follows lastID.
func encodeCursor(shape cursorShape, lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(shape.list + ":" + lastID))
}

func badCursor() error { return channels.BadRequest("cursor", "cursor is not valid") }

// trimPage cuts a result fetched with limit+1 rows down to limit and
// returns the cursor of the next page, empty when there is none, so that a
// caller never fetches an empty last page.
func trimPage[T any](items []T, pa pageArgs, id func(T) string) ([]T, string) {
	if len(items) <= pa.limit {
		return items, ""
	}
	items = items[:pa.limit]
	return items, encodeCursor(pa.shape, id(items[pa.limit-1]))
}
