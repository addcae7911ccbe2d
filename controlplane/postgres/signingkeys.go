package postgres

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// Shape of generated signing key ids.
const (
	signingKeyIDPrefix  = "sk_"
	signingKeyIDRandLen = 16
)

// signingKeyLock is the advisory lock that serializes every change to the
// set of signing keys, so that control planes starting together on a
// fresh database create one first key, not one each, and so that the
// "last live key" check of a retirement cannot race a rotation.
const signingKeyLock int64 = 0x6865726b5f736b // "herk_sk"

// SigningKeyAAD binds a sealed private key to its kid: a sealed value
// moved to another row does not open.
func SigningKeyAAD(kid string) []byte {
	return []byte("herald-signing-key\x00" + kid)
}

// ListSigningKeys lists every signing key, newest first; the newest live
// one is marked Active.
func (s *Store) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	rows, _ := s.pool.Query(ctx,
		`select kid, public_key, created_at, retired_at from signing_keys
		 order by created_at desc, kid desc`)
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.SigningKey, error) {
		return scanSigningKey(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	for i := range keys {
		if keys[i].Live() {
			keys[i].Active = true
			break
		}
	}
	return keys, nil
}

// RotateSigningKey adds a new key, which becomes the signer.
func (s *Store) RotateSigningKey(ctx context.Context) (controlplane.SigningKey, error) {
	var k controlplane.SigningKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		var err error
		k, err = s.insertSigningKey(ctx, tx)
		return err
	})
	if err != nil {
		return controlplane.SigningKey{}, fmt.Errorf("rotate signing key: %w", err)
	}
	k.Active = true
	return k, nil
}

// RetireSigningKey retires kid. The rule: a retirement must leave at least
// one live key, so the signer can be retired only once another live key
// exists, which then becomes the signer (the newest of them). Retiring
// the last live key is a conflict: rotate first.
func (s *Store) RetireSigningKey(ctx context.Context, kid string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		var retiredAt *time.Time
		err := tx.QueryRow(ctx, "select retired_at from signing_keys where kid = $1", kid).Scan(&retiredAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return channels.NotFound(fmt.Sprintf("signing key %s not found", kid))
		}
		if err != nil || retiredAt != nil {
			return err
		}
		var others int
		if err := tx.QueryRow(ctx,
			"select count(*) from signing_keys where retired_at is null and kid <> $1", kid).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			return channels.Conflict(fmt.Sprintf("signing key %s is the last live key; rotate before retiring it", kid))
		}
		_, err = tx.Exec(ctx, "update signing_keys set retired_at = clock_timestamp() where kid = $1", kid)
		return err
	})
	var de *channels.Error
	if err != nil && !errors.As(err, &de) {
		return fmt.Errorf("retire signing key %s: %w", kid, err)
	}
	return err
}

// ActiveSigner returns the newest live key with its private half opened,
// creating the first key when there is none. Concurrent callers on a
// fresh database (several control planes starting) create exactly one.
func (s *Store) ActiveSigner(ctx context.Context) (controlplane.Signer, error) {
	signer, err := s.loadSigner(ctx, s.pool)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return signer, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		// Another control plane may have created it while we waited.
		signer, err = s.loadSigner(ctx, tx)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		k, err := s.insertSigningKey(ctx, tx)
		if err != nil {
			return err
		}
		s.logger.Info("created the first token signing key", "kid", k.KID)
		signer, err = s.loadSigner(ctx, tx)
		return err
	})
	if err != nil {
		return controlplane.Signer{}, fmt.Errorf("active signing key: %w", err)
	}
	return signer, nil
}

// loadSigner reads and opens the newest live key; pgx.ErrNoRows when
// there is none.
func (s *Store) loadSigner(ctx context.Context, q querier) (controlplane.Signer, error) {
	var (
		kid    string
		sealed []byte
	)
	err := q.QueryRow(ctx,
		`select kid, sealed_private_key from signing_keys where retired_at is null
		 order by created_at desc, kid desc limit 1`).Scan(&kid, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return controlplane.Signer{}, err
	}
	if err != nil {
		return controlplane.Signer{}, fmt.Errorf("load signing key: %w", err)
	}
	priv, err := s.box.Open(sealed, SigningKeyAAD(kid))
	if err != nil {
		return controlplane.Signer{}, fmt.Errorf("open signing key %s: %w", kid, err)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return controlplane.Signer{}, fmt.Errorf("open signing key %s: %d bytes, want %d", kid, len(priv), ed25519.PrivateKeySize)
	}
	return controlplane.Signer{KID: kid, PrivateKey: ed25519.PrivateKey(priv)}, nil
}

// insertSigningKey generates a key pair and stores it sealed; the caller
// holds signingKeyLock.
func (s *Store) insertSigningKey(ctx context.Context, tx pgx.Tx) (controlplane.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return controlplane.SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	kid := signingKeyIDPrefix + randomString(alphanumeric, signingKeyIDRandLen)
	sealed := s.box.Seal(priv, SigningKeyAAD(kid))
	row := tx.QueryRow(ctx,
		`insert into signing_keys (kid, public_key, sealed_private_key) values ($1, $2, $3)
		 returning kid, public_key, created_at, retired_at`, kid, []byte(pub), sealed)
	return scanSigningKey(row)
}

func lockSigningKeys(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "select pg_advisory_xact_lock($1)", signingKeyLock)
	return err
}

func scanSigningKey(r pgx.Row) (controlplane.SigningKey, error) {
	var (
		k   controlplane.SigningKey
		pub []byte
	)
	if err := r.Scan(&k.KID, &pub, &k.CreatedAt, &k.RetiredAt); err != nil {
		return controlplane.SigningKey{}, err
	}
	k.PublicKey = ed25519.PublicKey(pub)
	k.CreatedAt, k.RetiredAt = utc(k.CreatedAt), utcPtr(k.RetiredAt)
	return k, nil
}
