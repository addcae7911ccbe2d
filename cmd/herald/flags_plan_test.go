package main

import (
	"flag"
	"io"
	"testing"

	"github.com/heraldhq/herald/internal/platform"
)

// TestDefaultPlanFlag: --default-plan is dev's plan in dev mode, none in
// the control plane, and absent from the gateway (which has no database).
func TestDefaultPlanFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode platform.Mode
		args []string
		want string
	}{
		{platform.ModeDev, nil, platform.DevPlanID},
		{platform.ModeDev, []string{"--default-plan="}, ""},
		{platform.ModeControlPlane, nil, ""},
		{platform.ModeControlPlane, []string{"--default-plan", "starter"}, "starter"},
	} {
		var cfg platform.Config
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		bindServerFlags(fs, &cfg, tc.mode)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("mode %d %v: %v", tc.mode, tc.args, err)
		}
		if cfg.DefaultPlan != tc.want {
			t.Errorf("mode %d %v: default plan %q, want %q", tc.mode, tc.args, cfg.DefaultPlan, tc.want)
		}
	}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	bindServerFlags(fs, &platform.Config{}, platform.ModeGateway)
	if fs.Lookup("default-plan") != nil {
		t.Error("the gateway has --default-plan")
	}
}
