package e2e

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

// catalogSection is the heading of docs/operations.md's metrics table.
const catalogSection = "### Metrics catalog"

// standardPrefixes are the client library's own collectors, which the
// catalog leaves out on purpose.
var standardPrefixes = []string{"go_", "process_", "promhttp_"}

// catalogEntry is one row of the catalog: a metric's type and whether
// --metrics-app-labels gives it an app label.
type catalogEntry struct {
	typ      string
	appLabel bool
}

// readCatalog parses the metrics table of docs/operations.md.
func readCatalog(t *testing.T) map[string]catalogEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), catalogSection+"\n")
	if !ok {
		t.Fatalf("docs/operations.md has no %q", catalogSection)
	}
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	out := map[string]catalogEntry{}
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`herald_") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if _, dup := out[name]; dup {
			t.Errorf("catalog lists %s twice", name)
		}
		out[name] = catalogEntry{typ: strings.TrimSpace(cells[2]), appLabel: strings.Contains(cells[3], "`app` with `--metrics-app-labels`")}
	}
	if len(out) == 0 {
		t.Fatal("the metrics catalog has no rows: the table format changed")
	}
	return out
}

// scrapedFamily is one metric family of a /metrics answer.
type scrapedFamily struct {
	typ    string
	labels map[string]bool
}

// sampleLine splits a sample line into its name and its label names.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? `)

// labelName matches the names in a sample's label set.
var labelName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)

// scrape reads /metrics: the families by their TYPE lines, with the
// label names their samples carry.
func scrape(t *testing.T, url string) (map[string]*scrapedFamily, string) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	families := map[string]*scrapedFamily{}
	var current string
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			families[name] = &scrapedFamily{typ: typ, labels: map[string]bool{}}
			current = name
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || current == "" {
			continue
		}
		for _, l := range labelName.FindAllStringSubmatch(m[2], -1) {
			families[current].labels[l[1]] = true
		}
	}
	return families, string(body)
}

// sampleValue is the value of the sample line that starts with series
// (a name and its labels as exposed), or -1.
func sampleValue(body, series string) float64 {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func standard(name string) bool {
	for _, p := range standardPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// TestMetricsCatalog keeps docs/operations.md's catalog in step with what
// Herald registers and exposes, with --metrics-app-labels off and on: a
// metric missing from the catalog, a catalog row Herald does not
// register, a wrong type, or an app label where the catalog has none (or
// the reverse) fails.
func TestMetricsCatalog(t *testing.T) {
	catalog := readCatalog(t)
	for _, appLabels := range []bool{false, true} {
		name := "app-labels=off"
		if appLabels {
			name = "app-labels=on"
		}
		t.Run(name, func(t *testing.T) {
			h := testenv.Herald(t, func(c *platform.Config) { c.MetricsAppLabels = appLabels })
			// One connection, subscription, publish and delivery, so that
			// the per-app series have a child to show their labels.
			p := testenv.MustDialPusher(t, h.URL(), testenv.AppKey)
			p.Subscribe("catalog", "", "", "")
			testenv.Trigger(t, h.URL(), testenv.AppID, testenv.AppKey, testenv.AppSecret, "e", `{}`, "catalog")
			p.Expect("e", "catalog")

			registered := map[string]bool{}
			for _, n := range h.MetricNames() {
				if standard(n) {
					continue
				}
				registered[n] = true
				if _, ok := catalog[n]; !ok {
					t.Errorf("Herald registers %s, which docs/operations.md's catalog does not list", n)
				}
			}
			for n := range catalog {
				if !registered[n] {
					t.Errorf("docs/operations.md's catalog lists %s, which Herald does not register", n)
				}
			}
			families, body := scrape(t, h.URL())
			// The series the alerts rely on say what happened.
			for series, want := range map[string]float64{
				"herald_ready": 1,
				`herald_readiness_check{check="postgres"}`:       1,
				`herald_nats_connected{conn="live"}`:             1,
				"herald_api_publish_duration_seconds_count":      1,
				`herald_webhook_attempts_total{status="failed"}`: 0,
			} {
				if got := sampleValue(body, series); got != want {
					t.Errorf("%s = %v, want %v", series, got, want)
				}
			}
			for n, f := range families {
				if standard(n) {
					continue
				}
				e, ok := catalog[n]
				if !ok {
					t.Errorf("/metrics exposes %s, which docs/operations.md's catalog does not list", n)
					continue
				}
				if e.typ != f.typ {
					t.Errorf("%s is a %s; the catalog says %s", n, f.typ, e.typ)
				}
				if f.labels["app"] != (appLabels && e.appLabel) {
					t.Errorf("%s has an app label: %v; want %v (catalog: %v)", n, f.labels["app"], appLabels && e.appLabel, e.appLabel)
				}
			}
		})
	}
}

// metricRef finds Herald metric names in PromQL; recording rules
// (herald:…) have a colon and do not match.
var metricRef = regexp.MustCompile(`\bherald_[a-z0-9_]+`)

// histogramSuffixes are the series names a histogram exposes.
var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// TestDeployFilesUseCatalogMetrics fails when the Prometheus rules or the
// Grafana dashboard name a metric the catalog does not list (a rename
// that left them behind).
func TestDeployFilesUseCatalogMetrics(t *testing.T) {
	catalog := readCatalog(t)
	for _, file := range []string{"deploy/prometheus/rules.yml", "deploy/prometheus/rules_test.yml", "deploy/grafana/herald.json"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		refs := metricRef.FindAllString(string(b), -1)
		if len(refs) == 0 {
			t.Errorf("%s names no Herald metric: the pattern is broken", file)
		}
		for _, ref := range refs {
			if !known(catalog, ref) {
				t.Errorf("%s uses %s, which is not in docs/operations.md's catalog", file, ref)
			}
		}
	}
}

// known reports whether ref is a catalog metric or a histogram's series.
func known(catalog map[string]catalogEntry, ref string) bool {
	if _, ok := catalog[ref]; ok {
		return true
	}
	return slices.ContainsFunc(histogramSuffixes, func(s string) bool {
		base, ok := strings.CutSuffix(ref, s)
		return ok && catalog[base].typ == "histogram"
	})
}
