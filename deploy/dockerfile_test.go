package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// imageModes are the herald commands the image runs (not dev, which
// needs PostgreSQL's binaries).
var imageModes = []string{"gateway", "controlplane", "migrate"}

// dockerInstruction is one Dockerfile instruction, continuation lines
// joined.
type dockerInstruction struct {
	op, args string
}

func readDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstruction
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur += rest + " "
			continue
		}
		cur += trimmed
		op, args, _ := strings.Cut(cur, " ")
		out = append(out, dockerInstruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

// goDirective reads go.mod's go line.
var goDirective = regexp.MustCompile(`(?m)^go (\S+)$`)

func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := goDirective.FindSubmatch(gomod)[1]
	var stages []string
	var build, user, entrypoint, healthcheck string
	env := map[string]string{}
	for _, in := range ins {
		switch in.op {
		case "ARG":
			if v, ok := strings.CutPrefix(in.args, "GO_VERSION="); ok && v != string(goVersion) {
				t.Errorf("Dockerfile builds with Go %s, go.mod says %s", v, goVersion)
			}
		case "FROM":
			stages = append(stages, in.args)
		case "RUN":
			if strings.Contains(in.args, "go build") {
				build = in.args
			}
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "HEALTHCHECK":
			healthcheck = in.args
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
	}
	if len(stages) < 2 || !strings.HasPrefix(stages[0], "golang:${GO_VERSION}") {
		t.Errorf("stages %q: want a golang:${GO_VERSION} builder first", stages)
	}
	if final := stages[len(stages)-1]; !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final stage %q: want distroless static or scratch (no shell)", final)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=auto", "./cmd/herald"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %s (the Makefile's build target, static)", build, want)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: the image must run as a non-root user", user)
	}
	if !jsonArgs(t, entrypoint, "/herald") {
		t.Errorf(`ENTRYPOINT %s, want ["/herald"]`, entrypoint)
	}
	cmd, ok := strings.CutPrefix(healthcheck[strings.Index(healthcheck, "CMD"):], "CMD ")
	if !ok || !jsonArgs(t, cmd, "/herald", "healthcheck") {
		t.Errorf(`HEALTHCHECK %s, want CMD ["/herald", "healthcheck"] (exec form: no shell)`, healthcheck)
	}
	// Every HERALD_ variable the image sets is a flag of a mode it runs.
	flags := herald(t)
	for k := range env {
		if f := envFlag(k); f != "" {
			known := false
			for _, m := range imageModes {
				known = known || flags[m][f]
			}
			if !known {
				t.Errorf("Dockerfile ENV %s sets --%s, which none of %v has", k, f, imageModes)
			}
		}
	}
	if !strings.HasPrefix(env["HERALD_ADDR"], "0.0.0.0:") {
		t.Errorf("HERALD_ADDR=%q: a container must listen beyond loopback", env["HERALD_ADDR"])
	}
}

// jsonArgs reports whether s is the JSON (exec form) array want.
func jsonArgs(t *testing.T, s string, want ...string) bool {
	t.Helper()
	var got []string
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		return false
	}
	return strings.Join(got, "\x00") == strings.Join(want, "\x00")
}

// TestDockerignoreKeepsBuildInputs: .dockerignore leaves out nothing that
// building cmd/herald reads (its packages' Go and embedded files, the
// modules' go.mod and go.sum).
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore exception %q: this check does not model them", line)
		}
		patterns = append(patterns, strings.TrimPrefix(line, "/"))
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}`, "../cmd/herald").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	inputs := []string{"go.mod", "go.sum", "sdk/go/go.mod", "sdk/go/go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		rel, err := filepath.Rel(root, fields[0])
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // the standard library and the module cache
		}
		for _, f := range fields[1:] {
			inputs = append(inputs, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if len(inputs) < 10 {
		t.Fatalf("go list found only %v", inputs)
	}
	for _, in := range inputs {
		if p := dockerignored(patterns, in); p != "" {
			t.Errorf(".dockerignore %q leaves out %s, which the build needs", p, in)
		}
	}
}

// dockerignored returns the pattern that excludes file (a slash path), or
// "": a pattern excludes what it matches and everything under it, and a
// leading **/ matches at any depth.
func dockerignored(patterns []string, file string) string {
	parts := strings.Split(file, "/")
	for _, pattern := range patterns {
		p, anyDepth := strings.CutPrefix(pattern, "**/")
		for start := range parts {
			if start > 0 && !anyDepth {
				break
			}
			for end := start + 1; end <= len(parts); end++ {
				if ok, _ := path.Match(p, strings.Join(parts[start:end], "/")); ok {
					return pattern
				}
			}
		}
	}
	return ""
}
