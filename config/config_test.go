package config_test

import (
	"os"
	"path/filepath"
	"reflect"
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
	// Whatever Default says, Load gives with no file: a key viper does not
	// know comes out as its zero value (the rate limits did, as "off").
	if want := config.Default(); !reflect.DeepEqual(c, want) {
		t.Fatalf("Load with no file differs from Default:\n got %+v\nwant %+v", c, want)
	}
	t.Setenv("KARYASHALA_RATELIMIT_SMS_PER_MINUTE", "3")
	if c, err := config.Load("", nil); err != nil || c.RateLimit.SMSPerMinute != 3 || c.RateLimit.USSDPerMinute != 60 {
		t.Fatalf("rate limits with KARYASHALA_RATELIMIT_SMS_PER_MINUTE=3: %+v, %v", c.RateLimit, err)
	}
}

// A misspelt key is refused where it was written, with the key it was
// probably meant to be: ignored, http.address would listen on every
// interface and callback.token leave the callbacks open.
func TestUnknownKeysRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("k.yaml", []byte("http:\n  address: 127.0.0.1:9000\ncallback:\n  token: s3cret\nussd:\n  session_ttl: 60s\n  color: red\nratelimit:\n  sms_per_minute: 5\n"), 0o644)
	_, err := config.Load("k.yaml", nil)
	if err == nil {
		t.Fatal("a file with misspelt keys was accepted")
	}
	for _, want := range []string{
		`k.yaml:2:3: unknown key "http.address"; did you mean "http.addr"?`,
		`k.yaml:3:1: unknown key "callback"; README.md lists the keys`,
		`k.yaml:7:3: unknown key "ussd.color"; README.md lists the keys`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "session_ttl") || strings.Contains(err.Error(), "sms_per_minute") {
		t.Errorf("known keys reported:\n%v", err)
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
	for _, env := range []string{"en,hi", "en, hi", "[en, hi]", "en hi"} {
		t.Setenv("KARYASHALA_LANGUAGES", env)
		c, err = config.Load(file, nil)
		if err != nil || strings.Join(c.Languages, ",") != "en,hi" {
			t.Fatalf("languages from KARYASHALA_LANGUAGES=%q: %v, %v", env, c.Languages, err)
		}
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
	// A folder still to be made is checked, not made: the database makes it.
	if _, err := config.Load("", map[string]any{"db.path": "new/sub/x.db"}); err != nil {
		t.Errorf("db.path in folders still to be made: %v", err)
	}
	if _, err := os.Stat("new"); !os.IsNotExist(err) {
		t.Errorf("loading the configuration made the database's folder: %v", err)
	}
	os.WriteFile("afile", nil, 0o644)
	_, err = config.Load("", map[string]any{"db.path": "afile/x.db"})
	if err == nil || !strings.Contains(err.Error(), "db.path: directory afile cannot be created") {
		t.Errorf("db folder under a file: %v", err)
	}
	t.Setenv("KARYASHALA_SMS_WORKERS", "four")
	_, err = config.Load("", nil)
	if err == nil || !strings.Contains(err.Error(), "config from the defaults and KARYASHALA_* variables") || !strings.Contains(err.Error(), "sms.workers") {
		t.Errorf("a number that is not one, from the environment: %v", err)
	}
	os.Unsetenv("KARYASHALA_SMS_WORKERS")
	_, err = config.Load("", map[string]any{"sms.sender": "twilio"})
	if err == nil || !strings.Contains(err.Error(), "sms.twilio: account_sid, auth_token and from are required") {
		t.Errorf("twilio without credentials: %v", err)
	}
}
