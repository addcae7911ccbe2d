package channels_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
)

// BenchmarkVerifyToken is the verification cost per connection.
func BenchmarkVerifyToken(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := keyring{pub: pub}
	tenant, _ := channels.SignTenantToken("key-a", "secret-a", claimsFor("app-a", time.Hour))
	platform, _ := channels.SignPlatformToken("sk-1", priv, claimsFor("app-a", time.Hour))
	for name, tok := range map[string]string{"HS256": tenant, "EdDSA": platform} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := channels.VerifyToken(tok, keys, tokenNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
