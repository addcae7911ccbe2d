package api

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// mimeCSV is the media type of the usage routes' CSV answers.
const mimeCSV = "text/csv"

// wantsCSV reports whether the caller asked for CSV: ?format=csv, or
// text/csv among the Accept header's media types.
func wantsCSV(c echo.Context) bool {
	if c.QueryParam("format") == "csv" {
		return true
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == mimeCSV {
			return true
		}
	}
	return false
}

// usageCSVHeader is the CSV header: start, the counters, over_quota.
func usageCSVHeader() []string {
	h := append([]string{"start"}, billing.Columns...)
	return append(h, "over_quota")
}

// writeUsageCSV answers the report's items as CSV, one row per period
// under a header row; the totals are the JSON answer's only (a sum of the
// rows, the peak their maximum).
func writeUsageCSV(c echo.Context, r controlplane.UsageReport) error {
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentType, mimeCSV+"; charset=utf-8")
	resp.WriteHeader(http.StatusOK)
	w := csv.NewWriter(resp)
	if err := w.Write(usageCSVHeader()); err != nil {
		return err
	}
	for _, it := range r.Items {
		row := []string{it.Start.UTC().Format(time.RFC3339)}
		for _, v := range it.Values() {
			row = append(row, strconv.FormatInt(v, 10))
		}
		if err := w.Write(append(row, strconv.FormatBool(it.OverQuota))); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
