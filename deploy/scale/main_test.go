package main

import (
	"io"
	"slices"
	"testing"
)

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		src     string
		env     []string
		wantErr bool
	}{
		{"defaults", nil, "127.0.0.2-127.0.0.15", nil, false},
		{"two workers", []string{"-workers", "2", "-gomaxprocs", "1"}, "127.0.0.2-127.0.0.5", []string{"GOMAXPROCS=1"}, false},
		{"sources given", []string{"-src", "127.0.0.9"}, "127.0.0.9", nil, false},
		{"more workers than connections", []string{"-conns", "3", "-workers", "4"}, "", nil, true},
		{"no gateway", []string{"-gateways", "0"}, "", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(c.args, io.Discard)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			if o.src != c.src || !slices.Equal(o.env(), c.env) {
				t.Fatalf("src %q env %v; want %q %v", o.src, o.env(), c.src, c.env)
			}
		})
	}
}

func TestBenchArgsSpreadOverEveryGateway(t *testing.T) {
	f := &fleet{apiURL: "http://127.0.0.1:1", gateways: []string{"http://127.0.0.1:2", "http://127.0.0.1:3"}}
	o, err := parseFlags([]string{"-conns", "10", "-workers", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	args := f.benchArgs(o)
	for _, want := range [][2]string{{"--ws-urls", "http://127.0.0.1:2,http://127.0.0.1:3"}, {"--url", "http://127.0.0.1:1"}, {"--workers", "2"}, {"--subscribers", "10"}} {
		i := slices.Index(args, want[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != want[1] {
			t.Errorf("args %v lack %s %s", args, want[0], want[1])
		}
	}
}
