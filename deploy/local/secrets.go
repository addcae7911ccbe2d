package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/heraldhq/herald/internal/topology"
)

// Modes of what this program keeps in its folder: private, since they
// hold secrets.
const (
	dirPerm  = 0o700
	filePerm = 0o600
)

// adminTokenBytes is the entropy of a generated admin token.
const adminTokenBytes = 32

// keptSecret returns the secret kept in path, generating and saving one
// on first use, so that the database's sealed values (master key) and
// the operator's token survive a restart, as in herald dev.
// created reports whether it was generated now.
func keptSecret(path string, generate func() string) (s string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	s = generate()
	if err := os.WriteFile(path, []byte(s+"\n"), filePerm); err != nil {
		return "", false, fmt.Errorf("keep secret: %w", err)
	}
	return s, true, nil
}

func newAdminToken() string {
	b := make([]byte, adminTokenBytes)
	_, _ = rand.Read(b)
	return "hat_" + base64.RawURLEncoding.EncodeToString(b)
}

// demoApp returns the demo app kept in path, creating it (and keeping
// its credentials) on first start.
func demoApp(ctx context.Context, top *topology.Topology, path string) (topology.App, error) {
	var app topology.App
	b, err := os.ReadFile(path)
	if err == nil {
		return app, json.Unmarshal(b, &app)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return app, err
	}
	app, err = top.CreateApp(ctx, demoAppID, map[string]any{"client_events": true})
	if err != nil {
		return app, err
	}
	b, err = json.Marshal(app)
	if err != nil {
		return app, err
	}
	return app, os.WriteFile(path, b, filePerm)
}
