package logscan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanFindsPlantedSecrets proves the suite's log scan can fail: a
// log with a planted secret or credential is reported, with the file,
// line and pattern but never the secret, and a clean log is not.
func TestScanFindsPlantedSecrets(t *testing.T) {
	t.Parallel()
	const registered = "planted-secret-6f1d2a"
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
	hex64 := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, line, want string
	}{
		{"registered secret", `{"msg":"x","v":"` + registered + `"}`, "registered secret #1"},
		{"JWT in a URL", `{"msg":"http request","url":"/app/k?token=` + jwt + `"}`, "a JWT"},
		{"auth_signature", `{"path":"/apps/1/events?auth_key=k&auth_signature=0123456789abcdef"}`, "an auth_signature value"},
		{"Bearer header", `{"authorization":"Bearer hat_something"}`, "a Bearer credential"},
		{"secret field", `{"key":"k","secret":"s3cr3t"}`, `a non-empty "secret" field`},
		{"escaped secret field", `{"body":"{\"secret\":\"s3cr3t\"}"}`, `a non-empty "secret" field`},
		{"text secret attribute", `level=DEBUG msg=x secret=s3cr3t`, "a secret= attribute"},
		{"channel auth", `{"frame":"{\"auth\":\"app-key:` + hex64 + `\"}"}`, "a channel auth signature"},
		{"admin token", `{"token":"hat_abcdefghijklmnopqrstuvwxyz"}`, "an admin token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.log")
			content := `{"msg":"clean line","secret":""}` + "\n" + tc.line + "\n"
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			leaks, _, err := Scan([]string{path}, []string{registered})
			if err != nil {
				t.Fatal(err)
			}
			if len(leaks) == 0 {
				t.Fatalf("no leak found in %q", tc.line)
			}
			var found bool
			for _, l := range leaks {
				if l.File != path || l.Line != 2 {
					t.Errorf("leak at %s:%d, want %s:2", l.File, l.Line, path)
				}
				if strings.Contains(l.String(), registered) || strings.Contains(l.String(), "s3cr3t") || strings.Contains(l.String(), jwt) {
					t.Errorf("the report repeats the secret: %s", l)
				}
				found = found || l.What == tc.want || strings.HasPrefix(l.What, tc.want)
			}
			if !found {
				t.Errorf("leaks %v, want one for %s", leaks, tc.want)
			}
		})
	}
}

func TestScanCleanLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.log")
	clean := `{"level":"DEBUG","msg":"http request","method":"POST","path":"/apps/app-id/events","status":200}` + "\n" +
		`{"level":"WARN","msg":"auth failed","secret":"","www-authenticate":"Bearer"}` + "\n"
	if err := os.WriteFile(path, []byte(clean), 0o600); err != nil {
		t.Fatal(err)
	}
	leaks, lines, err := Scan([]string{path}, []string{"never-logged-secret"})
	if err != nil || len(leaks) != 0 || lines != 2 {
		t.Fatalf("clean log: %v, %d lines, %v", leaks, lines, err)
	}
}
