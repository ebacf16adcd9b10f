package storage

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

// migrateUpTo makes the database at path as it was before the migration
// whose name ends in stop, applying the ones before it as Migrate would,
// and returns it open with foreign keys on.
func migrateUpTo(t *testing.T, path, stop string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", dsn(path, connWriter))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	mustExec(t, raw, `CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`)
	found := false
	for _, name := range names {
		if strings.HasSuffix(name, stop) {
			found = true
			break
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, raw, string(body))
		mustExec(t, raw, `INSERT INTO migrations (name, applied_at) VALUES (?, '')`, filepath.Base(name))
	}
	if !found {
		t.Fatalf("no migration ends in %q", stop)
	}
	return raw
}

// openMigrated closes raw, made by migrateUpTo, and opens its file as the
// server would, applying the migrations left.
func openMigrated(t *testing.T, raw *sql.DB, path string) *DB {
	t.Helper()
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, path)
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%.60s: %v", q, err)
	}
}

// Rebuilding messages and complaints for their CHECKs keeps every row, its
// id and its references, and the rules: a status outside the list, or a
// reference to no row, is still refused.
func TestChecksMigrationKeepsRowsAndRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw := migrateUpTo(t, path, "checks.sql")
	at := "2026-12-01T10:00:00Z"
	mustExec(t, raw, `INSERT INTO complaints (id, ref, kind, text, reporter_phone, channel, lang, status, created_at, updated_at)
		VALUES (7, 'C1007', 'complaint', 'water leak', '+919800000001', 'sms', 'en', 'in_progress', ?, ?)`, at, at)
	mustExec(t, raw, `INSERT INTO complaint_events (complaint_id, at, actor, to_status) VALUES (7, ?, 'reporter', 'new')`, at)
	mustExec(t, raw, `INSERT INTO messages (id, direction, provider, provider_id, phone, text, status, created_at, updated_at)
		VALUES (40, 'in', 'africastalking', 'AT-1', '+919800000001', 'COMPLAINT water leak', 'received', ?, ?)`, at, at)
	mustExec(t, raw, `INSERT INTO messages (id, direction, provider, phone, text, status, next_attempt_at, complaint_id, reply_to, created_at, updated_at)
		VALUES (41, 'out', 'africastalking', '+919800000001', 'Your reference is C1007', 'queued', ?, 7, 40, ?, ?)`, at, at, at)
	db := openMigrated(t, raw, path)
	ctx := context.Background()
	c, err := NewComplaintService(db).ComplaintByRef(ctx, "C1007")
	if err != nil || c.ID != 7 || c.Status != "in_progress" || c.ReporterPhone != "+919800000001" {
		t.Fatalf("complaint after the migration = %+v, %v", c, err)
	}
	ms := NewMessageService(db)
	in, err := ms.Unhandled(ctx, 10) // through the partial index, INDEXED BY
	if err != nil || len(in) != 1 || in[0].ID != 40 || in[0].ProviderID != "AT-1" {
		t.Fatalf("unhandled after the migration = %v, %v", in, err)
	}
	if m, dup, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: "AT-1", Phone: "+919800000001", Text: "COMPLAINT water leak"}); err != nil || !dup || m.ID != 40 {
		t.Fatalf("redelivery of a message stored before the migration = %+v, dup=%v, %v", m, dup, err)
	}
	mustExec(t, db.w, `UPDATE messages SET provider_id = 'AT-out-1' WHERE id = 41`)
	var reply, complaint int64
	if err := db.r.QueryRow(`SELECT reply_to, complaint_id FROM messages WHERE id = 41`).Scan(&reply, &complaint); err != nil || reply != 40 || complaint != 7 {
		t.Fatalf("the reply's references = %d, %d, %v", reply, complaint, err)
	}
	for _, bad := range []string{
		`INSERT INTO messages (direction, provider, phone, text, status, created_at, updated_at) VALUES ('out', 'x', '+919800000001', 't', 'lost', '', '')`,
		`INSERT INTO messages (direction, provider, phone, text, status, complaint_id, created_at, updated_at) VALUES ('out', 'x', '+919800000001', 't', 'queued', 999, '', '')`,
		`UPDATE complaints SET status = 'forgotten' WHERE id = 7`,
		`INSERT INTO complaint_events (complaint_id, at, actor, to_status) VALUES (999, '', 'x', 'new')`,
		`INSERT INTO messages (direction, provider, provider_id, phone, text, status, created_at, updated_at) VALUES ('out', 'africastalking', 'AT-out-1', '+919800000001', 't', 'sent', '', '')`,
	} {
		if _, err := db.w.Exec(bad); err == nil || !strings.Contains(err.Error(), "constraint failed") {
			t.Errorf("%.70s: err = %v, want a constraint failure", bad, err)
		}
	}
	if s, err := db.IntegrityCheck(ctx); err != nil || s != "ok" {
		t.Fatalf("integrity_check = %q, %v", s, err)
	}
}

// The writer enforces foreign keys once the migrations are done, whether
// one ran or none did.
func TestForeignKeysOnAfterMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	for i := 0; i < 2; i++ {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var on int
		if err := db.w.QueryRow(`PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
			t.Fatalf("open %d: foreign_keys = %d, %v", i+1, on, err)
		}
		db.Close()
	}
}

// A migration that leaves a row referring to no row fails, naming it, and
// is not recorded.
func TestMigrationFailsOnDanglingReference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw := migrateUpTo(t, path, "checks.sql")
	mustExec(t, raw, `PRAGMA foreign_keys = OFF`)
	mustExec(t, raw, `INSERT INTO complaint_events (complaint_id, at, actor, to_status) VALUES (999, '', 'x', 'new')`)
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatal("Open migrated a database with a dangling reference")
	}
	if !strings.Contains(err.Error(), "checks.sql") || !strings.Contains(err.Error(), "complaint_events refers to a missing row of complaints") {
		t.Fatalf("err = %v, want the migration and the dangling row named", err)
	}
}

// The inserts every message and complaint makes build no temporary b-tree
// (an IN list of more than two values in a CHECK does, for every row).
func TestHotInsertsBuildNoTables(t *testing.T) {
	db := openTest(t)
	for name, q := range map[string]string{"inbound": insertInbound, "outbound": insertOutbound, "complaint": insertComplaint} {
		rows, err := db.r.Query(`EXPLAIN `+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ops := 0
		for rows.Next() {
			var addr, p1, p2, p3, p5 int64
			var op, comment sql.NullString
			var p4 any
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			ops++
			if op.String == "OpenEphemeral" {
				t.Errorf("%s insert opens an ephemeral table (instruction %d)", name, addr)
			}
		}
		rows.Close()
		if ops == 0 {
			t.Fatalf("%s: EXPLAIN gave no program", name)
		}
	}
}
