package e2e_test

import (
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// tlsDialTimeout bounds one handshake of the TLS checks.
const tlsDialTimeout = 5 * time.Second

// modernSuites are the TLS 1.2 suites Herald may negotiate: ECDHE key
// exchange (forward secrecy) with an AEAD cipher.
var modernSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// legacySuites are every other TLS 1.2 suite crypto/tls can speak: CBC
// modes, RSA key exchange (no forward secrecy), 3DES and RC4.
func legacySuites() []*tls.CipherSuite {
	var out []*tls.CipherSuite
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if slices.Contains(s.SupportedVersions, tls.VersionTLS12) && !slices.Contains(modernSuites, s.ID) {
			out = append(out, s)
		}
	}
	return out
}

// handshake dials addr with cfg and returns the negotiated state.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: tlsDialTimeout}, Config: cfg}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState(), nil
}

// wantServerRefusal fails unless err is the server's alert: a client
// that gave up on its own would prove nothing about the server.
func wantServerRefusal(t *testing.T, what string, err error) {
	t.Helper()
	var op *net.OpError
	if err == nil {
		t.Errorf("%s: the server accepted", what)
		return
	}
	// crypto/tls reports an alert from the peer as a "remote error".
	if !errors.As(err, &op) || op.Op != "remote error" {
		t.Errorf("%s: refused, but not by a server alert: %v", what, err)
	}
}

// TestSecurityTLSSettings: with --tls-cert/--tls-key (an ECDSA and an RSA
// certificate), the listener refuses TLS 1.0 and 1.1 clients, refuses
// every TLS 1.2 suite but ECDHE with AES-GCM or ChaCha20-Poly1305 (no
// CBC, no RSA key exchange, no 3DES or RC4), negotiates each of those it
// allows for its key type, and speaks TLS 1.3.
func TestSecurityTLSSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		certs  func(testing.TB) testenv.TLSFiles
		prefix string // of the modern suites this key can sign
	}{
		{"ecdsa", testenv.SelfSignedTLS, "TLS_ECDHE_ECDSA_"},
		{"rsa", testenv.SelfSignedRSATLS, "TLS_ECDHE_RSA_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			certs := tc.certs(t)
			h := testenv.Herald(t, func(c *platform.Config) {
				c.TLS = platform.TLSConfig{CertFile: certs.CertFile, KeyFile: certs.KeyFile}
			})
			client := func(minV, maxV uint16, suites ...uint16) *tls.Config {
				return &tls.Config{RootCAs: certs.Pool, ServerName: "127.0.0.1", MinVersion: minV, MaxVersion: maxV, CipherSuites: suites}
			}
			for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
				_, err := handshake(h.Addr(), client(v, v))
				wantServerRefusal(t, tls.VersionName(v), err)
			}
			for _, s := range legacySuites() {
				_, err := handshake(h.Addr(), client(tls.VersionTLS12, tls.VersionTLS12, s.ID))
				wantServerRefusal(t, "TLS 1.2 with "+s.Name, err)
			}
			for _, id := range modernSuites {
				name := tls.CipherSuiteName(id)
				if !strings.HasPrefix(name, tc.prefix) {
					continue
				}
				st, err := handshake(h.Addr(), client(tls.VersionTLS12, tls.VersionTLS12, id))
				if err != nil || st.CipherSuite != id {
					t.Errorf("TLS 1.2 with %s: %v (negotiated %s)", name, err, tls.CipherSuiteName(st.CipherSuite))
				}
			}
			st, err := handshake(h.Addr(), client(tls.VersionTLS13, tls.VersionTLS13))
			if err != nil || st.Version != tls.VersionTLS13 {
				t.Errorf("TLS 1.3: %v (version %s)", err, tls.VersionName(st.Version))
			}
		})
	}
}
