package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/storage"
)

func TestKeywordsCheck(t *testing.T) {
	good, _ := filepath.Abs("../../sms/keywords/builtin.yaml")
	bad := filepath.Join(t.TempDir(), "kw.yaml")
	os.WriteFile(bad, []byte("commands:\n  complaint:\n    aliases: [C]\nreplies:\n  help:\n    en: hi\n"), 0o644)
	out, err := run(t, "", "keywords", "check", bad)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	if !strings.Contains(out, bad+":5:3: replies: no templates for configured language hi") {
		t.Errorf("output lacks the FILE:LINE:COL problem:\n%s", out)
	}
	if out, err := run(t, "", "keywords", "check", good); err != nil || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("built-in keywords: %v\n%s", err, out)
	}
}

// token create prints the secret once; migrate reports the applied
// migration; backup writes a copy that opens and holds the token. All
// three work on the same database.
func TestTokenMigrateBackup(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	out, err := runOn(t, db, "", "token", "create", "--role", "leader", "--name", "Sunita")
	if err != nil || !strings.HasPrefix(out, "ks_") {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	secret := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if _, err := runOn(t, db, "", "token", "create", "--role", "admin", "--name", "x"); err == nil || !strings.Contains(err.Error(), "role: must be operator or leader") {
		t.Fatalf("bad role: %v", err)
	}
	out, err = runOn(t, db, "", "migrate")
	if err != nil || !strings.Contains(out, "is at migration") || !strings.Contains(out, db) {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if out, err := runOn(t, db, "", "backup", dst); err != nil || !strings.Contains(out, "backed up "+db) {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	copied, err := storage.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	if _, err := copied.Services().Tokens.Authenticate(context.Background(), secret); err != nil {
		t.Fatalf("the copy lacks the token created before it: %v", err)
	}
	if _, err := runOn(t, db, "", "backup", dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
}

// backup of a database that is not there says so, exits 1 and creates
// nothing: opening it would make an empty one and back that up.
func TestBackupRefusesAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "copy.db")
	db := filepath.Join(dir, "data", "karyashala.db")
	root := rootCmd()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	t.Chdir(dir)
	t.Setenv("KARYASHALA_DB_PATH", db)
	root.SetArgs([]string{"backup", dst})
	err := root.Execute()
	if err == nil || exitCode(err) != 1 || err.Error() != "no database at "+db+"; check db.path (or --config) and the working folder" {
		t.Fatalf("backup of a missing database: %v (exit %d)\n%s", err, exitCode(err), out.String())
	}
	for _, f := range []string{db, dst} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want no file", f, err)
		}
	}
}
