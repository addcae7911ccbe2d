package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
)

// base is the publication time of the first test message; message i is
// published i seconds later.
var base = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func historyMsg(app, channel string, serial uint64) controlplane.HistoryMessage {
	return controlplane.HistoryMessage{
		Stream: "HERALD_MSG", Serial: serial, AppID: app, Channel: channel,
		Event: "ev", Data: []byte(fmt.Sprintf(`{"n":%d}`, serial)),
		PublishedAt: base.Add(time.Duration(serial) * time.Second),
	}
}

func writeHistory(tb testing.TB, f *fixture, msgs ...controlplane.HistoryMessage) int64 {
	tb.Helper()
	n, err := f.store.WriteHistory(context.Background(), msgs)
	if err != nil {
		tb.Fatalf("WriteHistory: %v", err)
	}
	return n
}

func listHistory(tb testing.TB, f *fixture, q controlplane.HistoryQuery) []uint64 {
	tb.Helper()
	items, err := f.store.ListHistory(context.Background(), q)
	if err != nil {
		tb.Fatalf("ListHistory(%+v): %v", q, err)
	}
	out := make([]uint64, len(items))
	for i, m := range items {
		out[i] = m.Serial
	}
	return out
}

func TestWriteHistoryIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	odd := historyMsg("a1", "presence-x.y@z,w;v", 1)
	odd.Data = []byte{0, 0xff, '\r', '\n', 0x80}
	odd.UserID = "user ü"
	empty := historyMsg("a1", "presence-x.y@z,w;v", 2)
	empty.Data = nil

	if got := writeHistory(t, f, odd, empty); got != 2 {
		t.Fatalf("first write stored %d, want 2", got)
	}
	// The same batch again, and a batch with a duplicate inside, store
	// only what is new.
	if got := writeHistory(t, f, odd, empty); got != 0 {
		t.Fatalf("second write stored %d, want 0", got)
	}
	third := historyMsg("a1", "presence-x.y@z,w;v", 3)
	if got := writeHistory(t, f, third, third, odd); got != 1 {
		t.Fatalf("write with duplicates stored %d, want 1", got)
	}
	if n, err := f.store.WriteHistory(ctx, nil); n != 0 || err != nil {
		t.Fatalf("empty write = %d, %v", n, err)
	}

	items, err := f.store.ListHistory(ctx, controlplane.HistoryQuery{AppID: "a1", Channel: odd.Channel, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items, want 3", len(items))
	}
	got := items[0]
	if got.Serial != 1 || !bytes.Equal(got.Data, odd.Data) || got.UserID != odd.UserID || got.Event != "ev" ||
		got.Stream != "HERALD_MSG" || got.AppID != "a1" || got.Channel != odd.Channel {
		t.Errorf("read back %+v, want %+v", got, odd)
	}
	if !got.PublishedAt.Equal(odd.PublishedAt) || got.PublishedAt.Location() != time.UTC {
		t.Errorf("published_at = %v, want %v in UTC", got.PublishedAt, odd.PublishedAt)
	}
	if items[1].Data == nil || len(items[1].Data) != 0 || items[1].UserID != "" {
		t.Errorf("empty message read back as %+v", items[1])
	}
	var nulls int
	if err := f.pool.QueryRow(ctx, "select count(*) from messages where user_id is null").Scan(&nulls); err != nil || nulls != 2 {
		t.Errorf("rows without user id stored as null: %d, %v; want 2", nulls, err)
	}

	// Another stream may reuse a serial.
	other := historyMsg("a1", odd.Channel, 1)
	other.Stream = "HERALD_MSG_1"
	if got := writeHistory(t, f, other); got != 1 {
		t.Fatalf("same serial on another stream stored %d, want 1", got)
	}
	bad := historyMsg("a1", "c", 0)
	if _, err := f.store.WriteHistory(ctx, []controlplane.HistoryMessage{bad}); err == nil {
		t.Error("serial 0 accepted")
	}
}

func TestListHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var msgs []controlplane.HistoryMessage
	for s := uint64(1); s <= 20; s++ {
		ch := "c"
		if s%2 == 0 {
			ch = "d"
		}
		msgs = append(msgs, historyMsg("a1", ch, s))
	}
	msgs = append(msgs, historyMsg("a2", "c", 21))
	writeHistory(t, f, msgs...)

	at := func(serial uint64) time.Time { return base.Add(time.Duration(serial) * time.Second) }
	tests := []struct {
		name string
		q    controlplane.HistoryQuery
		want []uint64
	}{
		{"forwards", controlplane.HistoryQuery{Limit: 3}, []uint64{1, 3, 5}},
		{"backwards", controlplane.HistoryQuery{Backwards: true, Limit: 3}, []uint64{19, 17, 15}},
		{"forwards after", controlplane.HistoryQuery{HasAfter: true, After: 5, Limit: 3}, []uint64{7, 9, 11}},
		{"forwards after an absent serial", controlplane.HistoryQuery{HasAfter: true, After: 6, Limit: 2}, []uint64{7, 9}},
		{"backwards before", controlplane.HistoryQuery{Backwards: true, HasAfter: true, After: 5, Limit: 3}, []uint64{3, 1}},
		{"backwards before zero", controlplane.HistoryQuery{Backwards: true, HasAfter: true, After: 0, Limit: 3}, []uint64{}},
		{"forwards after zero", controlplane.HistoryQuery{HasAfter: true, After: 0, Limit: 1}, []uint64{1}},
		{"past the end", controlplane.HistoryQuery{HasAfter: true, After: 19, Limit: 3}, []uint64{}},
		{"start inclusive", controlplane.HistoryQuery{Start: at(7), Limit: 3}, []uint64{7, 9, 11}},
		{"end inclusive", controlplane.HistoryQuery{Backwards: true, End: at(7), Limit: 3}, []uint64{7, 5, 3}},
		{"window", controlplane.HistoryQuery{Start: at(4), End: at(9), Limit: 10}, []uint64{5, 7, 9}},
		{"window backwards with a bound", controlplane.HistoryQuery{Backwards: true, HasAfter: true, After: 9, Start: at(4), End: at(9), Limit: 10}, []uint64{7, 5}},
		{"empty window", controlplane.HistoryQuery{Start: at(9), End: at(4), Limit: 10}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.AppID, q.Channel = "a1", "c"
			if got := listHistory(t, f, q); !slices.Equal(got, tt.want) {
				t.Errorf("serials = %v, want %v", got, tt.want)
			}
		})
	}
	if got := listHistory(t, f, controlplane.HistoryQuery{AppID: "a2", Channel: "c", Limit: 10}); !slices.Equal(got, []uint64{21}) {
		t.Errorf("other app = %v, want [21]", got)
	}
	if got := listHistory(t, f, controlplane.HistoryQuery{AppID: "a3", Channel: "c", Limit: 10}); len(got) != 0 {
		t.Errorf("unknown app = %v", got)
	}
	_, err := f.store.ListHistory(context.Background(), controlplane.HistoryQuery{AppID: "a1", Channel: "c"})
	wantError(t, err, channels.CodeBadRequest, "limit")
}

func TestHistoryRetentionsAndPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	acc := f.account(t, "acc")
	f.app(t, acc.ID, "kept")
	short, err := f.store.CreateApp(ctx, controlplane.NewApp{ID: "short", AccountID: acc.ID, Name: "short",
		Settings: channels.SettingsPatch{HistoryRetentionS: ptr(60)}})
	if err != nil {
		t.Fatal(err)
	}
	f.app(t, acc.ID, "quiet") // no history: not listed
	var msgs []controlplane.HistoryMessage
	for s := uint64(1); s <= 30; s++ {
		app := []string{"kept", short.ID, "gone"}[s%3]
		msgs = append(msgs, historyMsg(app, "c", s))
	}
	writeHistory(t, f, msgs...)

	got, err := f.store.HistoryRetentions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []controlplane.HistoryRetention{
		{AppID: "gone", Retention: 0},
		{AppID: "kept", Retention: channels.DefaultHistoryRetentionS * time.Second},
		{AppID: "short", Retention: time.Minute},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("HistoryRetentions = %+v, want %+v", got, want)
	}

	// short has serials 1, 4, …, 28; those published before serial 20's
	// time are 1 … 19: seven of them.
	cutoff := base.Add(20 * time.Second)
	var total int64
	for {
		n, err := f.store.PurgeHistory(ctx, short.ID, cutoff, 3)
		if err != nil {
			t.Fatal(err)
		}
		if n > 3 {
			t.Fatalf("purge of 3 deleted %d", n)
		}
		total += n
		if n < 3 {
			break
		}
	}
	if total != 7 {
		t.Errorf("purged %d, want 7", total)
	}
	left := listHistory(t, f, controlplane.HistoryQuery{AppID: short.ID, Channel: "c", Limit: 100})
	if !slices.Equal(left, []uint64{22, 25, 28}) {
		t.Errorf("short keeps %v, want [22 25 28]", left)
	}
	if n := len(listHistory(t, f, controlplane.HistoryQuery{AppID: "kept", Channel: "c", Limit: 100})); n != 10 {
		t.Errorf("kept has %d messages, want 10", n)
	}
	if _, err := f.store.PurgeHistory(ctx, "kept", cutoff, 0); err == nil {
		t.Error("purge with limit 0: no error")
	}
}

// TestPurgeHistoryPlan guards the shape of the purge: a TID scan over rows
// found through an index, never a scan of the table. (Which index depends
// on the statistics: here every row of the app has expired.)
func TestPurgeHistoryPlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var msgs []controlplane.HistoryMessage
	for s := uint64(1); s <= 2000; s++ {
		msgs = append(msgs, historyMsg(fmt.Sprintf("app%d", s%20), "c", s))
	}
	writeHistory(t, f, msgs...)
	if _, err := f.pool.Exec(ctx, "analyze messages"); err != nil {
		t.Fatal(err)
	}
	rows, err := f.pool.Query(ctx, "explain "+postgres.PurgeHistorySQL, "app3", base.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	p := plan.String()
	if !strings.Contains(p, "Tid Scan") || !strings.Contains(p, "Index Scan") || strings.Contains(p, "Seq Scan") {
		t.Errorf("purge plan:\n%s", p)
	}
}
