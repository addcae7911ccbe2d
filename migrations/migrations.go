// Package migrations holds Herald's PostgreSQL schema as numbered tern v2
// migrations (NNN_name.sql, the part above "---- create above / drop below
// ----" applies a step, the part below reverts it). controlplane/postgres
// applies them; every schema change is a new file, never an edit of an
// applied one.
package migrations

import "embed"

// FS holds every migration file at its root, in the layout tern expects.
// Files are Go templates for tern, so they must not contain "{{".
//
//go:embed *.sql
var FS embed.FS
