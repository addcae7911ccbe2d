package appsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/heraldhq/herald/bus/signingkeys"
	"github.com/heraldhq/herald/controlplane"
)

// SigningKeySource lists the control plane's token signing keys.
type SigningKeySource interface {
	ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error)
}

var _ controlplane.SigningKeyPublisher = (*Syncer)(nil)

// errNoSigningKeys says the syncer was built without the signing key
// bucket.
var errNoSigningKeys = errors.New("appsync: no signing key bucket configured")

// SyncSigningKeys makes the HERALD_SIGNING_KEYS bucket hold the public
// half of every live signing key and nothing else, so that gateways stop
// verifying a retired key's tokens.
func (s *Syncer) SyncSigningKeys(ctx context.Context) error {
	if s.signingKV == nil {
		return errNoSigningKeys
	}
	keys, err := s.signingSrc.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("sync signing keys: %w", err)
	}
	live := make([]signingkeys.Key, 0, len(keys))
	for _, k := range keys {
		if k.Live() {
			live = append(live, signingkeys.Key{KID: k.KID, PublicKey: k.PublicKey})
		}
	}
	st, err := signingkeys.Sync(ctx, s.signingKV, live)
	if err != nil {
		return fmt.Errorf("sync signing keys: %w", err)
	}
	level := slog.LevelDebug
	if st.Written+st.Deleted > 0 {
		level = slog.LevelInfo
	}
	s.log.Log(ctx, level, "signing keys synced", slog.Int("live", len(live)),
		slog.Int("written", st.Written), slog.Int("deleted", st.Deleted))
	return nil
}
