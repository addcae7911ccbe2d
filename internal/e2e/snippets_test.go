package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
)

// clientsDoc is the page of client set-up snippets, from this package.
const clientsDoc = "../../docs/clients.md"

// docAddr is the address the snippets are written with: herald dev's
// default.
const docAddr = "127.0.0.1:6001"

// snippetTimeout bounds building and running a snippet.
const snippetTimeout = 2 * time.Minute

// fencedBlock matches a fenced code block: ```lang test=name, its code,
// then ``` alone on a line.
var fencedBlock = regexp.MustCompile("(?ms)^```(\\S*)(?:[ \\t]+test=(\\S+))?[ \\t]*\\n(.*?)^```[ \\t]*$")

// docBlock is one fenced code block of a page.
type docBlock struct {
	lang, test, code string
}

func clientsDocBlocks(t *testing.T) []docBlock {
	t.Helper()
	md, err := os.ReadFile(clientsDoc)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	for _, m := range fencedBlock.FindAllStringSubmatch(string(md), -1) {
		blocks = append(blocks, docBlock{lang: m[1], test: m[2], code: m[3]})
	}
	if len(blocks) == 0 {
		t.Fatalf("found no code block in %s: the extraction is broken", clientsDoc)
	}
	return blocks
}

// TestClientsDocBlocksAreTested keeps docs/clients.md honest: every code
// block names the test that runs it (the JavaScript ones run in
// internal/e2e/js/test/docs-snippets.test.mjs, the Go one below).
func TestClientsDocBlocksAreTested(t *testing.T) {
	run := map[string][]string{
		"js": {"pusher-js", "echo-pusher", "echo-reverb", "pusher-npm"},
		"go": {"pusher-http-go"},
	}
	for _, b := range clientsDocBlocks(t) {
		if !slices.Contains(run[b.lang], b.test) {
			t.Errorf("a %q block of %s is fenced with test=%q, which no test runs:\n%s", b.lang, clientsDoc, b.test, b.code)
		}
	}
}

// TestClientsDocGoSnippet builds the pusher-http-go block of
// docs/clients.md as written, with only the address changed, against this
// module's go.mod, runs it, and checks that its event reaches a
// subscriber.
func TestClientsDocGoSnippet(t *testing.T) {
	t.Parallel()
	var code string
	for _, b := range clientsDocBlocks(t) {
		if b.lang == "go" && b.test == "pusher-http-go" {
			code = b.code
		}
	}
	if code == "" {
		t.Fatalf("%s has no block fenced ```go test=pusher-http-go", clientsDoc)
	}
	// The channel, event and data the block publishes.
	const channel, event, message = "my-channel", "my-event", "hello"
	if !strings.Contains(code, `"`+channel+`"`) || !strings.Contains(code, `"`+event+`"`) {
		t.Fatalf("the block no longer triggers %s on %s:\n%s", event, channel, code)
	}
	if !strings.Contains(code, docAddr) {
		t.Fatalf("the block does not use the documented address %s:\n%s", docAddr, code)
	}

	h := testenv.Herald(t)
	bin := buildSnippet(t, strings.ReplaceAll(code, docAddr, h.Addr()))
	sub := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
	if e := sub.Subscribe(channel, testenv.AppKey, testenv.AppSecret, ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe: %s %s", e.Event, e.Data)
	}

	ctx, cancel := context.WithTimeout(context.Background(), snippetTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin).CombinedOutput(); err != nil {
		t.Fatalf("the snippet failed: %v\n%s", err, out)
	}
	e, _ := sub.Expect(event, channel)
	var got map[string]string
	e.DecodeData(t, &got)
	if len(got) != 1 || got["message"] != message {
		t.Fatalf("received %s, want {\"message\":%q}", e.Data, message)
	}
}

// buildSnippet compiles code, a main package, as if it were a folder of
// this module (go build -overlay: nothing is written to the source tree),
// so that it builds with the module's go.mod and go.sum, and returns the
// binary.
func buildSnippet(t *testing.T, code string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "internal", "e2e", "clientsdoc_snippet")
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s exists; the overlay needs a folder that does not", dir)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(dir, "main.go"): src}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "snippet")
	ctx, cancel := context.WithTimeout(context.Background(), snippetTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-overlay", overlayFile, "-o", bin, "./internal/e2e/clientsdoc_snippet")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the snippet: %v\n%s\n%s", err, out, code)
	}
	return bin
}
