package testenv

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// certValidity is how long a test certificate is valid.
const certValidity = 24 * time.Hour

// TLSFiles is a self-signed certificate for 127.0.0.1 and localhost,
// written as PEM files for --tls-cert and --tls-key, with a pool that
// trusts it for clients.
type TLSFiles struct {
	CertFile string
	KeyFile  string
	Pool     *x509.CertPool
}

// SelfSignedTLS makes an ECDSA P-256 certificate for 127.0.0.1 (IP SAN)
// and localhost in a temporary folder.
func SelfSignedTLS(tb testing.TB) TLSFiles {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return selfSigned(tb, key)
}

// rsaTestKeyBits is the size of SelfSignedRSATLS's key: the smallest
// size crypto/tls accepts, which keeps generating it quick.
const rsaTestKeyBits = 2048

// SelfSignedRSATLS is SelfSignedTLS with an RSA key, for checks of the
// cipher suites an RSA certificate could negotiate (RSA key exchange,
// ECDHE_RSA).
func SelfSignedRSATLS(tb testing.TB) TLSFiles {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, rsaTestKeyBits)
	if err != nil {
		tb.Fatal(err)
	}
	return selfSigned(tb, key)
}

// selfSigned writes a self-signed certificate of key for 127.0.0.1 and
// localhost.
func selfSigned(tb testing.TB, key crypto.Signer) TLSFiles {
	tb.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "herald test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// RSA key exchange encrypts with the certificate's key: allowed,
		// so that a server offering it would really negotiate it.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	f := TLSFiles{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), Pool: x509.NewCertPool()}
	f.Pool.AddCert(cert)
	writePEM(tb, f.CertFile, "CERTIFICATE", der)
	writePEM(tb, f.KeyFile, "PRIVATE KEY", keyDER)
	return f
}

func writePEM(tb testing.TB, path, typ string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// ClientConfig trusts the certificate and nothing else.
func (f TLSFiles) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: f.Pool, MinVersion: tls.VersionTLS12}
}

// HTTPClient is an HTTP client that trusts the certificate.
func (f TLSFiles) HTTPClient() *http.Client {
	return &http.Client{Timeout: PusherTimeout, Transport: &http.Transport{TLSClientConfig: f.ClientConfig()}}
}

// DialPusherTLS is DialPusher over WSS to baseURL (https://host:port).
func DialPusherTLS(tb testing.TB, baseURL, key string, cfg *tls.Config) (*PusherClient, error) {
	tb.Helper()
	u, err := url.Parse(strings.Replace(baseURL, "https://", "wss://", 1) + "/app/" + key + "?protocol=7&client=go-test&version=1")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), PusherTimeout)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c, err := wstest.Handshake(ctx, conn, u, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return startPusher(tb, c)
}
