package heraldtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/heraldhq/herald/sdk/go/internal/sign"
)

// requestTimeout bounds each admin request and each probe of NewApp.
const requestTimeout = 30 * time.Second

// keyReadyTimeout bounds how long a new key may take to be accepted by the
// tenant API (it travels through the app config bucket within a second).
const keyReadyTimeout = 30 * time.Second

// keyPollInterval is how often NewApp tries the new key.
const keyPollInterval = 50 * time.Millisecond

// AdminError is a non-2xx answer of the admin API.
type AdminError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *AdminError) Error() string {
	return fmt.Sprintf("heraldtest: %s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// Admin sends an admin API request (path starts with /admin/v1) with the
// admin token and body, if not nil, as JSON, and decodes a 2xx answer
// into out, if not nil. Other statuses are an *AdminError.
func (s *Server) Admin(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("heraldtest: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, rd)
	if err != nil {
		return fmt.Errorf("heraldtest: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("heraldtest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("heraldtest: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &AdminError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("heraldtest: %s %s: decode %q: %w", method, path, raw, err)
		}
	}
	return nil
}

// App is an app NewApp created, with its one key.
type App struct {
	AccountID string
	ID        string
	Key       string
	Secret    string
}

// NewApp creates an account, an app in it with settings (nil: the
// defaults; see the admin API) and a key, and waits until the tenant API
// accepts the key.
func (s *Server) NewApp(settings map[string]any) (App, error) {
	var acc struct{ ID string }
	if err := s.Admin(http.MethodPost, "/admin/v1/accounts", map[string]any{"name": "sdk test"}, &acc); err != nil {
		return App{}, err
	}
	body := map[string]any{"account_id": acc.ID, "name": "sdk test"}
	if settings != nil {
		body["settings"] = settings
	}
	var app struct{ ID string }
	if err := s.Admin(http.MethodPost, "/admin/v1/apps", body, &app); err != nil {
		return App{}, err
	}
	var key struct{ Key, Secret string }
	if err := s.Admin(http.MethodPost, "/admin/v1/apps/"+app.ID+"/keys", map[string]any{}, &key); err != nil {
		return App{}, err
	}
	a := App{AccountID: acc.ID, ID: app.ID, Key: key.Key, Secret: key.Secret}
	return a, s.waitKey(a)
}

// waitKey polls a signed channel list until the key is accepted.
func (s *Server) waitKey(a App) error {
	path := "/apps/" + a.ID + "/channels"
	deadline := time.Now().Add(keyReadyTimeout)
	for {
		q := sign.Request(a.Key, a.Secret, http.MethodGet, path, nil, nil, time.Now())
		status, err := s.get(path + "?" + q.Encode())
		if err == nil && status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("heraldtest: key of app %s not accepted within %s (last: %d %v)", a.ID, keyReadyTimeout, status, err)
		}
		time.Sleep(keyPollInterval)
	}
}

func (s *Server) get(pathQuery string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+pathQuery, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
