package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Files this test checks, relative to this package.
const (
	rulesFile     = "prometheus/rules.yml"
	rulesTestFile = "prometheus/rules_test.yml"
	dashboardFile = "grafana/herald.json"
	operationsDoc = "../docs/operations.md"
)

// runbookBase is what every alert's runbook_url starts with; the rest is
// a heading anchor of docs/operations.md.
const runbookBase = "https://github.com/heraldhq/herald/blob/main/docs/operations.md#"

// severities are the values an alert's severity label may take
// (docs/operations.md, "Monitoring").
var severities = map[string]bool{"critical": true, "warning": true, "info": true}

// promtool runs Prometheus's promtool, which Debian's prometheus package
// provides (.ci/run installs it). Without it the check fails in CI and is
// skipped elsewhere, saying so.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (Debian package prometheus; .ci/run installs it)")
		}
		t.Skip("promtool is not installed: apt-get install prometheus to check the rules (CI fails without it)")
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPrometheusRulesPromtool checks the rules' syntax and runs their
// unit tests.
func TestPrometheusRulesPromtool(t *testing.T) {
	t.Run("check", func(t *testing.T) { promtool(t, "check", "rules", rulesFile) })
	t.Run("test", func(t *testing.T) { promtool(t, "test", "rules", rulesTestFile) })
}

// alertRule is what TestAlertsHaveRunbooks reads of an alert.
type alertRule struct {
	name   string
	fields map[string]string
}

// ruleField matches the keys of an alert this test reads.
var ruleField = regexp.MustCompile(`^\s+(severity|summary|runbook_url):\s*(.*)$`)

// readAlerts reads the alerts of rules.yml line by line: the file keeps
// one key per line, which is all this test needs of YAML.
func readAlerts(t *testing.T) []alertRule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []alertRule
	for line := range strings.SplitSeq(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(trimmed, "- alert:"); ok {
			alerts = append(alerts, alertRule{name: strings.TrimSpace(name), fields: map[string]string{}})
			continue
		}
		if strings.HasPrefix(trimmed, "- record:") {
			continue
		}
		if m := ruleField.FindStringSubmatch(line); m != nil && len(alerts) > 0 {
			alerts[len(alerts)-1].fields[m[1]] = strings.Trim(m[2], `"`)
		}
	}
	if len(alerts) == 0 {
		t.Fatalf("%s has no alerts", rulesFile)
	}
	return alerts
}

// anchors returns the GitHub anchors of a markdown file's headings.
func anchors(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		var a strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#"))) {
			switch {
			case r == ' ':
				a.WriteByte('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f:
				a.WriteRune(r)
			}
		}
		out[a.String()] = true
	}
	return out
}

// TestAlertsHaveRunbooks: every alert has a known severity, a summary and
// a runbook_url naming a section of docs/operations.md, its own.
func TestAlertsHaveRunbooks(t *testing.T) {
	sections := anchors(t, operationsDoc)
	seen := map[string]bool{}
	for _, a := range readAlerts(t) {
		if seen[a.name] {
			t.Errorf("alert %s is defined twice", a.name)
		}
		seen[a.name] = true
		if !severities[a.fields["severity"]] {
			t.Errorf("alert %s: severity %q; want critical, warning or info", a.name, a.fields["severity"])
		}
		if a.fields["summary"] == "" {
			t.Errorf("alert %s has no summary", a.name)
		}
		frag, ok := strings.CutPrefix(a.fields["runbook_url"], runbookBase)
		switch {
		case !ok:
			t.Errorf("alert %s: runbook_url %q does not start with %s", a.name, a.fields["runbook_url"], runbookBase)
		case frag != strings.ToLower(a.name):
			t.Errorf("alert %s: runbook_url points to #%s; want its own section #%s", a.name, frag, strings.ToLower(a.name))
		case !sections[frag]:
			t.Errorf("alert %s: docs/operations.md has no section #%s", a.name, frag)
		}
	}
}

// TestGrafanaDashboard checks that the dashboard is a Grafana JSON model
// whose every query goes to the data source the user picks.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	var d struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int        `json:"id"`
			Title      string     `json:"title"`
			Datasource datasource `json:"datasource"`
			Targets    []struct {
				Datasource datasource `json:"datasource"`
				Expr       string     `json:"expr"`
				RefID      string     `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard needs a title and a uid")
	}
	hasVar := false
	for _, v := range d.Templating.List {
		hasVar = hasVar || v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}
	if !hasVar {
		t.Error("dashboard has no Prometheus datasource variable named datasource")
	}
	want := datasource{Type: "prometheus", UID: "${datasource}"}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource != want {
			t.Errorf("panel %q: datasource %+v; want %+v", p.Title, p.Datasource, want)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Datasource != want || q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q: query %q needs the datasource variable, an expression and a refId", p.Title, q.Expr)
			}
		}
	}
	if len(d.Panels) == 0 {
		t.Error("dashboard has no panels")
	}
}
