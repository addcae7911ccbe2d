package main

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane"
)

func TestAdminCLISigningKeys(t *testing.T) {
	t.Parallel()
	c := newCLI(t)

	var first, second controlplane.SigningKey
	c.okJSON(t, &first, "signing-keys", "rotate")
	if r := c.ok(t, "signing-keys", "rotate"); !strings.Contains(r.stdout, "KID") || !strings.Contains(r.stdout, "true") {
		t.Errorf("rotate table:\n%s", r.stdout)
	}
	var keys jsonPage[controlplane.SigningKey]
	c.okJSON(t, &keys, "signing-keys", "list")
	if len(keys.Items) != 2 || keys.Items[1].KID != first.KID || !keys.Items[0].Active || keys.Items[1].Active {
		t.Fatalf("list = %+v", keys.Items)
	}
	second = keys.Items[0]

	r := c.ok(t, "signing-keys", "list", "--limit", "1")
	if !strings.Contains(r.stdout, second.KID) || strings.Contains(r.stdout, first.KID) || !strings.Contains(r.stderr, "more: --cursor ") {
		t.Errorf("list --limit 1:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
	if r := c.ok(t, "signing-keys", "retire", first.KID); !strings.Contains(r.stdout, "retired signing key "+first.KID) {
		t.Errorf("retire: %q", r.stdout)
	}
	// The last live key cannot go.
	if r := c.run("signing-keys", "retire", second.KID); r.code != 1 || !strings.HasPrefix(r.stderr, "herald admin: conflict") {
		t.Errorf("retiring the last key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := c.run("signing-keys", "retire"); r.code != 2 {
		t.Errorf("retire without KID: exit %d", r.code)
	}
	r = c.ok(t, "signing-keys", "list")
	if !strings.Contains(r.stdout, "RETIRED") || strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("list table:\n%s", r.stdout)
	}
}
