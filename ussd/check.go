package ussd

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Options are what a menu set is checked against.
type Options struct {
	Languages []string // every text must have each; the first is the default
	Limits    Limits
	Registry  *Registry
}

// actionRE matches a template action, removed to measure a text's fixed part.
var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// check finds every semantic problem of a parsed menu set.
func check(m *Menus, opt Options) Problems {
	c := &checker{m: m, opt: opt}
	c.run()
	return c.probs
}

type checker struct {
	m     *Menus
	opt   Options
	probs Problems
}

func (c *checker) errf(p Pos, format string, args ...any) {
	c.probs = append(c.probs, Problem{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) firstFile() Pos {
	f := ""
	if len(c.m.Files) > 0 {
		f = c.m.Files[0]
	}
	return Pos{File: f, Line: 1, Col: 1}
}

func (c *checker) run() {
	m := c.m
	if m.Start == "" {
		c.errf(c.firstFile(), "no start screen; add start: SCREEN_ID to one file")
	} else if _, ok := m.Screens[m.Start]; !ok {
		c.errf(m.StartAt, "start screen %q is not defined%s", m.Start, c.suggest(m.Start))
	}
	for _, k := range systemKeys {
		t, ok := m.System[k]
		if !ok {
			c.errf(c.firstFile(), "system text %q is missing; add it under system: in every language", k)
			continue
		}
		c.translated(t, "system."+k)
	}
	for _, k := range optionalSystemKeys {
		c.translated(m.System[k], "system."+k)
	}
	// The engine's END screens are shown as written, on one page.
	for _, k := range []string{"apology", "too_many"} {
		c.fits(m.System[k], "system."+k, "", false)
	}
	ids := make([]string, 0, len(m.Screens))
	for id := range m.Screens {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c.screen(m.Screens[id])
	}
	c.reachable()
	c.loops()
}

// loops reports each cycle of screens that passes only through routers and
// actions: the engine would run it without a screen for the caller, until
// it gave up with the apology (and the actions ran each time round).
func (c *checker) loops() {
	passing := func(s *Screen) bool { return s != nil && (s.Kind == KindRouter || s.Kind == KindAction) }
	ids := make([]string, 0, len(c.m.Screens))
	for id, s := range c.m.Screens {
		if passing(s) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(id string)
	visit = func(id string) {
		mark[id] = onPath
		path = append(path, id)
		next := targets(c.m.Screens[id])
		sort.Strings(next)
		for _, t := range slices.Compact(next) {
			if !passing(c.m.Screens[t]) {
				continue
			}
			switch mark[t] {
			case unseen:
				visit(t)
			case onPath:
				cycle := append(slices.Clone(path[slices.Index(path, t):]), t)
				c.errf(c.m.Screens[t].Pos, "screens %s loop through routers and actions only, so the caller never gets a screen; send one of them to a menu, input or end screen", strings.Join(cycle, " -> "))
			}
		}
		path = path[:len(path)-1]
		mark[id] = done
	}
	for _, id := range ids {
		if mark[id] == unseen {
			visit(id)
		}
	}
}

// suggest offers the closest screen id, if any, for a typo.
func (c *checker) suggest(id string) string {
	best, bestD := "", 3
	for other := range c.m.Screens {
		if d := levenshtein.ComputeDistance(id, other); d < bestD || d == bestD && other < best {
			best, bestD = other, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func (c *checker) ref(r Ref, what string) {
	if r.ID == "" || c.m.broken[r.ID] {
		return
	}
	if _, ok := c.m.Screens[r.ID]; !ok {
		c.errf(r.Pos, "%s: unknown screen %q%s", what, r.ID, c.suggest(r.ID))
	}
}

// translated reports each configured language a text lacks.
func (c *checker) translated(t *Text, what string) {
	if t == nil {
		return
	}
	for _, l := range c.opt.Languages {
		if strings.TrimSpace(t.Src[l]) == "" {
			c.errf(t.Pos, "%s: missing the %q translation", what, l)
		}
	}
}

// fits reports a text whose fixed part alone, with the navigation line,
// cannot fit a page in some language.
func (c *checker) fits(t *Text, what, prefix string, withNav bool) {
	if t == nil || c.opt.Limits.MaxGSM7 == 0 {
		return
	}
	for _, l := range c.opt.Languages {
		src, ok := t.Src[l]
		if !ok {
			continue
		}
		fixed := prefix + actionRE.ReplaceAllString(src, "")
		var n nav
		if withNav {
			n = nav{back: c.sys("back", l), home: c.sys("home", l)}
		}
		page := joinPage([]string{fixed}, n)
		if n, max := c.opt.Limits.Measure(page); n > max {
			navNote := ""
			if withNav {
				navNote = " with the navigation line"
			}
			c.errf(t.Pos, "%s in %q is %d characters%s; a page holds %d: shorten it", what, l, n, navNote, max)
		}
	}
}

func (c *checker) sys(key, lang string) string {
	if t := c.m.System[key]; t != nil {
		return t.Src[lang]
	}
	return ""
}

func (c *checker) screen(s *Screen) {
	what := "screen " + s.ID
	c.translated(s.Text, what+" text")
	switch s.Kind {
	case KindMenu, KindInput, KindEnd:
		if s.Text == nil {
			c.errf(s.Pos, "%s: a %s screen needs text", what, s.Kind)
		}
		c.fits(s.Text, what+" text", "", s.Kind != KindEnd)
	}
	switch s.Kind {
	case KindMenu:
		if it := s.Items; it != nil {
			if c.opt.Registry != nil && it.Source != "" && c.opt.Registry.Source(it.Source) == nil {
				c.errf(it.SourceAt, "%s: unknown data source %q; known: %s", what, it.Source, strings.Join(c.opt.Registry.SourceNames(), ", "))
			}
			c.translated(it.Label, what+" items label")
			c.fits(it.Label, what+" items label", "10. ", true)
			c.translated(it.Empty, what+" items empty")
			c.fits(it.Empty, what+" items empty", "", true)
			c.ref(it.Goto, what+" items goto")
		}
		for i, o := range s.Options {
			w := fmt.Sprintf("%s option %d", what, i+1)
			c.translated(o.Label, w+" label")
			c.fits(o.Label, w+" label", "10. ", true)
			c.ref(o.Goto, w+" goto")
		}
	case KindInput:
		if s.Save == "" {
			c.errf(s.Pos, "%s: an input needs save: the variable to keep the answer in", what)
		}
		if s.Next.ID == "" {
			c.errf(s.Pos, "%s: an input needs next: the screen after a valid answer", what)
		}
		c.ref(s.Next, what+" next")
		for i, v := range s.Validate {
			c.translated(v.Error, fmt.Sprintf("%s validate %d error", what, i+1))
		}
	case KindAction:
		c.action(s, what)
	case KindRouter:
		if len(s.Routes) == 0 {
			c.errf(s.Pos, "%s: a router needs routes", what)
		}
		for i, r := range s.Routes {
			c.ref(r.Goto, fmt.Sprintf("%s route %d goto", what, i+1))
		}
		if s.Default.ID == "" {
			c.errf(s.Pos, "%s: a router needs default: the screen when no route matches", what)
		}
		c.ref(s.Default, what+" default")
	}
}

func (c *checker) action(s *Screen, what string) {
	if s.Action == "" {
		c.errf(s.Pos, "%s: an action screen needs action: NAME", what)
		return
	}
	for out, r := range s.On {
		c.ref(r, what+" on "+out)
	}
	if c.opt.Registry == nil {
		return
	}
	a := c.opt.Registry.ActionByName(s.Action)
	if a == nil {
		c.errf(s.ActionAt, "%s: unknown action %q; known: %s", what, s.Action, strings.Join(c.opt.Registry.ActionNames(), ", "))
		return
	}
	names := make([]string, 0, len(s.With))
	for n := range s.With {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !contains(a.Params, n) && !contains(a.Optional, n) {
			c.errf(s.WithAt[n], "%s: action %s has no parameter %q; it takes %s", what, a.Name, n, strings.Join(append(append([]string{}, a.Params...), a.Optional...), ", "))
		}
	}
	for _, p := range a.Params {
		if _, ok := s.With[p]; !ok {
			c.errf(s.ActionAt, "%s: action %s needs parameter %q under with:", what, a.Name, p)
		}
	}
	outs := make([]string, 0, len(s.On))
	for o := range s.On {
		outs = append(outs, o)
	}
	sort.Strings(outs)
	for _, o := range outs {
		if o != "default" && !contains(a.Outcomes, o) {
			c.errf(s.On[o].Pos, "%s: action %s has no outcome %q; its outcomes are %s", what, a.Name, o, strings.Join(a.Outcomes, ", "))
		}
	}
	if _, ok := s.On["default"]; !ok {
		var missing []string
		for _, o := range a.Outcomes {
			if _, ok := s.On[o]; !ok && s.On[a.Instead[o]].ID == "" {
				missing = append(missing, o)
			}
		}
		if len(missing) > 0 {
			c.errf(s.ActionAt, "%s: outcomes %s of action %s lead nowhere; route them under on: or add default:", what, strings.Join(missing, ", "), a.Name)
		}
	}
}

// targets lists the screens s can lead to.
func targets(s *Screen) []string {
	var out []string
	add := func(r Ref) {
		if r.ID != "" {
			out = append(out, r.ID)
		}
	}
	if s.Items != nil {
		add(s.Items.Goto)
	}
	for _, o := range s.Options {
		add(o.Goto)
	}
	add(s.Next)
	for _, r := range s.On {
		add(r)
	}
	for _, r := range s.Routes {
		add(r.Goto)
	}
	add(s.Default)
	return out
}

func (c *checker) reachable() {
	if _, ok := c.m.Screens[c.m.Start]; !ok {
		return
	}
	seen := c.walk(c.m.Start, map[string]bool{})
	// Report each unreachable part once, at its entry: first the screens
	// nothing links to, then (for cycles) the earliest remaining one.
	var lost []*Screen
	linked := map[string]bool{}
	for id, s := range c.m.Screens {
		if !seen[id] {
			lost = append(lost, s)
		}
		for _, t := range targets(s) {
			if t != id {
				linked[t] = true
			}
		}
	}
	sort.Slice(lost, func(i, j int) bool {
		a, b := lost[i].Pos, lost[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	for pass := 0; pass < 2; pass++ {
		for _, s := range lost {
			if seen[s.ID] || (pass == 0 && linked[s.ID]) {
				continue
			}
			c.errf(s.Pos, "screen %s is unreachable from start screen %s; link to it or remove it", s.ID, c.m.Start)
			c.walk(s.ID, seen)
		}
	}
}

// walk marks every screen reachable from id in seen.
func (c *checker) walk(id string, seen map[string]bool) map[string]bool {
	seen[id] = true
	queue := []string{id}
	for len(queue) > 0 {
		s := c.m.Screens[queue[0]]
		queue = queue[1:]
		if s == nil {
			continue
		}
		for _, t := range targets(s) {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	return seen
}
