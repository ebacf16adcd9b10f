package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karyashala/karyashala/config"
)

// FuzzLoad feeds arbitrary bytes to the configuration loader as the file an
// operator wrote. It must never panic: it either returns a configuration
// that validates again unchanged, or an error a person can act on. db.path
// is pinned to a temporary folder, since validating it creates the folder.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"",
		"http:\n  addr: 127.0.0.1:9000\nregion: ke\nussd:\n  session_ttl: 60s\nlanguages: [hi, en]\n",
		"sms:\n  sender: kannel\n  kannel:\n    sendsms_url: http://127.0.0.1:13013/cgi-bin/sendsms\n",
		"sms:\n  sender: twilio\n  twilio: {account_sid: AC1, auth_token: t, from: '+15005550006'}\n",
		"ratelimit:\n  sms_per_minute: -1\nussd:\n  max_chars_gsm7: 5\n",
		"languages: en,hi\ncurrency: inr\nlog:\n  level: debug\n",
		"http: [1, 2\n",
		"ussd:\n  session_ttl: forever\n",
		"\xff\xfe\x00region: IN\n",
		"a: &x [*x]\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	file := filepath.Join(dir, "k.yaml")
	set := map[string]any{"db.path": filepath.Join(dir, "data", "k.db")}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		type loaded struct {
			c   config.Config
			err error
		}
		done := make(chan loaded, 1)
		go func() {
			c, err := config.Load(file, set)
			done <- loaded{c, err}
		}()
		var c config.Config
		var err error
		select {
		case l := <-done:
			c, err = l.c, l.err
		case <-time.After(5 * time.Second):
			t.Fatalf("Load still running after 5s on %q", data)
		}
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("empty error for %q", data)
			}
			return
		}
		again := c
		if err := again.Validate(); err != nil {
			t.Fatalf("loaded config does not validate again: %v\n%q", err, data)
		}
		if again.Region != c.Region || again.Currency != c.Currency || again.Region != strings.ToUpper(again.Region) {
			t.Fatalf("validating twice changed the config: %+v then %+v", c, again)
		}
	})
}
