package ussd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// yamlBreak is every line break YAML 1.1 (and so yaml.v3) knows.
var yamlBreak = regexp.MustCompile("\r\n|\r|\n|\u0085|\u2028|\u2029")

// minimalMenus is the smallest valid menu set for testOptions.
const minimalMenus = `start: home
system:
  back: {en: "0 Back", hi: "0 पीछे"}
  home: {en: "00 Home", hi: "00 मुख्य"}
  more: {en: "98 More", hi: "98 आगे"}
  invalid: {en: "Not a valid choice.", hi: "गलत विकल्प।"}
  apology: {en: "Sorry.", hi: "माफ़ कीजिए।"}
  resume: {en: "Welcome back.", hi: "फिर से स्वागत है।"}
  continue: {en: "Continue", hi: "जारी रखें"}
  restart: {en: "Start again", hi: "फिर से शुरू"}
screens:
  home:
    type: menu
    text: {en: "Home", hi: "मुख्य"}
    options:
      - label: {en: "Bye", hi: "अलविदा"}
        goto: bye
  bye:
    type: end
    text: {en: "Bye {{.name}}", hi: "अलविदा"}
`

// FuzzMenuParse feeds arbitrary bytes to the menu loader as one file. It
// never panics; it returns menus exactly when it reports no problem; every
// problem is one line naming the file and a LINE:COL inside it; and the same
// bytes give the same problems every time.
func FuzzMenuParse(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every new finding, and on a
	// file the size of the built-in menus that alone outlasts a short run.
	files, _ := filepath.Glob(filepath.Join("testdata", "check", "*.yaml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimalMenus))
	for _, s := range []string{
		// Two screens one edit from the unknown start: the suggestion must
		// not depend on map order.
		"start: homx\nscreens:\n  home: {type: end, text: {en: a, hi: b}}\n  hom: {type: end, text: {en: a, hi: b}}\n",
		"", "\n", "start: home", "screens: [1, 2]", "start: [a]\nstart: b\n", "screens:\n  home:\n    type: menu\n\ttext: x\n",
		"screens:\n  a: &x {type: end, text: {en: \"{{.a\"}}\n  b: *x\n", "system:\n  back: {en: \"\\u2028\"}\n", "\xef\xbb\xbfstart: home\r\nscreens: {}\r\n",
		"screens:\n  h:\n    type: input\n    validate:\n      - regex: \"(\"\n        error: {en: x}\n", "- a\n- b\n", "{{{", "start: home\nscreens:\n  home: {type: end, text: {en: \"x\n\ny\", hi: \"é\"}}\n",
	} {
		f.Add([]byte(s))
	}
	opt := testOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		m, probs := Parse([]Source{{Name: name, Data: data}}, opt)
		if (m == nil) != (len(probs) > 0) {
			t.Fatalf("menus %v with %d problems: menus come back exactly when there is no problem", m != nil, len(probs))
		}
		lines := yamlBreak.Split(string(data), -1)
		for _, p := range probs {
			if p.Pos.File != name {
				t.Errorf("%s: names file %q, not %q", p, p.Pos.File, name)
			}
			if p.Msg == "" || strings.ContainsAny(p.Msg, "\r\n") {
				t.Errorf("problem message %q is not one line", p.Msg)
			}
			if p.Pos.Line < 1 || p.Pos.Line > len(lines) {
				t.Errorf("%s: line %d is outside the file's %d lines", p, p.Pos.Line, len(lines))
				continue
			}
			if n := utf8.RuneCountInString(lines[p.Pos.Line-1]); p.Pos.Col < 1 || p.Pos.Col > n+1 {
				t.Errorf("%s: column %d is outside line %d of %d characters", p, p.Pos.Col, p.Pos.Line, n)
			}
		}
		if _, again := Parse([]Source{{Name: name, Data: data}}, opt); again.Error() != probs.Error() {
			t.Errorf("the same file gave different problems:\n%v\nthen:\n%v", probs, again)
		}
	})
}
