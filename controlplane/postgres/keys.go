package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// CreateKey adds a key to an app. An empty key or secret is generated: a
// key of 20 hex characters, a secret of 128 random bits in hex. Given ones
// must match ^[A-Za-z0-9_-]{1,64}$ (key) and be MinSecretLen to
// MaxSecretLen visible ASCII characters (secret). The secret is stored
// sealed, bound to (appID, key), and returned only here.
func (s *Store) CreateKey(ctx context.Context, appID, key, secret string) (controlplane.NewKey, error) {
	if key == "" {
		key = newKey()
	} else if err := validateKey(key); err != nil {
		return controlplane.NewKey{}, err
	}
	if secret == "" {
		secret = newSecret()
	} else if err := validateSecret(secret); err != nil {
		return controlplane.NewKey{}, err
	}
	sealed := s.box.Seal([]byte(secret), channels.SecretAAD(appID, key))
	// Touching the app's updated_at in the same statement marks its
	// effective config as changed, and finding no app row means no app.
	row := s.pool.QueryRow(ctx,
		`with app as (update apps set updated_at = now() where id = $1 returning id)
		 insert into app_keys (key, app_id, sealed_secret)
		 select $2, id, $3 from app
		 returning key, app_id, created_at, revoked_at`,
		appID, key, sealed)
	k, err := scanKey(row)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return controlplane.NewKey{}, appNotFound(appID)
	case pgCode(err) == pgUniqueViolation:
		return controlplane.NewKey{}, channels.Conflict(fmt.Sprintf("key %s already exists", key))
	case err != nil:
		return controlplane.NewKey{}, fmt.Errorf("create key for app %s: %w", appID, err)
	}
	return controlplane.NewKey{Key: k, Secret: secret}, nil
}

// ListKeys lists every key of an app, revoked ones included, oldest first.
func (s *Store) ListKeys(ctx context.Context, appID string) ([]controlplane.Key, error) {
	rows, _ := s.pool.Query(ctx,
		`select key, app_id, created_at, revoked_at from app_keys
		 where app_id = $1 order by created_at, key`, appID)
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.Key, error) {
		return scanKey(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list keys of app %s: %w", appID, err)
	}
	if len(keys) == 0 {
		// No keys may also mean no app; tell them apart.
		if _, err := s.GetApp(ctx, appID); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// RevokeKey marks a key revoked so that it no longer appears in the app's
// config. Revoking a revoked key succeeds and changes nothing; a key that
// never belonged to the app is NotFound.
func (s *Store) RevokeKey(ctx context.Context, appID, key string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var revokedAt *time.Time
		err := tx.QueryRow(ctx,
			"select revoked_at from app_keys where app_id = $1 and key = $2 for update",
			appID, key).Scan(&revokedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return channels.NotFound(fmt.Sprintf("key %s of app %s not found", key, appID))
		}
		if err != nil || revokedAt != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "update app_keys set revoked_at = now() where key = $1", key); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "update apps set updated_at = now() where id = $1", appID)
		return err
	})
	var de *channels.Error
	if err != nil && !errors.As(err, &de) {
		return fmt.Errorf("revoke key %s of app %s: %w", key, appID, err)
	}
	return err
}

// AppConfig returns the app's effective config: its settings lowered by
// its account's plan, the plan's quota, and its live keys with their
// sealed secrets, read in one statement so that all come from the same
// snapshot.
func (s *Store) AppConfig(ctx context.Context, appID string) (channels.AppConfig, error) {
	var (
		c       channels.AppConfig
		raw     []byte
		keys    []string
		sealed  [][]byte
		planRaw []byte
	)
	err := s.pool.QueryRow(ctx,
		`select a.id, a.account_id, a.name, a.enabled, a.shard, a.settings, a.updated_at,
		        coalesce(array_agg(k.key order by k.created_at, k.key)
		                 filter (where k.key is not null), '{}'),
		        coalesce(array_agg(k.sealed_secret order by k.created_at, k.key)
		                 filter (where k.key is not null), '{}'),
		        `+planJSON+`
		 from apps a
		 join accounts ac on ac.id = a.account_id
		 left join plans p on p.id = ac.plan_id
		 left join app_keys k on k.app_id = a.id and k.revoked_at is null
		 where a.id = $1
		 group by a.id, p.id`, appID).
		Scan(&c.ID, &c.AccountID, &c.Name, &c.Enabled, &c.Shard, &raw, &c.UpdatedAt, &keys, &sealed, &planRaw)
	if errors.Is(err, pgx.ErrNoRows) {
		return channels.AppConfig{}, appNotFound(appID)
	}
	if err != nil {
		return channels.AppConfig{}, fmt.Errorf("app config %s: %w", appID, err)
	}
	if c.Settings, err = decodeSettings(raw); err != nil {
		return channels.AppConfig{}, fmt.Errorf("app config %s: %w", appID, err)
	}
	// The account's plan: its quota for the edge, and its per-app limits
	// where stricter than the app's own settings (which the app's row
	// keeps as they were set).
	plan, ok, err := decodePlan(planRaw)
	if err != nil {
		return channels.AppConfig{}, fmt.Errorf("app config %s: %w", appID, err)
	}
	if ok {
		c.Quota = plan.Limits.Quota(plan.ID, plan.Enforcement)
		c.Settings = plan.Limits.Apply(c.Settings)
	}
	c.UpdatedAt = utc(c.UpdatedAt)
	if c.WebhookEvents, err = s.wantedWebhookEvents(ctx, appID); err != nil {
		return channels.AppConfig{}, err
	}
	c.Keys = make([]channels.AppKey, len(keys))
	for i := range keys {
		c.Keys[i] = channels.AppKey{Key: keys[i], SealedSecret: sealed[i]}
	}
	return c, nil
}

func validateKey(key string) error {
	if !keyPattern.MatchString(key) {
		return channels.BadRequest("key", "key must match ^[A-Za-z0-9_-]{1,64}$")
	}
	return nil
}

// validateSecret accepts visible ASCII only: secrets travel in HTTP Basic
// credentials, environment variables and config files, where spaces,
// control characters and non-ASCII bytes cause trouble.
func validateSecret(secret string) error {
	ok := len(secret) >= MinSecretLen && len(secret) <= MaxSecretLen
	for i := 0; ok && i < len(secret); i++ {
		ok = secret[i] > ' ' && secret[i] <= '~'
	}
	if !ok {
		return channels.BadRequest("secret",
			fmt.Sprintf("secret must be %d to %d visible ASCII characters", MinSecretLen, MaxSecretLen))
	}
	return nil
}

func scanKey(r pgx.Row) (controlplane.Key, error) {
	var k controlplane.Key
	if err := r.Scan(&k.Key, &k.AppID, &k.CreatedAt, &k.RevokedAt); err != nil {
		return controlplane.Key{}, err
	}
	k.CreatedAt, k.RevokedAt = utc(k.CreatedAt), utcPtr(k.RevokedAt)
	return k, nil
}
