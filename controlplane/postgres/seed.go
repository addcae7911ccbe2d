package postgres

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// seedLockKey serializes SeedApp calls across processes, so that two dev
// processes starting at once do not both create the demo account.
const seedLockKey int64 = 0x68657261_6c64_0002 // "herald" + 2

// SeedApp describes an app that must exist, such as dev mode's demo app.
type SeedApp struct {
	// AccountName finds the owning account by name (the oldest id wins if
	// several share it), or names the account created for the app.
	AccountName string
	AppID       string
	// AppName is used only when the app is created.
	AppName string
	// Key and Secret are the key the app must have, live, with that
	// secret.
	Key    string
	Secret string
	// Settings applies over the app's current settings (over the defaults
	// for a new app).
	Settings channels.SettingsPatch
	// PlanID, when set, is the plan of the account if it has none (an
	// operator's later choice stays); the plan must exist (SeedPlan).
	PlanID string
}

// SeedApp makes sure that the account, the app and its key exist as in. It
// is idempotent: a second call with the same input changes nothing, not
// even updated_at. An existing app keeps its account, name and enabled
// flag; a revoked key is revived; a key whose secret differs is re-sealed.
// Such a restore of what an admin changed is logged at warn and recorded
// in the audit log (herald dev's demo app must always work with the
// documented credentials, and the trail must say why a revoked key is
// live again).
// A key that belongs to another app is a Conflict.
func (s *Store) SeedApp(ctx context.Context, in SeedApp) error {
	if err := validateSeed(in); err != nil {
		return err
	}
	var changed, restored []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		changed, restored = changed[:0], restored[:0]
		if _, err := tx.Exec(ctx, "select pg_advisory_xact_lock($1)", seedLockKey); err != nil {
			return fmt.Errorf("take seed lock: %w", err)
		}
		accountID, created, err := seedAccount(ctx, tx, in.AccountName)
		if err != nil {
			return err
		}
		if created {
			changed = append(changed, "account")
		}
		planChanged, err := seedAccountPlan(ctx, tx, accountID, in.PlanID)
		if err != nil {
			return err
		}
		if planChanged {
			changed = append(changed, "plan")
		}
		appChange, err := seedApp(ctx, tx, accountID, in)
		if err != nil {
			return err
		}
		keyChange, err := s.seedKey(ctx, tx, in)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			what   string
			change seedChange
		}{{"app", appChange}, {"key", keyChange}} {
			switch c.change {
			case seedCreated:
				changed = append(changed, c.what)
			case seedRestored:
				changed = append(changed, c.what)
				restored = append(restored, c.what)
			}
		}
		if appChange == seedNone && keyChange == seedNone && !planChanged {
			return nil
		}
		if len(restored) > 0 {
			// The audit log must tell why a key an admin revoked is live
			// again.
			details, err := json.Marshal(map[string]any{"restored": restored, "key": in.Key})
			if err != nil {
				return fmt.Errorf("encode seed audit: %w", err)
			}
			if _, err := tx.Exec(ctx, `insert into audit_log (actor, action, target, details) values ($1, $2, $3, $4::jsonb)`,
				seedActor, seedRestoreAction, in.AppID, string(details)); err != nil {
				return fmt.Errorf("record seed audit: %w", err)
			}
		}
		// The effective config changed: mark it as for any other change.
		_, err = tx.Exec(ctx, "update apps set updated_at = now() where id = $1", in.AppID)
		return err
	})
	if err != nil {
		var de *channels.Error
		if errors.As(err, &de) {
			return err
		}
		return fmt.Errorf("seed app %s: %w", in.AppID, err)
	}
	if len(restored) > 0 {
		s.logger.Warn("restored the seeded app: changes made to it do not survive a restart; create an app of your own for those",
			"app_id", in.AppID, "key", in.Key, "restored", restored)
	}
	if len(changed) > 0 {
		s.logger.Info("seeded app", "app_id", in.AppID, "key", in.Key, "changed", changed)
	}
	return nil
}

// seedChange is what seeding did to the app or to its key.
type seedChange uint8

const (
	seedNone seedChange = iota
	seedCreated
	// seedRestored: it existed and differed from the seed (settings
	// changed, key revoked or its secret replaced), and was put back.
	seedRestored
)

// seedActor and seedRestoreAction are the audit entry of a restore.
const (
	seedActor         = "system:seed"
	seedRestoreAction = "app.seed_restore"
)

func validateSeed(in SeedApp) error {
	if err := channels.ValidateName("account_name", in.AccountName); err != nil {
		return err
	}
	if err := channels.ValidateAppID(in.AppID); err != nil {
		return err
	}
	if err := channels.ValidateName("name", in.AppName); err != nil {
		return err
	}
	if err := validateKey(in.Key); err != nil {
		return err
	}
	return validateSecret(in.Secret)
}

// seedAccount finds the account named name or creates it.
func seedAccount(ctx context.Context, tx pgx.Tx, name string) (id string, created bool, err error) {
	err = tx.QueryRow(ctx, "select id from accounts where name = $1 order by id limit 1", name).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("find account %q: %w", name, err)
	}
	id = newAccountID()
	if _, err := tx.Exec(ctx, "insert into accounts (id, name) values ($1, $2)", id, name); err != nil {
		return "", false, fmt.Errorf("create account %q: %w", name, err)
	}
	return id, true, nil
}

// seedAccountPlan puts the account on planID if it has no plan, reporting
// whether it did.
func seedAccountPlan(ctx context.Context, tx pgx.Tx, accountID, planID string) (bool, error) {
	if planID == "" {
		return false, nil
	}
	tag, err := tx.Exec(ctx, "update accounts set plan_id = $2 where id = $1 and plan_id is null", accountID, planID)
	if pgCode(err) == pgForeignKeyViolation {
		return false, errNoPlan(planID)
	}
	if err != nil {
		return false, fmt.Errorf("set account plan: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SeedPlan makes sure that a plan with id p.ID exists, creating it as p
// (limits over unlimited) when it does not; an existing plan is left as
// the operator set it.
func (s *Store) SeedPlan(ctx context.Context, p controlplane.NewPlan) error {
	_, err := s.GetPlan(ctx, p.ID)
	if !errors.Is(err, channels.ErrNotFound) {
		return err
	}
	_, err = s.CreatePlan(ctx, p)
	if errors.Is(err, channels.ErrConflict) {
		// Another process seeded it first, or the name is taken by
		// another plan: the latter is the operator's to resolve.
		if _, gerr := s.GetPlan(ctx, p.ID); gerr == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("seed plan %s: %w", p.ID, err)
	}
	s.logger.Info("seeded plan", "plan_id", p.ID)
	return nil
}

// seedApp creates the app or applies the settings patch to it, reporting
// what it did.
func seedApp(ctx context.Context, tx pgx.Tx, accountID string, in SeedApp) (seedChange, error) {
	cur, err := getApp(ctx, tx, in.AppID, "for update")
	exists := err == nil
	if err != nil && !errors.Is(err, channels.ErrNotFound) {
		return seedNone, err
	}
	base := channels.DefaultSettings()
	if exists {
		base = cur.Settings
	}
	if err := in.Settings.Validate(); err != nil {
		return seedNone, err
	}
	settings := in.Settings.Apply(base)
	if err := settings.Validate(); err != nil {
		return seedNone, err
	}
	if exists && reflect.DeepEqual(settings, cur.Settings) {
		return seedNone, nil
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return seedNone, fmt.Errorf("encode settings: %w", err)
	}
	if exists {
		_, err = tx.Exec(ctx, "update apps set settings = $2 where id = $1", in.AppID, string(raw))
	} else {
		_, err = tx.Exec(ctx,
			"insert into apps (id, account_id, name, settings) values ($1, $2, $3, $4)",
			in.AppID, accountID, in.AppName, string(raw))
	}
	if err != nil {
		return seedNone, fmt.Errorf("write app: %w", err)
	}
	if exists {
		return seedRestored, nil
	}
	return seedCreated, nil
}

// seedKey makes the key live with the given secret, reporting what it
// did. The stored secret is opened and compared, not re-sealed blindly,
// because sealing draws a new nonce every time.
func (s *Store) seedKey(ctx context.Context, tx pgx.Tx, in SeedApp) (seedChange, error) {
	aad := channels.SecretAAD(in.AppID, in.Key)
	var (
		appID     string
		sealed    []byte
		revokedAt *time.Time
	)
	err := tx.QueryRow(ctx,
		"select app_id, sealed_secret, revoked_at from app_keys where key = $1 for update", in.Key).
		Scan(&appID, &sealed, &revokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = tx.Exec(ctx, "insert into app_keys (key, app_id, sealed_secret) values ($1, $2, $3)",
			in.Key, in.AppID, s.box.Seal([]byte(in.Secret), aad))
		if err != nil {
			return seedNone, fmt.Errorf("create key: %w", err)
		}
		return seedCreated, nil
	}
	if err != nil {
		return seedNone, fmt.Errorf("read key: %w", err)
	}
	if appID != in.AppID {
		return seedNone, channels.Conflict(fmt.Sprintf("key %s belongs to another app", in.Key))
	}
	// A value that does not open (another master key) is replaced too.
	plain, openErr := s.box.Open(sealed, aad)
	sameSecret := openErr == nil && subtle.ConstantTimeCompare(plain, []byte(in.Secret)) == 1
	if sameSecret && revokedAt == nil {
		return seedNone, nil
	}
	if !sameSecret {
		sealed = s.box.Seal([]byte(in.Secret), aad)
	}
	_, err = tx.Exec(ctx, "update app_keys set sealed_secret = $2, revoked_at = null where key = $1",
		in.Key, sealed)
	if err != nil {
		return seedNone, fmt.Errorf("update key: %w", err)
	}
	return seedRestored, nil
}
