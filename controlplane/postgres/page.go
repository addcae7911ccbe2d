package postgres

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// pageArgs is a validated controlplane.Page.
type pageArgs struct {
	limit int
	// after is the decoded cursor: the last id of the previous page, or
	// empty for the first page.
	after string
}

// parsePage applies the default limit, rejects limits out of range and
// decodes the cursor.
func parsePage(p controlplane.Page) (pageArgs, error) {
	limit := p.Limit
	if limit == 0 {
		limit = controlplane.DefaultPageLimit
	}
	if limit < 0 || limit > controlplane.MaxPageLimit {
		return pageArgs{}, channels.BadRequest("limit",
			fmt.Sprintf("limit must be between 1 and %d", controlplane.MaxPageLimit))
	}
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return pageArgs{}, err
	}
	return pageArgs{limit: limit, after: after}, nil
}

// auditAfter is the audit id below which the next page starts; 0 means the
// first page.
func (a pageArgs) auditAfter() (int64, error) {
	if a.after == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(a.after, 10, 64)
	if err != nil || id <= 0 {
		return 0, badCursor()
	}
	return id, nil
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", badCursor()
	}
	return string(b), nil
}

func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func badCursor() error { return channels.BadRequest("cursor", "cursor is not valid") }

// trimPage cuts a result fetched with limit+1 rows down to limit and
// returns the cursor of the next page, empty when there is none, so that a
// caller never fetches an empty last page.
func trimPage[T any](items []T, limit int, id func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(id(items[limit-1]))
}
