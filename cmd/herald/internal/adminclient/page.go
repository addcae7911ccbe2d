package adminclient

import (
	"encoding/json"
	"net/url"
	"strconv"
)

// Page is one page of a list answer.
type Page[T any] struct {
	// Items is never nil.
	Items []T
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string
}

type wirePage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// MarshalJSON writes the page as the API sends it: next_cursor is null on
// the last page.
func (p Page[T]) MarshalJSON() ([]byte, error) {
	w := wirePage[T]{Items: p.Items}
	if w.Items == nil {
		w.Items = []T{}
	}
	if p.NextCursor != "" {
		w.NextCursor = &p.NextCursor
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the API's page envelope.
func (p *Page[T]) UnmarshalJSON(b []byte) error {
	var w wirePage[T]
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p.Items, p.NextCursor = w.Items, ""
	if p.Items == nil {
		p.Items = []T{}
	}
	if w.NextCursor != nil {
		p.NextCursor = *w.NextCursor
	}
	return nil
}

// pageQuery renders ?limit=&cursor= plus extra parameters; a zero limit
// leaves the server's default.
func pageQuery(limit int, cursor string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
