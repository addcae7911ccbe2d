package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestWriteSerialsMatchesJSON pins the hand-written publish answers to the
// bytes and headers c.JSON writes for the same answer.
func TestWriteSerialsMatchesJSON(t *testing.T) {
	tests := []struct {
		name  string
		query string
		items [][]namedSerial
		batch bool
	}{
		{name: "one channel", items: [][]namedSerial{{{"bench-1", 42}}}},
		{name: "channels sorted as map keys", items: [][]namedSerial{{{"b", 2}, {"a-1", 1}, {"A", 3}, {"private-x", 1 << 60}}}},
		{name: "name json escapes", items: [][]namedSerial{{{"a<b>&\"c\\", 7}, {"z", 8}}}},
		{name: "name outside ascii", items: [][]namedSerial{{{"caf\u00e9", 7}}}},
		{name: "pretty", query: "?pretty", items: [][]namedSerial{{{"b", 2}, {"a", 1}}}},
		{name: "batch", batch: true, items: [][]namedSerial{{{"c", 3}}, {{"a", 1}}, {{"b", 2}}}},
		{name: "batch escapes", batch: true, items: [][]namedSerial{{{"c", 3}}, {{"<a>", 1}}}},
		{name: "batch pretty", query: "?pretty=1", batch: true, items: [][]namedSerial{{{"c", 3}}, {{"a", 1}}}},
	}
	e := echo.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want any = triggerResponse{Serials: serialsMap(tt.items[0])}
			if tt.batch {
				want = newBatchResponse(tt.items)
			}
			wantRec := httptest.NewRecorder()
			if err := e.NewContext(httptest.NewRequest(http.MethodPost, "/"+tt.query, nil), wantRec).JSON(http.StatusOK, want); err != nil {
				t.Fatal(err)
			}
			gotRec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodPost, "/"+tt.query, nil), gotRec)
			if err := writeSerials(c, tt.items, tt.batch, func() any { return want }); err != nil {
				t.Fatal(err)
			}
			if gotRec.Code != wantRec.Code || gotRec.Body.String() != wantRec.Body.String() {
				t.Errorf("answer = %d %q; c.JSON writes %d %q", gotRec.Code, gotRec.Body, wantRec.Code, wantRec.Body)
			}
			if g, w := gotRec.Header().Get(echo.HeaderContentType), wantRec.Header().Get(echo.HeaderContentType); g != w {
				t.Errorf("Content-Type = %q; c.JSON sets %q", g, w)
			}
		})
	}
}
