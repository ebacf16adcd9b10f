package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
// migration; backup writes a copy that opens.
func TestTokenMigrateBackup(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	t.Setenv("KARYASHALA_DB_PATH", db)
	out, err := run(t, "", "token", "create", "--role", "leader", "--name", "Sunita")
	if err != nil || !strings.HasPrefix(out, "ks_") {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	if _, err := run(t, "", "token", "create", "--role", "admin", "--name", "x"); err == nil || !strings.Contains(err.Error(), "role: must be operator or leader") {
		t.Fatalf("bad role: %v", err)
	}
	out, err = run(t, "", "migrate")
	if err != nil || !strings.Contains(out, "is at migration") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if out, err := run(t, "", "backup", dst); err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(dst); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "backup", dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
}
