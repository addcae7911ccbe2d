package herald

import (
	"fmt"

	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
)

// DecryptData opens the data of an event of a private-encrypted channel
// (a history message's, say) with the channel's key derived from
// Config.EncryptionMasterKey.
func (c *Client) DecryptData(channel, data string) ([]byte, error) {
	if c.cfg.EncryptionMasterKey == nil {
		return nil, ErrNoMasterKey
	}
	key, err := encrypted.SharedSecret(channel, c.cfg.EncryptionMasterKey)
	if err != nil {
		return nil, fmt.Errorf("herald: %w", err)
	}
	out, err := encrypted.Open(key, data)
	if err != nil {
		return nil, fmt.Errorf("herald: %w", err)
	}
	return out, nil
}
