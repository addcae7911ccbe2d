package postgres

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
)

// Shapes of generated identifiers and credentials.
const (
	accountIDPrefix    = "acc_"
	accountIDRandLen   = 16
	appIDLen           = 12
	keyBytes           = 10 // 20 hex characters, as Pusher's keys
	secretBytes        = 16 // 128 bits, 32 hex characters
	adminTokenPrefix   = "hat_"
	adminTokenBytes    = 32
	adminTokenIDPrefix = "tok_"
	adminTokenIDLen    = 16
	planIDPrefix       = "pln_"
	planIDRandLen      = 16
)

// Alphabets for random identifiers. base32Lower has 32 symbols, so a byte
// masked to 5 bits picks one without bias.
const (
	base32Lower  = "abcdefghijklmnopqrstuvwxyz234567"
	alphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// maxAccountIDLen bounds an account id a caller names: generated ones are
// 20 characters, and a long one would overflow a B-tree index entry
// (about 2.7 kB) before the foreign key could say it names nothing.
const maxAccountIDLen = 64

// Rules for caller-chosen keys and secrets.
const (
	MinSecretLen = 8
	MaxSecretLen = 128
)

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// adminTokenLen is the length of every token CreateAdminToken returns.
var adminTokenLen = len(adminTokenPrefix) + base64.RawURLEncoding.EncodedLen(adminTokenBytes)

// randomString returns n symbols drawn uniformly from alphabet (at most 256
// symbols) with crypto/rand, rejecting bytes that would bias the draw.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newAccountID() string { return accountIDPrefix + randomString(base32Lower, accountIDRandLen) }
func newPlanID() string    { return planIDPrefix + randomString(base32Lower, planIDRandLen) }
func newAppID() string     { return randomString(alphanumeric, appIDLen) }
func newKey() string       { return randomHex(keyBytes) }
func newSecret() string    { return randomHex(secretBytes) }
func newAdminTokenID() string {
	return adminTokenIDPrefix + randomString(base32Lower, adminTokenIDLen)
}

// newAdminToken returns a token with 256 random bits.
func newAdminToken() string {
	b := make([]byte, adminTokenBytes)
	_, _ = rand.Read(b)
	return adminTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashAdminToken is what the database stores and looks up. A fast hash is
// enough: the token has 256 random bits, so there is nothing to brute-force
// that a slow hash would protect.
func hashAdminToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
