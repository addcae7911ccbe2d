package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

const appColumns = "id, account_id, name, enabled, settings, created_at, updated_at"

// CreateApp stores a new app. An empty in.ID gets a generated one; the
// settings patch applies over channels.DefaultSettings.
func (s *Store) CreateApp(ctx context.Context, in controlplane.NewApp) (controlplane.App, error) {
	if in.ID == "" {
		in.ID = newAppID()
	} else if err := channels.ValidateAppID(in.ID); err != nil {
		return controlplane.App{}, err
	}
	if in.AccountID == "" {
		return controlplane.App{}, channels.BadRequest("account_id", "account_id is required")
	}
	if len(in.AccountID) > maxAccountIDLen {
		// It names no account, and would not fit apps_account_id_idx
		// (an error, not a foreign key violation).
		return controlplane.App{}, errNoAccount()
	}
	if err := channels.ValidateName("name", in.Name); err != nil {
		return controlplane.App{}, err
	}
	if err := in.Settings.Validate(); err != nil {
		return controlplane.App{}, err
	}
	settings := in.Settings.Apply(channels.DefaultSettings())
	if err := settings.Validate(); err != nil {
		return controlplane.App{}, err
	}
	raw, err := json.Marshal(settings)
	if err != nil {
		return controlplane.App{}, fmt.Errorf("create app %s: encode settings: %w", in.ID, err)
	}
	row := s.pool.QueryRow(ctx,
		`insert into apps (id, account_id, name, settings) values ($1, $2, $3, $4)
		 returning `+appColumns,
		in.ID, in.AccountID, in.Name, string(raw))
	a, err := scanApp(row)
	switch pgCode(err) {
	case pgUniqueViolation:
		return controlplane.App{}, channels.Conflict(fmt.Sprintf("app id %s already exists", in.ID))
	case pgForeignKeyViolation:
		return controlplane.App{}, errNoAccount()
	}
	if err != nil {
		return controlplane.App{}, fmt.Errorf("create app %s: %w", in.ID, err)
	}
	return a, nil
}

// GetApp returns one app or a NotFound error.
func (s *Store) GetApp(ctx context.Context, id string) (controlplane.App, error) {
	return getApp(ctx, s.pool, id, "")
}

// ListApps returns apps ordered by id, one page at a time, only those
// that f selects. An unknown account has no apps. The cursor is the last
// id listed, so it stays valid for the same filter.
func (s *Store) ListApps(ctx context.Context, f controlplane.AppFilter, p controlplane.Page) ([]controlplane.App, string, error) {
	pa, err := parsePage(p, appsCursor)
	if err != nil {
		return nil, "", err
	}
	search := strings.TrimSpace(f.Search)
	if utf8.RuneCountInString(search) > controlplane.MaxAppSearchLen || !utf8.ValidString(search) {
		return nil, "", channels.BadRequest("q",
			fmt.Sprintf("q must be at most %d characters of UTF-8", controlplane.MaxAppSearchLen))
	}
	// Conditions are added only when asked for, rather than as
	// "$3 = '' or account_id = $3", so that the planner sees each
	// filter and uses apps_account_id_idx for the account.
	where := []string{"id > $1"}
	args := []any{pa.after, pa.limit + 1}
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		where = append(where, fmt.Sprintf("account_id = $%d", len(args)))
	}
	if search != "" {
		// No index serves a substring match (it would take pg_trgm): the
		// rows are scanned in id order until the page is full. Apps number
		// in the thousands, where that scan is cheap; a trigram index is
		// the step if that changes.
		args = append(args, "%"+escapeLike(search)+"%")
		n := len(args)
		where = append(where, fmt.Sprintf(`(name ilike $%d escape '\' or id ilike $%d escape '\')`, n, n))
	}
	rows, _ := s.pool.Query(ctx,
		"select "+appColumns+" from apps where "+strings.Join(where, " and ")+" order by id limit $2",
		args...)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.App, error) {
		return scanApp(r)
	})
	if err != nil {
		return nil, "", fmt.Errorf("list apps: %w", err)
	}
	items, next := trimPage(items, pa, func(a controlplane.App) string { return a.ID })
	return items, next, nil
}

// UpdateApp applies patch to an app: its name, enabled flag and settings
// (over the current ones). The result is validated as a whole, the
// patch's allowed origins one by one (channels.SettingsPatch.Validate).
func (s *Store) UpdateApp(ctx context.Context, id string, patch controlplane.AppPatch) (controlplane.App, error) {
	if patch.Name != nil {
		if err := channels.ValidateName("name", *patch.Name); err != nil {
			return controlplane.App{}, err
		}
	}
	if err := patch.Settings.Validate(); err != nil {
		return controlplane.App{}, err
	}
	var out controlplane.App
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getApp(ctx, tx, id, "for update")
		if err != nil {
			return err
		}
		if patch.Name != nil {
			cur.Name = *patch.Name
		}
		if patch.Enabled != nil {
			cur.Enabled = *patch.Enabled
		}
		cur.Settings = patch.Settings.Apply(cur.Settings)
		if err := cur.Settings.Validate(); err != nil {
			return err
		}
		raw, err := json.Marshal(cur.Settings)
		if err != nil {
			return fmt.Errorf("encode settings: %w", err)
		}
		row := tx.QueryRow(ctx,
			`update apps set name = $2, enabled = $3, settings = $4, updated_at = now()
			 where id = $1 returning `+appColumns,
			id, cur.Name, cur.Enabled, string(raw))
		out, err = scanApp(row)
		return err
	})
	if err != nil {
		var de *channels.Error
		if errors.As(err, &de) {
			return controlplane.App{}, err
		}
		return controlplane.App{}, fmt.Errorf("update app %s: %w", id, err)
	}
	return out, nil
}

// DeleteApp removes an app; its keys go with it (ON DELETE CASCADE).
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, "delete from apps where id = $1", id)
	if err != nil {
		return fmt.Errorf("delete app %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return appNotFound(id)
	}
	return nil
}

// AppIDs lists every app id in id order.
func (s *Store) AppIDs(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, "select id from apps order by id")
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list app ids: %w", err)
	}
	return ids, nil
}

// getApp reads one app; lock is "" or a locking clause such as "for
// update".
func getApp(ctx context.Context, q querier, id, lock string) (controlplane.App, error) {
	row := q.QueryRow(ctx, "select "+appColumns+" from apps where id = $1 "+lock, id)
	a, err := scanApp(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return controlplane.App{}, appNotFound(id)
	}
	if err != nil {
		return controlplane.App{}, fmt.Errorf("get app %s: %w", id, err)
	}
	return a, nil
}

func errNoAccount() error { return channels.BadRequest("account_id", "account not found") }

func appNotFound(id string) error {
	return channels.NotFound(fmt.Sprintf("app %s not found", id))
}

func scanApp(r pgx.Row) (controlplane.App, error) {
	var (
		a   controlplane.App
		raw []byte
	)
	if err := r.Scan(&a.ID, &a.AccountID, &a.Name, &a.Enabled, &raw, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return controlplane.App{}, err
	}
	settings, err := decodeSettings(raw)
	if err != nil {
		return controlplane.App{}, fmt.Errorf("app %s: %w", a.ID, err)
	}
	a.Settings = settings
	a.CreatedAt, a.UpdatedAt = utc(a.CreatedAt), utc(a.UpdatedAt)
	return a, nil
}

// decodeSettings reads stored settings over the defaults, so that a setting
// added after the row was written takes its default.
func decodeSettings(raw []byte) (channels.Settings, error) {
	s := channels.DefaultSettings()
	if err := json.Unmarshal(raw, &s); err != nil {
		return channels.Settings{}, fmt.Errorf("decode settings: %w", err)
	}
	if s.AllowedOrigins == nil {
		s.AllowedOrigins = []string{}
	}
	return s, nil
}
