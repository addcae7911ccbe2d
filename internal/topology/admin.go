package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// App is an app created through the admin API, with one key.
type App struct {
	ID, Key, Secret string
}

// CreateApp creates, through the balancer, an account and in it an app
// with id and one key; settings (the admin API's, such as
// {"client_events": true}) may be nil.
func (t *Topology) CreateApp(ctx context.Context, id string, settings map[string]any) (App, error) {
	var acc struct{ ID string }
	if err := t.admin(ctx, "/admin/v1/accounts", map[string]any{"name": "account-" + id}, &acc); err != nil {
		return App{}, err
	}
	body := map[string]any{"account_id": acc.ID, "name": id, "id": id}
	if settings != nil {
		body["settings"] = settings
	}
	if err := t.admin(ctx, "/admin/v1/apps", body, nil); err != nil {
		return App{}, err
	}
	var k struct{ Key, Secret string }
	if err := t.admin(ctx, "/admin/v1/apps/"+id+"/keys", map[string]any{}, &k); err != nil {
		return App{}, err
	}
	return App{ID: id, Key: k.Key, Secret: k.Secret}, nil
}

// admin POSTs body to an admin API path and decodes the 201 answer.
func (t *Topology) admin(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL()+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("topology: POST %s: %w", path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("topology: POST %s: %w", path, err)
	}
	if res.StatusCode != http.StatusCreated {
		// The body is the admin API's error; it names no secret.
		return fmt.Errorf("topology: POST %s = %d: %s", path, res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
