package realtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
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
		key, err := encrypted.SharedSecret(channel, masterKey)
		if err != nil {
			return nil, err
		}
		return key[:], nil
	}
}

// channelKey is an encrypted channel's key: from its authorization, else
// from Config.EncryptionKey.
func (c *Client) channelKey(ctx context.Context, channel, sharedSecret string) (*[keySize]byte, error) {
	var raw []byte
	switch {
	case sharedSecret != "":
		return encrypted.KeyFromBase64(sharedSecret)
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
	return encrypted.Open(key, string(data))
}
