package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// helmVersion is the helm the chart is checked with, built from its Go
// module once per machine into the user cache folder (about 3 minutes cold
// on 2 cores; `make helm` does it ahead of the tests).
const helmVersion = "v3.21.4"

// helmKubeVersion is what helm template renders for: the chart needs 1.30
// (the preStop sleep action), above helm's default.
const helmKubeVersion = "1.30.0"

const chartDir = "helm/herald"

// helmValues are the value sets the chart is rendered and linted with:
// the defaults, and every optional feature on.
var helmValues = map[string][]string{
	"defaults":     nil,
	"all-features": {"--values", filepath.Join(chartDir, "ci", "all-features-values.yaml")},
}

// helmPath returns the pinned helm, building it first when the cache does
// not have it.
func helmPath(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "herald", "helm-"+helmVersion)
	bin := filepath.Join(dir, "helm")
	if _, err := os.Stat(bin); err == nil {
		return bin
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	t.Logf("building helm %s into %s (minutes, once per machine)", helmVersion, dir)
	start := time.Now()
	cmd := exec.Command("go", "install", "helm.sh/helm/v3/cmd/helm@"+helmVersion)
	// Outside this module, so that its go.mod and GOFLAGS play no part.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install helm %s: %v\n%s", helmVersion, err, out)
	}
	t.Logf("built helm in %v", time.Since(start).Round(time.Second))
	return bin
}

// TestHelmBuilt checks the cached helm was built from the pinned module
// version (a helm built with go install prints no patch version itself);
// `make helm` runs it to build helm before the suite.
func TestHelmBuilt(t *testing.T) {
	out := run(t, ".", "go", "version", "-m", helmPath(t))
	if !strings.Contains(out, "\tmod\thelm.sh/helm/v3\t"+helmVersion+"\t") {
		t.Fatalf("cached helm is not built from helm.sh/helm/v3 %s:\n%s", helmVersion, out)
	}
}

func TestHelmLint(t *testing.T) {
	helm := helmPath(t)
	for name, values := range helmValues {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir, "--kube-version", helmKubeVersion}, values...)
			run(t, ".", helm, args...)
		})
	}
}

// k8sObject is the part of a rendered object the checks read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// HorizontalPodAutoscaler
		Metrics []struct {
			Type string `yaml:"type"`
			Pods struct {
				Metric struct {
					Name string `yaml:"name"`
				} `yaml:"metric"`
			} `yaml:"pods"`
			Resource struct {
				Name string `yaml:"name"`
			} `yaml:"resource"`
		} `yaml:"metrics"`
		// Ingress
		Rules []struct {
			HTTP struct {
				Paths []struct {
					Path    string `yaml:"path"`
					Backend struct {
						Service struct {
							Name string `yaml:"name"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int        `yaml:"terminationGracePeriodSeconds"`
	Containers                    []container `yaml:"containers"`
}

type container struct {
	Name           string                  `yaml:"name"`
	Args           []string                `yaml:"args"`
	Command        []string                `yaml:"command"`
	Env            []struct{ Name string } `yaml:"env"`
	ReadinessProbe *probe                  `yaml:"readinessProbe"`
	LivenessProbe  *probe                  `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
	} `yaml:"resources"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// helmTemplate renders the chart and returns its objects by kind.
func helmTemplate(t *testing.T, values []string) map[string][]k8sObject {
	t.Helper()
	args := append([]string{"template", "herald", chartDir, "--kube-version", helmKubeVersion}, values...)
	out := run(t, ".", helmPath(t), args...)
	objs := map[string][]k8sObject{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template output: %v", err)
		}
		if o.Kind != "" {
			objs[o.Kind] = append(objs[o.Kind], o)
		}
	}
	return objs
}

func TestHelmTemplate(t *testing.T) {
	for name, values := range helmValues {
		t.Run(name, func(t *testing.T) {
			objs := helmTemplate(t, values)
			want := map[string]int{"Deployment": 2, "Service": 2, "PodDisruptionBudget": 2, "HorizontalPodAutoscaler": 1, "Job": 1}
			if name == "all-features" {
				for k, n := range map[string]int{"Ingress": 1, "ServiceMonitor": 1, "NetworkPolicy": 2, "Secret": 1} {
					want[k] = n
				}
			}
			for kind, n := range want {
				if got := len(objs[kind]); got != n {
					t.Errorf("%d %s, want %d", got, kind, n)
				}
			}
			checkHelmContainers(t, objs)
			checkHelmGateway(t, find(t, objs, "Deployment", "herald-gateway"))
			checkHelmHPA(t, objs["HorizontalPodAutoscaler"])
			job := find(t, objs, "Job", "herald-migrate")
			if hook := job.Metadata.Annotations["helm.sh/hook"]; hook != "pre-install,pre-upgrade" {
				t.Errorf("migration Job hook %q, want pre-install,pre-upgrade", hook)
			}
			if name == "all-features" {
				checkHelmIngress(t, objs["Ingress"][0], "/ws")
			}
		})
	}
}

func find(t *testing.T, objs map[string][]k8sObject, kind, name string) k8sObject {
	t.Helper()
	for _, o := range objs[kind] {
		if o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return k8sObject{}
}

// checkHelmContainers: every herald container uses flags and variables
// the binary has, and the servers probe /readyz and /healthz.
func checkHelmContainers(t *testing.T, objs map[string][]k8sObject) {
	t.Helper()
	for _, kind := range []string{"Deployment", "Job"} {
		for _, o := range objs[kind] {
			for _, c := range o.Spec.Template.Spec.Containers {
				where := kind + " " + o.Metadata.Name + " container " + c.Name
				if len(c.Command) > 0 {
					t.Errorf("%s overrides the image's entrypoint", where)
				}
				var env []string
				for _, e := range c.Env {
					env = append(env, e.Name)
				}
				checkHeraldCommand(t, heraldCommand{where: "chart " + where, args: c.Args, env: env})
				if kind != "Deployment" {
					continue
				}
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
					t.Errorf("%s: readiness probe is not GET /readyz", where)
				}
				if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
					t.Errorf("%s: liveness probe is not GET /healthz", where)
				}
				if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
					t.Errorf("%s: no cpu and memory requests (the HPA's CPU target needs them)", where)
				}
			}
		}
	}
}

// checkHelmGateway: a gateway pod is given longer to stop than the
// preStop sleep, --shutdown-spread and the drain after it.
func checkHelmGateway(t *testing.T, d k8sObject) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("gateway pod has %d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Fatal("gateway has no preStop sleep")
	}
	spread, err := time.ParseDuration(flagValues(c.Args)["shutdown-spread"])
	if err != nil {
		t.Fatalf("gateway --shutdown-spread: %v", err)
	}
	grace := spec.TerminationGracePeriodSeconds
	need := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second + spread + minDrain
	if grace == nil {
		t.Error("gateway has no terminationGracePeriodSeconds")
	} else if time.Duration(*grace)*time.Second <= need {
		t.Errorf("terminationGracePeriodSeconds %d must exceed preStop + --shutdown-spread + %v of drain = %v", *grace, minDrain, need)
	}
	if flagValues(c.Args)["trusted-proxies"] == "" {
		t.Error("gateway has no --trusted-proxies: every client behind the ingress would share one address")
	}
}

// checkHelmHPA: gateways scale on their connections gauge and on CPU.
func checkHelmHPA(t *testing.T, hpas []k8sObject) {
	t.Helper()
	if len(hpas) != 1 {
		return
	}
	var pods, cpu bool
	for _, m := range hpas[0].Spec.Metrics {
		pods = pods || (m.Type == "Pods" && m.Pods.Metric.Name == gatewayConnectionsMetric(t))
		cpu = cpu || (m.Type == "Resource" && m.Resource.Name == "cpu")
	}
	if !pods || !cpu {
		t.Errorf("HPA metrics %+v: want Pods %s and Resource cpu", hpas[0].Spec.Metrics, gatewayConnectionsMetric(t))
	}
}

// gatewayConnectionsMetric is the gateway's open-connections gauge the
// HPA scales on. It must be in the metrics catalog of docs/operations.md as
// a gauge: TestMetricsCatalog keeps the catalog in step with what /metrics
// exposes.
func gatewayConnectionsMetric(t *testing.T) string {
	t.Helper()
	const name = "herald_gateway_connections"
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	if row := "| `" + name + "` | gauge |"; !bytes.Contains(doc, []byte(row)) {
		t.Fatalf("docs/operations.md's metrics catalog has no row %q; update the chart's HPA metric and this check", row)
	}
	return name
}

// checkHelmIngress: the gateway's paths (under the prefix) go to the
// gateway Service, the rest to the control planes.
func checkHelmIngress(t *testing.T, ing k8sObject, prefix string) {
	t.Helper()
	routes := map[string]string{}
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			routes[p.Path] = p.Backend.Service.Name
		}
	}
	for _, p := range gatewayPaths {
		if got := routes[prefix+p]; got != "herald-gateway" {
			t.Errorf("ingress sends %s to %q, want herald-gateway", prefix+p, got)
		}
	}
	if got := routes["/"]; got != "herald-controlplane" {
		t.Errorf("ingress sends / to %q, want herald-controlplane", got)
	}
	if len(routes) != len(gatewayPaths)+1 {
		t.Errorf("ingress routes %v", routes)
	}
}
