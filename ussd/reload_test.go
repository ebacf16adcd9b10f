package ussd_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/karyashala/karyashala/ussd"
)

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWatchReloadsOnChangeAndSIGHUP edits the menu file the way editors do
// (write a temporary file, rename it over) and sends SIGHUP.
func TestWatchReloadsOnChangeAndSIGHUP(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.menus = filepath.Join(dir, "menus.yaml")
	if err := os.WriteFile(e.menus, ussd.BuiltinSource().Data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.newEngine(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.reload.Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()
	homeText := func() string { return e.eng.Menus().Screens["home"].Text.Src["en"] }

	good, _ := os.ReadFile("testdata/reload_good.yaml")
	time.Sleep(100 * time.Millisecond) // let the watcher start
	tmp := filepath.Join(dir, ".menus.yaml.swp")
	if err := os.WriteFile(tmp, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.menus); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the edited menus", func() bool { return homeText() == "Karyashala Union: work and pay" })
	if err := e.reload.Ready(); err != nil || e.reload.Detail() != "" {
		t.Fatalf("ready after a good reload: %v %q", err, e.reload.Detail())
	}

	bad, _ := os.ReadFile("testdata/reload_bad.yaml")
	if err := os.WriteFile(e.menus, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bad menus to be refused", func() bool { return e.reload.Detail() != "" })
	if got := homeText(); got != "Karyashala Union: work and pay" {
		t.Fatalf("home text %q: the last good menus must keep serving", got)
	}
	// Still ready (the last good menus serve), with the reason shown.
	if err := e.reload.Ready(); err != nil || !strings.Contains(e.reload.Detail(), `unknown screen "my_wrok"`) {
		t.Fatalf("Ready = %v, Detail = %q; it must stay ready and say what is wrong", err, e.reload.Detail())
	}

	// Fix the file without the watcher seeing it, then SIGHUP.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // so the signal can never kill the test
	defer signal.Stop(hup)
	original := ussd.BuiltinSource().Data
	if err := e.reload.Reload(); err == nil {
		t.Fatal("reload of the bad file succeeded")
	}
	if err := os.WriteFile(e.menus, original, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload on SIGHUP or change", func() bool { return homeText() == "Karyashala" && e.reload.Detail() == "" })
}

// TestReloadRemovingTheCurrentScreen: a session on a screen that a reload
// removed goes home instead of failing.
func TestReloadRemovingTheCurrentScreen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := ussd.Request{SessionID: "s1", Phone: phoneAsha, Text: ""}
	hop := func(text string) string {
		t.Helper()
		req.Text = text
		resp, err := e.eng.Handle(ctx, req)
		if err != nil {
			t.Fatalf("hop %q: %v", text, err)
		}
		return resp.String()
	}
	hop("")
	hop("4") // trainings
	if got := hop("4*1"); !strings.Contains(got, "Tailoring basics") {
		t.Fatalf("training detail: %q", got)
	}
	src := strings.Replace(string(ussd.BuiltinSource().Data), "goto: training_detail", "goto: training_signup", 1)
	i := strings.Index(src, "  training_detail:\n")
	j := strings.Index(src, "  training_signup:\n")
	src = src[:i] + src[j:]
	m, probs := ussd.Parse([]ussd.Source{{Name: "smaller.yaml", Data: []byte(src)}}, e.eng.Options())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.eng.SetMenus(m)
	if got := hop("4*1"); !strings.HasPrefix(got, "CON Karyashala\n1. Open tasks") { // a retry of the same hop
		t.Fatalf("after the reload: %q, want the home screen", got)
	}
	if got := hop("4*1*0"); !strings.HasPrefix(got, "CON Karyashala\n1. Open tasks") {
		t.Fatalf("back after the reload: %q", got)
	}
}

// TestKeptPagesFollowTheMenus: the engine keeps the pages of static screens,
// so each must be kept per language and per error shown, and a reload must
// show the new menus' text at once.
func TestKeptPagesFollowTheMenus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := 0
	dial := func(lang string, inputs ...string) string {
		t.Helper()
		n++
		// A new caller each time: a caller who hung up mid-way is offered
		// to resume instead.
		req := ussd.Request{SessionID: fmt.Sprintf("kept%d", n), Phone: fmt.Sprintf("+91980000%04d", 100+n), ServiceCode: "*384#", Lang: lang}
		var got string
		for i := 0; i <= len(inputs); i++ {
			req.Text = strings.Join(inputs[:i], "*")
			resp, err := e.eng.Handle(ctx, req)
			if err != nil {
				t.Fatalf("hop %q: %v", req.Text, err)
			}
			got = resp.String()
		}
		return got
	}
	en := dial("en")
	if !strings.HasPrefix(en, "CON Welcome to Karyashala\n1. Register as a worker") {
		t.Fatalf("guest menu: %q", en)
	}
	if again := dial("en"); again != en {
		t.Fatalf("the kept page differs: %q, then %q", en, again)
	}
	if hi := dial("hi"); !strings.HasPrefix(hi, "CON कार्यशाला में स्वागत है") {
		t.Fatalf("Hindi guest menu after the English one: %q", hi)
	}
	prompt := dial("en", "1")
	wrong := dial("en", "1", "x")
	if !strings.Contains(wrong, "Please type your name") || strings.Contains(prompt, "Please type your name") {
		t.Fatalf("the prompt and its error page: %q and %q", prompt, wrong)
	}
	if again := dial("en", "1"); again != prompt {
		t.Fatalf("the prompt after its error page: %q, want %q", again, prompt)
	}

	src := strings.Replace(string(ussd.BuiltinSource().Data), `"Welcome to Karyashala"`, `"Welcome to the union's workshop"`, 1)
	m, probs := ussd.Parse([]ussd.Source{{Name: "edited.yaml", Data: []byte(src)}}, e.eng.Options())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.eng.SetMenus(m)
	if got := dial("en"); !strings.HasPrefix(got, "CON Welcome to the union's workshop\n") {
		t.Fatalf("after the reload: %q", got)
	}
}
