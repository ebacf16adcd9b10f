// Package config reads Karyashala's configuration: a YAML file, environment
// variables KARYASHALA_* and flags, through viper. It is the only package that
// touches viper; everyone else gets a typed, validated Config.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/nyaruka/phonenumbers"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration, with the keys of shared/CONTRACT.md.
type Config struct {
	HTTP struct {
		Addr string `mapstructure:"addr"`
	} `mapstructure:"http"`
	DB struct {
		Path string `mapstructure:"path"`
	} `mapstructure:"db"`
	Region    string   `mapstructure:"region"`
	Currency  string   `mapstructure:"currency"`
	Languages []string `mapstructure:"languages"`
	Menus     struct {
		Path string `mapstructure:"path"`
	} `mapstructure:"menus"`
	Keywords struct {
		Path string `mapstructure:"path"`
	} `mapstructure:"keywords"`
	USSD struct {
		MaxCharsGSM7 int           `mapstructure:"max_chars_gsm7"`
		MaxCharsUCS2 int           `mapstructure:"max_chars_ucs2"`
		SessionTTL   time.Duration `mapstructure:"session_ttl"`
		ResumeWindow time.Duration `mapstructure:"resume_window"`
		ShortCode    string        `mapstructure:"short_code"`
	} `mapstructure:"ussd"`
	SMS struct {
		Sender         string `mapstructure:"sender"`
		AfricasTalking struct {
			Username string `mapstructure:"username"`
			APIKey   string `mapstructure:"api_key"`
			From     string `mapstructure:"from"`
			BaseURL  string `mapstructure:"base_url"`
		} `mapstructure:"africastalking"`
		Twilio struct {
			AccountSID string `mapstructure:"account_sid"`
			AuthToken  string `mapstructure:"auth_token"`
			From       string `mapstructure:"from"`
			BaseURL    string `mapstructure:"base_url"`
		} `mapstructure:"twilio"`
		Kannel struct {
			SendSMSURL string `mapstructure:"sendsms_url"`
			Username   string `mapstructure:"username"`
			Password   string `mapstructure:"password"`
			From       string `mapstructure:"from"`
		} `mapstructure:"kannel"`
		// RatePerSecond limits outbound messages per provider.
		RatePerSecond float64 `mapstructure:"rate_per_second"`
		Workers       int     `mapstructure:"workers"`
		MaxAttempts   int     `mapstructure:"max_attempts"`
	} `mapstructure:"sms"`
	Callbacks struct {
		Token string `mapstructure:"token"`
	} `mapstructure:"callbacks"`
	PublicURL string `mapstructure:"public_url"`
	// Registration decides whether a worker who signs herself up by phone is
	// active at once ("open") or waits for a leader ("approval").
	Registration string `mapstructure:"registration"`
	Log          struct {
		Level string `mapstructure:"level"`
	} `mapstructure:"log"`
	// RateLimit caps inbound requests per phone number; 0 turns a limit off.
	RateLimit struct {
		SMSPerMinute  int `mapstructure:"sms_per_minute"`
		USSDPerMinute int `mapstructure:"ussd_per_minute"`
	} `mapstructure:"ratelimit"`
}

// Default returns the configuration the service runs on with no file at all.
func Default() Config {
	var c Config
	c.HTTP.Addr = ":8080"
	c.DB.Path = "./data/karyashala.db"
	c.Region = "IN"
	c.Currency = "INR"
	c.Languages = []string{"en", "hi"}
	c.USSD.MaxCharsGSM7 = 182
	c.USSD.MaxCharsUCS2 = 80
	c.USSD.SessionTTL = 180 * time.Second
	c.USSD.ResumeWindow = 5 * time.Minute
	c.USSD.ShortCode = "*384#"
	c.SMS.Sender = "log"
	c.SMS.AfricasTalking.BaseURL = "https://api.africastalking.com"
	c.SMS.Twilio.BaseURL = "https://api.twilio.com"
	c.SMS.RatePerSecond = 10
	c.SMS.Workers = 4
	c.SMS.MaxAttempts = 8
	c.Registration = "approval"
	c.Log.Level = "info"
	c.RateLimit.SMSPerMinute = 10
	c.RateLimit.USSDPerMinute = 60
	return c
}

// defaults flattens Default() into viper keys, one for every field of
// Config, so every key is known to viper: only a known key is unmarshalled
// and overridable from the environment, and a key left out here would
// silently be its zero value (the rate limits were, until 2026-12-04).
func defaults() map[string]any {
	out := map[string]any{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			key := prefix + t.Field(i).Tag.Get("mapstructure")
			if f := v.Field(i); f.Kind() == reflect.Struct {
				walk(key+".", f)
			} else {
				out[key] = f.Interface()
			}
		}
	}
	walk("", reflect.ValueOf(Default()))
	return out
}

// DefaultFile is read when no --config is given and it exists.
const DefaultFile = "karyashala.yaml"

// Load reads the file (DefaultFile when path is "" and it exists; nothing
// when neither), then the environment, and validates the result. Set
// overrides on top, as flags do.
func Load(path string, set map[string]any) (Config, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	v.SetEnvPrefix("KARYASHALA")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	if path == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			path = DefaultFile
		}
	}
	source := "the defaults and KARYASHALA_* variables"
	if path != "" {
		source = path + " and KARYASHALA_* variables"
		if err := unknownKeys(path); err != nil {
			return Config{}, err
		}
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("read config %s: %w", path, err)
		}
	}
	for k, val := range set {
		v.Set(k, val)
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return Config{}, fmt.Errorf("config from %s: %w", source, err)
	}
	// A languages list from the environment arrives as one string, or as
	// its comma-separated parts: "en, hi" and "[en, hi]" mean [en, hi].
	var langs []string
	for _, l := range c.Languages {
		langs = append(langs, strings.FieldsFunc(l, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' })...)
	}
	c.Languages = langs
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// unknownKeys reports every key in the file that is not a configuration
// key, at its line and column: a misspelt key would otherwise be ignored
// and its default used (http.address would listen on every interface,
// callback.token would leave the callbacks open).
func unknownKeys(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil // empty, or not a mapping: viper's reading says what is wrong
	}
	known := defaults()
	var errs []error
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := prefix + strings.ToLower(k.Value)
			if _, leaf := known[key]; leaf {
				continue
			}
			if val.Kind == yaml.MappingNode && isSection(known, key) {
				walk(key+".", val)
				continue
			}
			msg := fmt.Sprintf("%s:%d:%d: unknown key %q", path, k.Line, k.Column, key)
			if near := nearestKey(known, key); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "; README.md lists the keys"
			}
			errs = append(errs, errors.New(msg))
		}
	}
	walk("", doc.Content[0])
	return errors.Join(errs...)
}

// isSection reports whether key is the parent of configuration keys.
func isSection(known map[string]any, key string) bool {
	for k := range known {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

// nearestKey is the known key closest to key, when one is close enough to
// be a misspelling of it.
func nearestKey(known map[string]any, key string) string {
	best, bestD := "", 4
	for k := range known {
		if d := levenshtein.ComputeDistance(key, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}

// Validate checks every key and returns all problems at once, each naming the
// key and what to do.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr: %q is not a listen address; use host:port such as :8080 or 127.0.0.1:8080", c.HTTP.Addr)
	}
	if c.DB.Path == "" {
		bad("db.path: required; the SQLite file to use, e.g. ./data/karyashala.db")
	} else if err := writableDir(filepath.Dir(c.DB.Path)); err != nil {
		bad("db.path: %v", err)
	}
	if _, ok := phonenumbers.GetSupportedRegions()[strings.ToUpper(c.Region)]; !ok {
		bad("region: %q is not a two-letter region code such as IN or KE", c.Region)
	}
	c.Region = strings.ToUpper(c.Region)
	if !currencyRE(c.Currency) {
		bad("currency: %q is not a three-letter ISO 4217 code such as INR", c.Currency)
	}
	c.Currency = strings.ToUpper(c.Currency)
	if len(c.Languages) == 0 {
		bad("languages: list at least one language, the default first, e.g. [en, hi]")
	}
	seen := map[string]bool{}
	for _, l := range c.Languages {
		if l == "" || len(l) > 8 || strings.ContainsAny(l, " ./") {
			bad("languages: %q is not a language code such as en or hi", l)
		}
		if seen[l] {
			bad("languages: %q is listed twice", l)
		}
		seen[l] = true
	}
	for _, p := range []struct{ key, path string }{{"menus.path", c.Menus.Path}, {"keywords.path", c.Keywords.Path}} {
		if p.path != "" {
			if _, err := os.Stat(p.path); err != nil {
				bad("%s: %v; leave it empty to use the built-in set", p.key, err)
			}
		}
	}
	if c.USSD.MaxCharsGSM7 < 40 || c.USSD.MaxCharsGSM7 > 500 {
		bad("ussd.max_chars_gsm7: %d is outside 40..500; carriers allow 182", c.USSD.MaxCharsGSM7)
	}
	if c.USSD.MaxCharsUCS2 < 20 || c.USSD.MaxCharsUCS2 > 250 {
		bad("ussd.max_chars_ucs2: %d is outside 20..250; carriers allow about 80", c.USSD.MaxCharsUCS2)
	}
	if c.USSD.SessionTTL < 10*time.Second {
		bad("ussd.session_ttl: %s is too short; carriers keep sessions about 180s", c.USSD.SessionTTL)
	}
	if c.USSD.ResumeWindow < 0 {
		bad("ussd.resume_window: must not be negative; 0 turns resuming off")
	}
	switch c.SMS.Sender {
	case "log":
	case "africastalking":
		a := c.SMS.AfricasTalking
		if a.Username == "" || a.APIKey == "" {
			bad("sms.africastalking: username and api_key are required when sms.sender is africastalking")
		}
		checkURL(&errs, "sms.africastalking.base_url", a.BaseURL)
	case "twilio":
		t := c.SMS.Twilio
		if t.AccountSID == "" || t.AuthToken == "" || t.From == "" {
			bad("sms.twilio: account_sid, auth_token and from are required when sms.sender is twilio")
		}
		checkURL(&errs, "sms.twilio.base_url", t.BaseURL)
	case "kannel":
		k := c.SMS.Kannel
		if k.SendSMSURL == "" {
			bad("sms.kannel.sendsms_url: required when sms.sender is kannel, e.g. http://127.0.0.1:13013/cgi-bin/sendsms")
		} else {
			checkURL(&errs, "sms.kannel.sendsms_url", k.SendSMSURL)
		}
	default:
		bad("sms.sender: %q is not one of log, africastalking, twilio, kannel", c.SMS.Sender)
	}
	if c.SMS.RatePerSecond <= 0 {
		bad("sms.rate_per_second: must be above 0")
	}
	if c.SMS.Workers < 1 || c.SMS.Workers > 64 {
		bad("sms.workers: %d is outside 1..64", c.SMS.Workers)
	}
	if c.SMS.MaxAttempts < 1 {
		bad("sms.max_attempts: must be at least 1")
	}
	if c.PublicURL != "" {
		checkURL(&errs, "public_url", c.PublicURL)
	}
	if c.Registration != "open" && c.Registration != "approval" {
		bad("registration: %q is not open or approval", c.Registration)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	if c.RateLimit.SMSPerMinute < 0 || c.RateLimit.USSDPerMinute < 0 {
		bad("ratelimit: per-minute limits must be 0 (off) or more")
	}
	return errors.Join(errs...)
}

func checkURL(errs *[]error, key, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, fmt.Errorf("%s: %q is not an http(s) URL", key, s))
	}
}

func currencyRE(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range strings.ToUpper(s) {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// writableDir checks that dir exists (creating it if need be) and that a file
// can be created in it.
func writableDir(dir string) error {
	// Checked without creating anything: commands that only read the
	// configuration (menu check, backup of a missing file) must not leave a
	// folder behind; the database creates its own when it opens.
	at := dir
	for {
		fi, err := os.Stat(at)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("directory %s cannot be created: %s is not a directory", dir, at)
			}
			break
		}
		parent := filepath.Dir(at)
		if !errors.Is(err, os.ErrNotExist) || parent == at {
			return fmt.Errorf("directory %s cannot be created: %v", dir, err)
		}
		at = parent
	}
	f, err := os.CreateTemp(at, ".karyashala-write-check-*")
	if err != nil {
		if at == dir {
			return fmt.Errorf("directory %s is not writable", dir)
		}
		return fmt.Errorf("directory %s cannot be created: %s is not writable", dir, at)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}
