// Package storagetest opens a real SQLite database for tests.
package storagetest

import (
	"path/filepath"
	"testing"

	"github.com/karyashala/karyashala/storage"
)

// Open returns a migrated database in a fresh file under t.TempDir(),
// closed when the test ends.
func Open(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
