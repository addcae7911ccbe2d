package config_test

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
)

func TestEnvName(t *testing.T) {
	if got := config.EnvName("dev-app-id"); got != "HERALD_DEV_APP_ID" {
		t.Fatalf("EnvName = %q", got)
	}
}

func TestParsePrecedence(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "127.0.0.1:6001"},
		{"env", nil, map[string]string{"HERALD_ADDR": ":7000"}, ":7000"},
		{"flag wins", []string{"--addr", ":8000"}, map[string]string{"HERALD_ADDR": ":7000"}, ":8000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			addr := fs.String("addr", "127.0.0.1:6001", "")
			if err := config.Parse(fs, c.args, func(k string) string { return c.env[k] }); err != nil {
				t.Fatal(err)
			}
			if *addr != c.want {
				t.Fatalf("addr = %q, want %q", *addr, c.want)
			}
		})
	}
}

func TestParseBadEnv(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Duration("interval", time.Second, "")
	err := config.Parse(fs, nil, func(k string) string {
		if k == "HERALD_INTERVAL" {
			return "soon"
		}
		return ""
	})
	if err == nil {
		t.Fatal("bad duration in env accepted")
	}
}
