package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/config"
)

// run executes the CLI with args and stdin in a fresh data folder.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	return runOn(t, filepath.Join(t.TempDir(), "k.db"), stdin, args...)
}

// runOn is run on the database db, so that several commands can share it.
func runOn(t *testing.T, db, stdin string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("KARYASHALA_DB_PATH", db)
	t.Chdir(t.TempDir()) // no karyashala.yaml around
	root := rootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestMenuCheck(t *testing.T) {
	broken, _ := filepath.Abs("../../ussd/testdata/check/broken.yaml")
	good, _ := filepath.Abs("../../ussd/menus/karyashala.yaml")
	out, err := run(t, "", "menu", "check", broken)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	if !strings.Contains(out, broken+`:30:11: screen task_qty next: unknown screen "acept"; did you mean "accept"?`) {
		t.Errorf("output lacks the FILE:LINE:COL problem:\n%s", out)
	}
	if out, err := run(t, "", "menu", "check", good); err != nil || !strings.HasPrefix(out, "ok: ") {
		t.Errorf("built-in menus: %v\n%s", err, out)
	}
}

func TestSimulateScripted(t *testing.T) {
	// a direct dial into "report a problem" from a newcomer, then a second dial
	out, err := run(t, "Streetlight broken\n\n3\n2\n", "simulate", "--phone", "+919812345678", "--code", "*384*2#")
	if err != nil {
		t.Fatal(err, out)
	}
	for _, want := range []string{
		"--- dialing *384# (direct: 2) from +91******5678",
		"Describe the problem in a few words",
		"> Streetlight broken",
		"Thank you. Your problem is recorded as C1001.",
		"--- session ended",
		"> 3\nChoose your language",
		"> 2\nकार्यशाला में स्वागत है",
		"--- input ended; the session is left open (dial again to resume)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSimulateOverHTTP drives a real server on loopback exactly as Africa's
// Talking would.
func TestSimulateOverHTTP(t *testing.T) {
	cfg := config.Default()
	cfg.DB.Path = filepath.Join(t.TempDir(), "server.db")
	s, err := openServices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	app := fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler, DisableStartupMessage: true})
	if _, err := mountUSSD(app, s, cfg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()

	out, err := run(t, "1\nAsha\n", "simulate", "--url", "http://"+ln.Addr().String(), "--phone", "+919812345678")
	if err != nil {
		t.Fatal(err, out)
	}
	if !strings.Contains(out, "> Asha\nWhich workshop do you work at?") {
		t.Errorf("unexpected transcript:\n%s", out)
	}
	// the in-process console dial shares the session store
	got, err := s.Dial(context.Background(), "console-1", "09812345678", "*384#", "")
	if err != nil || !strings.HasPrefix(got, "CON Welcome back.") {
		t.Errorf("Dial = %q, %v; want the resume offer for the dropped session", got, err)
	}
}

// A --lang that is not configured is refused, naming the ones that are,
// instead of quietly running the session in the default language.
func TestSimulateRefusesAnUnconfiguredLang(t *testing.T) {
	out, err := run(t, "", "simulate", "--phone", "+919812345678", "--lang", "fr")
	if err == nil || err.Error() != "--lang fr: not a configured language; use one of en, hi, or add it to languages in the configuration" {
		t.Fatalf("simulate --lang fr: %v\n%s", err, out)
	}
	if strings.Contains(out, "--- dialing") {
		t.Fatalf("it dialed anyway:\n%s", out)
	}
	out, err = run(t, "", "simulate", "--phone", "+919812345678", "--lang", "hi")
	if err != nil || !strings.Contains(out, "कार्यशाला में स्वागत है") {
		t.Fatalf("simulate --lang hi: %v\n%s", err, out)
	}
}
