package ussd

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func checkFile(t *testing.T, path string) []string {
	t.Helper()
	m, probs := LoadFiles([]string{path}, testOptions())
	if len(probs) > 0 && m != nil {
		t.Fatalf("LoadFiles returned menus despite problems")
	}
	var out []string
	for _, p := range probs {
		out = append(out, p.String())
	}
	return out
}

// TestCheckPositions pins every problem to the exact line and column an
// operator must look at.
func TestCheckPositions(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"testdata/check/broken.yaml", []string{
			`testdata/check/broken.yaml:1:8: start screen "hom" is not defined; did you mean "home"?`,
			`testdata/check/broken.yaml:10:12: system.restart: missing the "hi" translation`,
			`testdata/check/broken.yaml:16:15: screen home: unknown data source "open_jobs"; known: languages, my_assignments, open_tasks, upcoming_trainings, workshops`,
			`testdata/check/broken.yaml:29:16: screen task_qty validate 1 error: missing the "hi" translation`,
			`testdata/check/broken.yaml:30:11: screen task_qty next: unknown screen "acept"; did you mean "accept"?`,
			`testdata/check/broken.yaml:33:13: screen pay: unknown action "pay_me"; known: accept_task, pay, register, report_problem, report_work, request_help, request_training, set_language, sign_up_training`,
			`testdata/check/broken.yaml:38:11: template: unclosed action`,
			`testdata/check/broken.yaml:42:13: screen accept: action accept_task needs parameter "task_id" under with:`,
			`testdata/check/broken.yaml:42:13: screen accept: outcomes sold_out, closed, not_active, not_registered of action accept_task lead nowhere; route them under on: or add default:`,
			`testdata/check/broken.yaml:43:12: screen accept: action accept_task has no parameter "task"; it takes task_id, quantity`,
			`testdata/check/broken.yaml:44:30: screen accept: action accept_task has no outcome "gone"; its outcomes are ok, sold_out, closed, not_active, not_registered`,
			`testdata/check/broken.yaml:48:7: screen orphan text in "hi" is 97 characters; a page holds 80: shorten it`,
			`testdata/check/broken.yaml:50:5: end screen "orphan" cannot have "color"; it takes type, text`,
		}},
		{"testdata/check/syntax.yaml", []string{
			`testdata/check/syntax.yaml:5:1: YAML syntax: did not find expected ',' or '}'`,
		}},
		{"testdata/check/unreachable.yaml", []string{
			`testdata/check/unreachable.yaml:21:3: screen lost is unreachable from start screen home; link to it or remove it`,
			`testdata/check/unreachable.yaml:24:3: screen "home" is defined twice (first at testdata/check/unreachable.yaml:12:3); rename one`,
			`testdata/check/unreachable.yaml:28:11: unknown screen type "screen"; use one of menu, input, action, router, end`,
			`testdata/check/unreachable.yaml:29:3: screen "bare" has no type; use one of menu, input, action, router, end`,
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			if diff := cmp.Diff(c.want, checkFile(t, c.file)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSmallCases(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       string
	}{
		{"empty", "", "x.yaml:1:1: the file is empty; it needs at least screens:"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1:1: a menu file must be a mapping (key: value lines)"},
		{"unknown top key", "start: a\nmenus: {}\n", `x.yaml:2:1: unknown key "menus"; a menu file has start, system and screens`},
		{"text not per language", "screens:\n  a:\n    type: end\n    text: hello\n", `x.yaml:4:11: a text must be one line per language, e.g. {en: "Hello", hi: "नमस्ते"}`},
		{"bad regex", "screens:\n  a:\n    type: input\n    validate:\n      - regex: \"[a-\"\n        error: {en: x, hi: x}\n", "x.yaml:5:16: regex: error parsing regexp: missing closing ]: `[a-`"},
		{"optional system text untranslated", "system:\n  too_many: {en: Wait a minute.}\n", `x.yaml:2:13: system.too_many: missing the "hi" translation`},
		{"apology over a page", "system:\n  apology: {en: " + strings.Repeat("x", 183) + ", hi: x}\n", `x.yaml:2:12: system.apology in "en" is 183 characters; a page holds 182: shorten it`},
		{"too_many over a page", "system:\n  too_many: {en: x, hi: " + strings.Repeat("क", 81) + "}\n", `x.yaml:2:13: system.too_many in "hi" is 81 characters; a page holds 80: shorten it`},
		{"unknown system text", "system:\n  busy: {en: x, hi: x}\n", `x.yaml:2:3: unknown system text "busy"; known: back, home, more, invalid, apology, resume, continue, restart, too_many`},
		{"router loop", "start: a\nscreens:\n  a:\n    type: router\n    routes:\n      - when: {var: x, set: true}\n        goto: e\n    default: b\n  b:\n    type: router\n    default: a\n  e:\n    type: end\n    text: {en: x, hi: x}\n",
			"x.yaml:3:3: screens a -> b -> a loop through routers and actions only, so the caller never gets a screen; send one of them to a menu, input or end screen"},
		{"condition", "screens:\n  a:\n    type: router\n    routes:\n      - when: {var: x, is: y}\n        goto: a\n", `x.yaml:5:24: a condition cannot have "is"; write {var: member.status, eq: active}, ne: or set: true`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, probs := Parse([]Source{{Name: "x.yaml", Data: []byte(c.yaml)}}, testOptions())
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if !contains(got, c.want) {
				t.Errorf("want problem\n  %s\ngot\n  %s", c.want, strings.Join(got, "\n  "))
			}
		})
	}
}

// TestDocsExampleIsValid keeps the worked example in docs/menus.md honest.
func TestDocsExampleIsValid(t *testing.T) {
	b, err := os.ReadFile("../docs/menus.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "```yaml\n")
	if i < 0 {
		t.Fatal("docs/menus.md has no yaml example")
	}
	body := doc[i+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	m, probs := Parse([]Source{{Name: "docs/menus.md example", Data: []byte(body)}}, testOptions())
	if len(probs) > 0 {
		t.Fatalf("the worked example has problems:\n%v", probs)
	}
	if len(m.Screens) < 10 {
		t.Fatalf("example parsed to %d screens", len(m.Screens))
	}
}

// TestFolderIsOneMenuSet: the files of a folder are checked together, so a
// screen defined twice across them is caught with both places.
func TestFolderIsOneMenuSet(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/a.yaml", builtinYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, probs := LoadFiles([]string{dir}, testOptions()); len(probs) > 0 {
		t.Fatalf("one good file: %v", probs)
	}
	extra := "screens:\n  pay_show:\n    type: end\n    text: {en: x, hi: x}\n"
	if err := os.WriteFile(dir+"/b.yml", []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	_, probs := LoadFiles([]string{dir}, testOptions())
	if len(probs) != 1 || !strings.HasPrefix(probs[0].String(), dir+"/b.yml:2:3: screen \"pay_show\" is defined twice (first at "+dir+"/a.yaml:") {
		t.Fatalf("got %v", probs)
	}
}
