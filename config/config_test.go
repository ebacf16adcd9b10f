package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karyashala/karyashala/config"
)

func TestDefaultsWithNoFile(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" || c.DB.Path != "./data/karyashala.db" || c.Region != "IN" || c.Currency != "INR" ||
		strings.Join(c.Languages, ",") != "en,hi" || c.USSD.MaxCharsGSM7 != 182 || c.USSD.MaxCharsUCS2 != 80 ||
		c.USSD.SessionTTL != 180*time.Second || c.USSD.ResumeWindow != 5*time.Minute || c.SMS.Sender != "log" ||
		c.SMS.AfricasTalking.BaseURL != "https://api.africastalking.com" || c.SMS.Twilio.BaseURL != "https://api.twilio.com" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, "k.yaml")
	os.WriteFile(file, []byte("http:\n  addr: 127.0.0.1:9000\nregion: ke\nussd:\n  session_ttl: 60s\nlanguages: [hi, en]\n"), 0o644)
	t.Setenv("KARYASHALA_HTTP_ADDR", "127.0.0.1:9100")
	t.Setenv("KARYASHALA_SMS_TWILIO_BASE_URL", "http://127.0.0.1:1")
	c, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:9100" || c.Region != "KE" || c.USSD.SessionTTL != time.Minute || c.Languages[0] != "hi" || c.SMS.Twilio.BaseURL != "http://127.0.0.1:1" {
		t.Fatalf("loaded = %+v", c)
	}
	t.Setenv("KARYASHALA_LANGUAGES", "en,hi")
	c, err = config.Load(file, nil)
	if err != nil || strings.Join(c.Languages, ",") != "en,hi" {
		t.Fatalf("languages from env = %v, %v", c.Languages, err)
	}
}

func TestValidationNamesKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	file := "bad.yaml"
	os.WriteFile(file, []byte("http:\n  addr: nonsense\nregion: XX\ncurrency: rupees\nsms:\n  sender: pigeon\nussd:\n  max_chars_gsm7: 5\n"), 0o644)
	_, err := config.Load(file, nil)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{`http.addr: "nonsense" is not a listen address`, `region: "XX"`, `currency: "rupees"`, `sms.sender: "pigeon"`, "ussd.max_chars_gsm7: 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if os.Getuid() != 0 { // root can write anywhere
		os.Mkdir("ro", 0o555)
		_, err = config.Load("", map[string]any{"db.path": "ro/x.db"})
		if err == nil || !strings.Contains(err.Error(), "db.path: directory ro is not writable") {
			t.Errorf("read-only db folder: %v", err)
		}
	}
	os.WriteFile("afile", nil, 0o644)
	_, err = config.Load("", map[string]any{"db.path": "afile/x.db"})
	if err == nil || !strings.Contains(err.Error(), "db.path: directory afile cannot be created") {
		t.Errorf("db folder under a file: %v", err)
	}
	_, err = config.Load("", map[string]any{"sms.sender": "twilio"})
	if err == nil || !strings.Contains(err.Error(), "sms.twilio: account_sid, auth_token and from are required") {
		t.Errorf("twilio without credentials: %v", err)
	}
}
