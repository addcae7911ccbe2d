package main

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/heraldhq/herald/cmd/herald/internal/bench"
)

func TestParseRates(t *testing.T) {
	cases := []struct {
		list string
		one  float64
		want []float64
		ok   bool
	}{
		{"", 100, []float64{100}, true},
		{" ", 5, []float64{5}, true},
		{"1000,2000, 5000", 1, []float64{1000, 2000, 5000}, true},
		{"0.5", 1, []float64{0.5}, true},
		{"", 0, nil, false},
		{"100,,200", 1, nil, false},
		{"100,-1", 1, nil, false},
		{"fast", 1, nil, false},
	}
	for _, c := range cases {
		got, err := parseRates(c.list, c.one)
		if (err == nil) != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("parseRates(%q, %v) = %v, %v; want %v (ok %v)", c.list, c.one, got, err, c.want, c.ok)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	env := map[string]string{"HERALD_SUBSCRIBERS": "2", "HERALD_CHANNELS": "3"}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"help", []string{"-h"}, nil, 0},
		{"unknown flag", []string{"--nope"}, nil, 2},
		{"bad rates", []string{"--rates", "1,x"}, nil, 2},
		// More channels than subscribers, from the environment.
		{"invalid config", nil, env, 2},
		{"bad source range", []string{"--src", "127.0.0.9-127.0.0.2"}, nil, 2},
		{"idle with workers", []string{"--workers", "2", "--idle"}, nil, 2},
		{"more workers than subscribers", []string{"--workers", "3", "--subscribers", "2"}, nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"bench"}, c.args...), func(k string) string { return c.env[k] }, &stdout, &stderr)
			if code != c.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.want, stderr.String())
			}
		})
	}
}

func TestBenchFleetOptions(t *testing.T) {
	o := benchOptions{wsURLs: " http://127.0.0.1:1, ,http://127.0.0.1:2", src: "127.0.0.2-127.0.0.4"}
	var cfg bench.Config
	if err := o.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}; !slices.Equal(cfg.WSURLs, want) {
		t.Errorf("ws urls %v, want %v", cfg.WSURLs, want)
	}
	if len(cfg.Sources) != 3 || cfg.Sources[2].String() != "127.0.0.4" {
		t.Errorf("sources %v", cfg.Sources)
	}
	// Unset, nothing changes: one process, --url for everything.
	var plain bench.Config
	if err := (benchOptions{}).apply(&plain); err != nil || plain.WSURLs != nil || plain.Sources != nil {
		t.Errorf("no fleet flags: %+v, %v", plain, err)
	}
}
