// Package encrypted is Pusher's end-to-end encryption of
// private-encrypted channels, as pusher-http-go and pusher-js do it: each
// channel's key is SHA-256(channel name + master key), handed to a
// subscriber as the shared_secret of its authorization, and each event's
// data is a NaCl secretbox under it, sent as {"nonce","ciphertext"} (both
// base64). Herald never sees the key and passes the data through.
package encrypted

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

// MasterKeyLen is the length of an encryption master key.
const MasterKeyLen = 32

const nonceLen = 24

// ChannelPrefix starts the name of every private-encrypted channel (the
// cache variant included).
const ChannelPrefix = "private-encrypted-"

// ErrMasterKey is a master key that is not MasterKeyLen bytes.
var ErrMasterKey = fmt.Errorf("encryption master key must be %d bytes", MasterKeyLen)

// ErrDecrypt is data that is not a secretbox under the channel's key.
var ErrDecrypt = errors.New("encrypted data cannot be decrypted with this channel's key")

// payload is what an encrypted event's data is.
type payload struct {
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// SharedSecret is the channel's key: SHA-256(channel + masterKey).
func SharedSecret(channel string, masterKey []byte) (*[32]byte, error) {
	if len(masterKey) != MasterKeyLen {
		return nil, ErrMasterKey
	}
	sum := sha256.Sum256(append([]byte(channel), masterKey...))
	return &sum, nil
}

// SharedSecretBase64 is the shared_secret of a channel authorization.
func SharedSecretBase64(channel string, masterKey []byte) (string, error) {
	key, err := SharedSecret(channel, masterKey)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(key[:]), nil
}

// Seal encrypts data for channel with a random nonce and returns the JSON
// an event carries as its data.
func Seal(channel string, masterKey, data []byte) (string, error) {
	key, err := SharedSecret(channel, masterKey)
	if err != nil {
		return "", err
	}
	return SealWithKey(key, data)
}

// SealWithKey encrypts data under a channel's key.
func SealWithKey(key *[32]byte, data []byte) (string, error) {
	var nonce [nonceLen]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("encryption nonce: %w", err)
	}
	out, err := json.Marshal(payload{
		Nonce:      base64.StdEncoding.EncodeToString(nonce[:]),
		Ciphertext: base64.StdEncoding.EncodeToString(secretbox.Seal(nil, data, &nonce, key)),
	})
	if err != nil {
		return "", fmt.Errorf("encrypted payload: %w", err)
	}
	return string(out), nil
}

// Open decrypts an encrypted event's data (the {"nonce","ciphertext"}
// JSON) under a channel's key, as a subscriber does with its
// shared_secret.
func Open(key *[32]byte, data string) ([]byte, error) {
	var p payload
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return nil, fmt.Errorf("%w: not a nonce and ciphertext object", ErrDecrypt)
	}
	nonce, err := base64.StdEncoding.DecodeString(p.Nonce)
	if err != nil || len(nonce) != nonceLen {
		return nil, fmt.Errorf("%w: bad nonce", ErrDecrypt)
	}
	box, err := base64.StdEncoding.DecodeString(p.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: bad ciphertext", ErrDecrypt)
	}
	out, ok := secretbox.Open(nil, box, (*[nonceLen]byte)(nonce), key)
	if !ok {
		return nil, ErrDecrypt
	}
	return out, nil
}

// KeyFromBase64 decodes a shared_secret.
func KeyFromBase64(sharedSecret string) (*[32]byte, error) {
	b, err := base64.StdEncoding.DecodeString(sharedSecret)
	if err != nil || len(b) != 32 {
		return nil, errors.New("shared_secret must be 32 bytes in base64")
	}
	return (*[32]byte)(b), nil
}
