package realtime

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

const keySize = 32

// MasterKeyEncryption derives each private-encrypted channel's key from
// the app's encryption master key, as the Pusher server SDKs do
// (SHA-256 of channel name and master key), for Config.EncryptionKey. A
// client that holds the master key can read every encrypted channel:
// give it only to trusted backends; other clients take the key from
// their authorization (AuthResponse.SharedSecret).
func MasterKeyEncryption(masterKey []byte) func(ctx context.Context, channel string) ([]byte, error) {
	return func(_ context.Context, channel string) ([]byte, error) {
		sum := sha256.Sum256(append([]byte(channel), masterKey...))
		return sum[:], nil
	}
}

// channelKey is an encrypted channel's key: from its authorization, else
// from Config.EncryptionKey.
func (c *Client) channelKey(ctx context.Context, channel, sharedSecret string) (*[keySize]byte, error) {
	var raw []byte
	switch {
	case sharedSecret != "":
		b, err := base64.StdEncoding.DecodeString(sharedSecret)
		if err != nil {
			return nil, fmt.Errorf("shared_secret is not base64: %w", err)
		}
		raw = b
	case c.cfg.EncryptionKey != nil:
		b, err := c.cfg.EncryptionKey(ctx, channel)
		if err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
		raw = b
	default:
		return nil, errors.New("an encrypted channel needs a shared_secret in its authorization or Config.EncryptionKey")
	}
	if len(raw) != keySize {
		return nil, fmt.Errorf("encryption key has %d bytes, not %d", len(raw), keySize)
	}
	var key [keySize]byte
	copy(key[:], raw)
	return &key, nil
}

// decrypt opens a Pusher end-to-end encrypted payload: {nonce, ciphertext},
// base64, XSalsa20-Poly1305 under the channel's key.
func decrypt(key *[keySize]byte, data []byte) ([]byte, error) {
	var p struct {
		Nonce      string `json:"nonce"`
		Ciphertext string `json:"ciphertext"`
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Nonce == "" || p.Ciphertext == "" {
		return nil, errors.New("encrypted data without nonce and ciphertext")
	}
	nonce, err := base64.StdEncoding.DecodeString(p.Nonce)
	if err != nil || len(nonce) != 24 {
		return nil, errors.New("encrypted data has a bad nonce")
	}
	box, err := base64.StdEncoding.DecodeString(p.Ciphertext)
	if err != nil {
		return nil, errors.New("encrypted data has a bad ciphertext")
	}
	var n [24]byte
	copy(n[:], nonce)
	plain, ok := secretbox.Open(nil, box, &n, key)
	if !ok {
		return nil, errors.New("encrypted data could not be decrypted")
	}
	return plain, nil
}
