package ussd

import (
	"testing"

	"github.com/karyashala/karyashala/domain"
)

func testOptions() Options {
	return Options{
		Languages: []string{"en", "hi"},
		Limits:    Limits{MaxGSM7: 182, MaxUCS2: 80},
		Registry:  Builtins(domain.Services{}, BuiltinOptions{Currency: "INR", Languages: []string{"en", "hi"}}),
	}
}

func TestBuiltinMenusAreValid(t *testing.T) {
	if _, probs := LoadBuiltin(testOptions()); len(probs) > 0 {
		t.Fatalf("built-in menus have problems:\n%v", probs)
	}
}

// TestStaticScreens checks which built-in screens the engine may keep the
// pages of: only those that show every caller the same thing.
func TestStaticScreens(t *testing.T) {
	m, probs := LoadBuiltin(testOptions())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for id, want := range map[string]bool{
		"guest":        true,  // fixed text and options
		"home":         true,  // likewise
		"reg_name":     true,  // a fixed prompt; its error is part of the page's key
		"reg_active":   false, // {{.reg.name}}
		"tasks":        false, // items from the database
		"task_qty":     false, // the task's title and what is left
		"pay_show":     false, // the caller's pay
		"reg_workshop": false,
	} {
		s := m.Screens[id]
		if s == nil {
			t.Fatalf("no built-in screen %q", id)
		}
		if s.static != want {
			t.Errorf("%s: static = %v, want %v", id, s.static, want)
		}
	}
	src := `start: pick
system:
  back: {en: "0 Back"}
  home: {en: "00 Home"}
  more: {en: "98 More"}
  invalid: {en: "Not valid"}
  apology: {en: "Sorry"}
  resume: {en: "Welcome back"}
  continue: {en: "Continue"}
  restart: {en: "Restart"}
screens:
  pick:
    type: menu
    text: {en: "Pick"}
    options:
      - label: {en: "Members only"}
        when: {var: member.id, set: true}
        goto: bye
      - label: {en: "Everyone"}
        goto: bye
  bye:
    type: end
    text: {en: "Bye"}
`
	opt := testOptions()
	opt.Languages = []string{"en"}
	m, probs = Parse([]Source{{Name: "when.yaml", Data: []byte(src)}}, opt)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if m.Screens["pick"].static || !m.Screens["bye"].static {
		t.Errorf("an option shown on a condition must make its menu dynamic: pick %v, bye %v", m.Screens["pick"].static, m.Screens["bye"].static)
	}
}
