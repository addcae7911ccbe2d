package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/ops"
)

func TestEndpoints(t *testing.T) {
	o := ops.New(ops.Config{CheckTimeout: 100 * time.Millisecond})
	var dbDown atomic.Bool
	o.AddCheck("postgres", func(context.Context) error {
		if dbDown.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	o.AddCheck("hangs-until-timeout", func(ctx context.Context) error { <-ctx.Done(); return nil })
	mux := http.NewServeMux()
	o.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string) (int, map[string]any) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", code, body)
	}
	dbDown.Store(true)
	code, body := get("/readyz")
	if code != 503 {
		t.Fatalf("readyz with db down = %d", code)
	}
	if got := body["checks"].(map[string]any)["postgres"]; got != "connection refused" {
		t.Fatalf("postgres check = %v", got)
	}
	dbDown.Store(false)
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("readyz after recovery = %d", code)
	}
	o.ShuttingDown()
	code, body = get("/readyz")
	if code != 503 || body["status"] != "shutting_down" {
		t.Fatalf("readyz while shutting down = %d %v", code, body)
	}
	if got := body["checks"].(map[string]any)["shutdown"]; got != "shutting down" {
		t.Fatalf("shutdown check = %v", got)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz while shutting down = %d", code)
	}
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(buf), "go_goroutines") {
		t.Fatal("metrics lack go_goroutines")
	}
}
