package api

import (
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// mimeCSV is the media type of the usage routes' CSV answers.
const mimeCSV = "text/csv"

// wantsCSV reports whether the caller asked for CSV: ?format=csv, or
// text/csv among the Accept header's media types unless ?format=json. Any
// other format is a 400 naming format.
func wantsCSV(c echo.Context) (bool, error) {
	switch f := c.QueryParam("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, channels.BadRequest("format", fmt.Sprintf("format must be json or csv, not %q", f))
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == mimeCSV {
			return true, nil
		}
	}
	return false, nil
}

// writeUsageCSV answers the report's items as CSV, one row per period
// under a header row; the totals are the JSON answer's only (a sum of the
// rows, the peak their maximum).
func writeUsageCSV(c echo.Context, r controlplane.UsageReport) error {
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentType, mimeCSV+"; charset=utf-8")
	resp.WriteHeader(http.StatusOK)
	w := csv.NewWriter(resp)
	if err := w.WriteAll(r.CSVRecords()); err != nil {
		return fmt.Errorf("write usage csv: %w", err)
	}
	return nil
}
