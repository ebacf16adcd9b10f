package ussd

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

// Screen kinds. A menu lists choices, an input asks for a value, an action
// calls the domain and routes on its outcome, a router branches on session
// values, and an end screen closes the session.
const (
	KindMenu   = "menu"
	KindInput  = "input"
	KindAction = "action"
	KindRouter = "router"
	KindEnd    = "end"
)

// System text keys every menu set must translate: navigation labels and the
// engine's own screens.
var systemKeys = []string{"back", "home", "more", "invalid", "apology", "resume", "continue", "restart"}

// optionalSystemKeys may be left out; the engine then shows its own English
// text. too_many is the END screen for a phone over ratelimit.ussd_per_minute.
var optionalSystemKeys = []string{"too_many"}

// Pos is where something was written, so that every problem can name
// FILE:LINE:COL.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Problem is one thing wrong with a menu set, as `karyashala menu check` and
// the server print it.
type Problem struct {
	Pos Pos
	Msg string
}

func (p Problem) String() string { return p.Pos.String() + ": " + p.Msg }

// Problems is every problem found in a menu set; as an error it reads one
// problem per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Text is a per-language template such as {en: "Pay {{.pay.balance}}",
// hi: "..."}.
type Text struct {
	Pos  Pos
	Src  map[string]string
	tmpl map[string]*template.Template
	// fixed holds what the templates without actions render to, so that
	// showing them needs no template execution.
	fixed map[string]string
}

// Menus is a loaded, checked menu set. It is immutable once loaded, so the
// engine can swap it atomically on reload.
type Menus struct {
	Start   string
	StartAt Pos
	System  map[string]*Text
	Screens map[string]*Screen
	Files   []string
	broken  map[string]bool // screens defined with errors, not to be reported again as unknown
}

// Screen is one node of the menu graph.
type Screen struct {
	ID   string
	Pos  Pos // of its id
	Kind string
	Text *Text

	// menu
	Items   *Items
	Options []*Option

	// input
	Save     string
	Validate []*Validator
	Next     Ref

	// action
	Action   string
	ActionAt Pos
	With     map[string]*Text // param -> template (language-independent: the "" key)
	WithAt   map[string]Pos
	On       map[string]Ref

	// router
	Routes  []*Route
	Default Ref

	// static: its pages depend on no session value (see markStatic), so
	// the engine keeps them once made.
	static bool
}

// Ref is a reference to a screen id, with where it was written.
type Ref struct {
	ID  string
	Pos Pos
}

// Items are a menu's dynamic choices, read from a named data source each
// time the screen is entered.
type Items struct {
	Source   string
	SourceAt Pos
	Label    *Text
	Set      string
	Goto     Ref
	Empty    *Text
}

// Option is a static menu choice, shown when its condition holds.
type Option struct {
	Label *Text
	Goto  Ref
	When  []*Cond
	Set   map[string]string
}

// Route is one branch of a router.
type Route struct {
	When []*Cond
	Goto Ref
}

// Cond tests one session value: equal to, not equal to, or set at all.
type Cond struct {
	Pos Pos
	Var string
	Op  string // eq, ne, set
	Val string
	Set bool
}

// Validator checks an input; Error is shown with the screen when it fails.
type Validator struct {
	Pos      Pos
	Kind     string // integer, regex, length, one_of
	Min, Max *Text  // integer and length bounds (templates so they can read session values)
	Regex    *regexp.Regexp
	OneOf    []string
	Error    *Text
}

// holds reports whether every condition holds on vars.
func holds(conds []*Cond, vars map[string]string) bool {
	for _, c := range conds {
		v, ok := vars[c.Var]
		switch c.Op {
		case "eq":
			if v != c.Val {
				return false
			}
		case "ne":
			if v == c.Val {
				return false
			}
		case "set":
			if (ok && v != "") != c.Set {
				return false
			}
		}
	}
	return true
}
