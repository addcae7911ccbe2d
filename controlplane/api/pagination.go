package api

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// maxCursorLen bounds a cursor; real ones are short.
const maxCursorLen = 512

// listResponse is the envelope of every list answer. Items is never null;
// NextCursor is null on the last page.
type listResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](items []T, next string) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	l := listResponse[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

// parsePage reads ?limit= and ?cursor=.
func parsePage(c echo.Context) (controlplane.Page, error) {
	p := controlplane.Page{Limit: controlplane.DefaultPageLimit, Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > controlplane.MaxPageLimit {
			return p, channels.BadRequest("limit",
				fmt.Sprintf("limit must be an integer between 1 and %d", controlplane.MaxPageLimit))
		}
		p.Limit = n
	}
	if len(p.Cursor) > maxCursorLen {
		return p, channels.BadRequest("cursor", "cursor is not valid")
	}
	return p, nil
}

// pageOf pages a short list that the store returns whole (keys, tokens).
// The cursor is the id of the last item of the previous page; ids of such
// lists are never reused, since revoked items stay listed.
func pageOf[T any](items []T, id func(T) string, p controlplane.Page) ([]T, string, error) {
	start := 0
	if p.Cursor != "" {
		start = -1
		for i, it := range items {
			if id(it) == p.Cursor {
				start = i + 1
				break
			}
		}
		if start < 0 {
			return nil, "", channels.BadRequest("cursor", "cursor is not valid")
		}
	}
	end := min(start+p.Limit, len(items))
	page := items[start:end]
	next := ""
	if end < len(items) {
		next = id(page[len(page)-1])
	}
	return page, next, nil
}
