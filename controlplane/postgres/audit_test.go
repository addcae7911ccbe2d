package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

func TestAuditNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	start := time.Now()
	for i := 1; i <= 5; i++ {
		e := controlplane.AuditEntry{
			Actor:   "tok_admin",
			Action:  fmt.Sprintf("action.%d", i),
			Target:  fmt.Sprintf("app/%d", i),
			Details: json.RawMessage(fmt.Sprintf(`{"n": %d,  "tags": ["x"]}`, i)),
		}
		if i == 1 {
			e.At = at
		}
		if i == 2 {
			e.Details = nil
		}
		if err := f.store.RecordAudit(ctx, e); err != nil {
			t.Fatalf("record audit %d: %v", i, err)
		}
	}

	var pages [][]string
	var all []controlplane.AuditEntry
	cursor := ""
	for range 10 {
		items, next, err := f.store.ListAudit(ctx, controlplane.Page{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatalf("list audit: %v", err)
		}
		var actions []string
		for _, e := range items {
			actions = append(actions, e.Action)
		}
		pages = append(pages, actions)
		all = append(all, items...)
		if next == "" {
			break
		}
		cursor = next
	}
	want := [][]string{{"action.5", "action.4"}, {"action.3", "action.2"}, {"action.1"}}
	if fmt.Sprint(pages) != fmt.Sprint(want) {
		t.Fatalf("pages = %v, want %v", pages, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Errorf("ids not descending: %d then %d", all[i-1].ID, all[i].ID)
		}
	}

	first := all[4]
	if !first.At.Equal(at) || first.Actor != "tok_admin" || first.Target != "app/1" {
		t.Errorf("entry 1 = %+v", first)
	}
	var details, wantDetails any
	if err := json.Unmarshal(first.Details, &details); err != nil {
		t.Fatalf("details %q: %v", first.Details, err)
	}
	_ = json.Unmarshal([]byte(`{"n": 1, "tags": ["x"]}`), &wantDetails)
	if !reflect.DeepEqual(details, wantDetails) {
		t.Errorf("details = %s", first.Details)
	}
	if all[3].Details != nil {
		t.Errorf("entry without details reads back %q", all[3].Details)
	}
	if now := all[0].At; now.Before(start.Add(-time.Minute)) || now.After(time.Now().Add(time.Minute)) {
		t.Errorf("default at = %v, want about now", now)
	}
}

func TestRecordAuditValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	cases := []struct {
		name  string
		e     controlplane.AuditEntry
		field string
	}{
		{"no actor", controlplane.AuditEntry{Action: "x"}, "actor"},
		{"no action", controlplane.AuditEntry{Actor: "x"}, "action"},
		{"details not json", controlplane.AuditEntry{Actor: "x", Action: "y", Details: json.RawMessage("{nope")}, "details"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, f.store.RecordAudit(ctx, c.e), channels.CodeBadRequest, c.field)
		})
	}
	_, _, err := f.store.ListAudit(ctx, controlplane.Page{Cursor: "bm90LWEtbnVtYmVy"}) // "not-a-number"
	wantError(t, err, channels.CodeBadRequest, "cursor")
	items, next, err := f.store.ListAudit(ctx, controlplane.Page{})
	if err != nil || len(items) != 0 || next != "" {
		t.Errorf("empty audit log = %v, %q, %v", items, next, err)
	}
}
