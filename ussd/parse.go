package ussd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"gopkg.in/yaml.v3"
)

// yamlLineRE finds the line number in yaml.v3's syntax errors, which carry no
// column ("yaml: line 7: did not find expected key").
var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// MenuFiles expands paths (files, or folders whose *.yaml and *.yml files are
// taken in name order) into the list of menu files they name.
func MenuFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("menus %s: %w", p, err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("menus %s: the folder has no .yaml files", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// LoadFiles reads and checks a menu set from files and folders. The menu set
// is nil whenever there is any problem.
func LoadFiles(paths []string, opt Options) (*Menus, Problems) {
	files, err := MenuFiles(paths)
	if err != nil {
		return nil, Problems{{Pos: Pos{File: strings.Join(paths, ","), Line: 1, Col: 1}, Msg: err.Error()}}
	}
	srcs := make([]Source, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, Problems{{Pos: Pos{File: f, Line: 1, Col: 1}, Msg: fmt.Sprintf("cannot read: %v", err)}}
		}
		srcs = append(srcs, Source{Name: f, Data: b})
	}
	return Parse(srcs, opt)
}

// Source is one menu file's name and content.
type Source struct {
	Name string
	Data []byte
}

// Parse reads the sources as one menu set and checks it against opt: the
// configured languages, the page limits and the registry's data sources and
// actions. It returns the menus only when there are no problems.
func Parse(srcs []Source, opt Options) (*Menus, Problems) {
	m := &Menus{System: map[string]*Text{}, Screens: map[string]*Screen{}, broken: map[string]bool{}}
	var probs Problems
	unreadable := false
	for _, s := range srcs {
		m.Files = append(m.Files, s.Name)
		p := &parser{file: s.Name, m: m}
		p.parse(s.Data)
		probs = append(probs, p.probs...)
		unreadable = unreadable || p.syntax
	}
	// Check the meaning too, unless a file could not be read at all (then
	// every reference into it would be reported as well).
	if !unreadable {
		probs = append(probs, check(m, opt)...)
	}
	probs.sort()
	if len(probs) > 0 {
		return nil, probs
	}
	m.markStatic()
	return m, nil
}

// isParserError reports whether a yaml.v3 message comes from its parser,
// whose line numbers are zero-based, rather than its scanner.
func isParserError(msg string) bool {
	for _, p := range []string{"did not find expected key", "did not find expected ','", "did not find expected node content",
		"did not find expected '-' indicator", "did not find expected <document start>"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// lineCount is how many lines yaml.v3 sees in data: it breaks lines at
// "\r\n", "\r", "\n", NEL, LS and PS.
func lineCount(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, brk := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		n += strings.Count(s, brk)
	}
	return n
}

type parser struct {
	file   string
	m      *Menus
	probs  Problems
	syntax bool // the file is not YAML
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	p.probs = append(p.probs, Problem{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(data []byte) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, err.Error()
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			if sm := yamlLineRE.FindStringSubmatch(msg); sm != nil {
				if sm[1] != "" {
					line, _ = strconv.Atoi(sm[1])
				}
				msg = sm[2]
				if isParserError(msg) {
					line++ // yaml.v3 counts parser (not scanner) error lines from 0
				}
				// At the end of a file with no final line break yaml.v3
				// names the line after the last.
				line = min(line, lineCount(data))
			}
		}
		p.probs = append(p.probs, Problem{Pos: Pos{File: p.file, Line: line, Col: 1}, Msg: "YAML syntax: " + msg})
		p.syntax = true
		return
	}
	if len(doc.Content) == 0 {
		p.probs = append(p.probs, Problem{Pos: Pos{File: p.file, Line: 1, Col: 1}, Msg: "the file is empty; it needs at least screens:"})
		return
	}
	root := doc.Content[0]
	if !p.isMap(root, "a menu file") {
		return
	}
	p.pairs(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "start":
			if p.m.Start != "" {
				p.errf(k, "start is set twice (first at %s); keep one", p.m.StartAt)
				return
			}
			p.m.Start = p.scalar(v, "start")
			p.m.StartAt = p.pos(v)
		case "system":
			if !p.isMap(v, "system") {
				return
			}
			p.pairs(v, func(k2, v2 *yaml.Node) {
				if !contains(systemKeys, k2.Value) && !contains(optionalSystemKeys, k2.Value) {
					p.errf(k2, "unknown system text %q; known: %s", k2.Value, strings.Join(slices.Concat(systemKeys, optionalSystemKeys), ", "))
					return
				}
				if _, dup := p.m.System[k2.Value]; dup {
					p.errf(k2, "system text %q is defined twice", k2.Value)
					return
				}
				p.m.System[k2.Value] = p.text(v2)
			})
		case "screens":
			if !p.isMap(v, "screens") {
				return
			}
			p.pairs(v, func(k2, v2 *yaml.Node) {
				if prev, dup := p.m.Screens[k2.Value]; dup {
					p.errf(k2, "screen %q is defined twice (first at %s); rename one", k2.Value, prev.Pos)
					return
				}
				if s := p.screen(k2, v2); s != nil {
					p.m.Screens[s.ID] = s
				} else {
					p.m.broken[k2.Value] = true
				}
			})
		default:
			p.errf(k, "unknown key %q; a menu file has start, system and screens", k.Value)
		}
	})
}

func (p *parser) isMap(n *yaml.Node, what string) bool {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping (key: value lines)", what)
		return false
	}
	return true
}

func (p *parser) pairs(n *yaml.Node, fn func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

func (p *parser) scalar(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a single value", what)
		return ""
	}
	return n.Value
}

func (p *parser) ref(n *yaml.Node, what string) Ref {
	return Ref{ID: p.scalar(n, what), Pos: p.pos(n)}
}

// text reads {lang: template, ...}.
func (p *parser) text(n *yaml.Node) *Text {
	t := &Text{Pos: p.pos(n), Src: map[string]string{}, tmpl: map[string]*template.Template{}}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "a text must be one line per language, e.g. {en: \"Hello\", hi: \"नमस्ते\"}")
		return t
	}
	p.pairs(n, func(k, v *yaml.Node) {
		s := p.scalar(v, "text for "+k.Value)
		t.Src[k.Value] = s
		tm, err := parseTemplate(s)
		if err != nil {
			p.errf(v, "template: %s", templateErr(err))
			return
		}
		t.setTemplate(k.Value, tm)
	})
	return t
}

// plain reads one language-independent template (action parameters, bounds).
func (p *parser) plain(n *yaml.Node, what string) *Text {
	t := &Text{Pos: p.pos(n), Src: map[string]string{}, tmpl: map[string]*template.Template{}}
	s := p.scalar(n, what)
	tm, err := parseTemplate(s)
	if err != nil {
		p.errf(n, "template: %s", templateErr(err))
		return t
	}
	t.Src[""] = s
	t.setTemplate("", tm)
	return t
}

func parseTemplate(s string) (*template.Template, error) {
	return template.New("").Option("missingkey=zero").Parse(s)
}

// setTemplate sets the template for lang, noting what it renders to when it
// is only text.
func (t *Text) setTemplate(lang string, tm *template.Template) {
	t.tmpl[lang] = tm
	if tm.Tree == nil || tm.Tree.Root == nil {
		return
	}
	var b strings.Builder
	for _, n := range tm.Tree.Root.Nodes {
		tn, ok := n.(*parse.TextNode)
		if !ok {
			return
		}
		b.Write(tn.Text)
	}
	if t.fixed == nil {
		t.fixed = map[string]string{}
	}
	t.fixed[lang] = strings.ReplaceAll(b.String(), "<no value>", "")
}

func templateErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "template: ") && i >= 0 {
		s = strings.TrimPrefix(s, "template: ")
		// "…:1: unexpected …" -> "unexpected …"
		if j := strings.Index(s, ": "); j >= 0 {
			s = s[j+2:]
		}
	}
	return s
}

var screenFields = map[string][]string{
	KindMenu:   {"type", "text", "items", "options"},
	KindInput:  {"type", "text", "save", "validate", "next"},
	KindAction: {"type", "action", "with", "save", "on"},
	KindRouter: {"type", "routes", "default"},
	KindEnd:    {"type", "text"},
}

func (p *parser) screen(k, v *yaml.Node) *Screen {
	s := &Screen{ID: k.Value, Pos: p.pos(k)}
	if !idRE.MatchString(s.ID) {
		p.errf(k, "screen id %q: use letters, digits and _ only", s.ID)
	}
	if !p.isMap(v, "screen "+s.ID) {
		return nil
	}
	var typeNode *yaml.Node
	p.pairs(v, func(k2, v2 *yaml.Node) {
		if k2.Value == "type" {
			typeNode = v2
		}
	})
	if typeNode == nil {
		p.errf(k, "screen %q has no type; use one of menu, input, action, router, end", s.ID)
		return nil
	}
	s.Kind = p.scalar(typeNode, "type")
	fields, ok := screenFields[s.Kind]
	if !ok {
		p.errf(typeNode, "unknown screen type %q; use one of menu, input, action, router, end", s.Kind)
		return nil
	}
	p.pairs(v, func(k2, v2 *yaml.Node) {
		if !contains(fields, k2.Value) {
			p.errf(k2, "%s screen %q cannot have %q; it takes %s", s.Kind, s.ID, k2.Value, strings.Join(fields, ", "))
			return
		}
		switch k2.Value {
		case "text":
			s.Text = p.text(v2)
		case "items":
			s.Items = p.items(v2)
		case "options":
			if v2.Kind != yaml.SequenceNode {
				p.errf(v2, "options must be a list of {label, goto}")
				return
			}
			for _, o := range v2.Content {
				if opt := p.option(o); opt != nil {
					s.Options = append(s.Options, opt)
				}
			}
		case "save":
			s.Save = p.scalar(v2, "save")
			if s.Save != "" && !varRE.MatchString(s.Save) {
				p.errf(v2, "save: %q is not a variable name; use letters, digits and _", s.Save)
			}
		case "validate":
			if v2.Kind != yaml.SequenceNode {
				p.errf(v2, "validate must be a list of rules such as {integer: {min: 1, max: 100}, error: {...}}")
				return
			}
			for _, r := range v2.Content {
				if val := p.validator(r); val != nil {
					s.Validate = append(s.Validate, val)
				}
			}
		case "next":
			s.Next = p.ref(v2, "next")
		case "action":
			s.Action = p.scalar(v2, "action")
			s.ActionAt = p.pos(v2)
		case "with":
			if !p.isMap(v2, "with") {
				return
			}
			s.With, s.WithAt = map[string]*Text{}, map[string]Pos{}
			p.pairs(v2, func(k3, v3 *yaml.Node) {
				s.With[k3.Value] = p.plain(v3, "with."+k3.Value)
				s.WithAt[k3.Value] = p.pos(k3)
			})
		case "on":
			if !p.isMap(v2, "on") {
				return
			}
			s.On = map[string]Ref{}
			p.pairs(v2, func(k3, v3 *yaml.Node) {
				s.On[k3.Value] = Ref{ID: p.scalar(v3, "on."+k3.Value), Pos: p.pos(v3)}
			})
		case "routes":
			if v2.Kind != yaml.SequenceNode {
				p.errf(v2, "routes must be a list of {when, goto}")
				return
			}
			for _, r := range v2.Content {
				if rt := p.route(r); rt != nil {
					s.Routes = append(s.Routes, rt)
				}
			}
		case "default":
			s.Default = p.ref(v2, "default")
		}
	})
	return s
}

var (
	idRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	varRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$`)
)

func (p *parser) items(n *yaml.Node) *Items {
	it := &Items{}
	if !p.isMap(n, "items") {
		return it
	}
	p.pairs(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "source":
			it.Source = p.scalar(v, "source")
			it.SourceAt = p.pos(v)
		case "label":
			it.Label = p.text(v)
		case "set":
			it.Set = p.scalar(v, "set")
			if !varRE.MatchString(it.Set) {
				p.errf(v, "set: %q is not a variable name", it.Set)
			}
		case "goto":
			it.Goto = p.ref(v, "goto")
		case "empty":
			it.Empty = p.text(v)
		default:
			p.errf(k, "items cannot have %q; it takes source, label, set, goto, empty", k.Value)
		}
	})
	switch {
	case it.Source == "":
		p.errf(n, "items need a source (a data source name such as open_tasks)")
	case it.Label == nil:
		p.errf(n, "items need a label, e.g. {en: \"{{.title}}\", hi: \"{{.title}}\"}")
	case it.Goto.ID == "":
		p.errf(n, "items need goto: the screen a chosen item leads to")
	}
	return it
}

func (p *parser) option(n *yaml.Node) *Option {
	if !p.isMap(n, "an option") {
		return nil
	}
	o := &Option{}
	p.pairs(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "label":
			o.Label = p.text(v)
		case "goto":
			o.Goto = p.ref(v, "goto")
		case "when":
			o.When = p.conds(v)
		case "set":
			if !p.isMap(v, "set") {
				return
			}
			o.Set = map[string]string{}
			p.pairs(v, func(k2, v2 *yaml.Node) {
				if !varRE.MatchString(k2.Value) {
					p.errf(k2, "set: %q is not a variable name", k2.Value)
				}
				o.Set[k2.Value] = p.scalar(v2, "set."+k2.Value)
			})
		default:
			p.errf(k, "an option cannot have %q; it takes label, goto, when, set", k.Value)
		}
	})
	if o.Label == nil || o.Goto.ID == "" {
		p.errf(n, "an option needs a label and a goto")
		return nil
	}
	return o
}

func (p *parser) route(n *yaml.Node) *Route {
	if !p.isMap(n, "a route") {
		return nil
	}
	r := &Route{}
	p.pairs(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "when":
			r.When = p.conds(v)
		case "goto":
			r.Goto = p.ref(v, "goto")
		default:
			p.errf(k, "a route cannot have %q; it takes when and goto", k.Value)
		}
	})
	if r.Goto.ID == "" || len(r.When) == 0 {
		p.errf(n, "a route needs when and goto")
		return nil
	}
	return r
}

// conds reads one condition {var: x, eq: y} or a list of them (all must hold).
func (p *parser) conds(n *yaml.Node) []*Cond {
	if n.Kind == yaml.SequenceNode {
		var out []*Cond
		for _, c := range n.Content {
			out = append(out, p.conds(c)...)
		}
		return out
	}
	if !p.isMap(n, "a condition") {
		return nil
	}
	c := &Cond{Pos: p.pos(n)}
	p.pairs(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "var":
			c.Var = p.scalar(v, "var")
		case "eq", "ne":
			if c.Op != "" {
				p.errf(k, "a condition takes one of eq, ne, set")
			}
			c.Op, c.Val = k.Value, p.scalar(v, k.Value)
		case "set":
			if c.Op != "" {
				p.errf(k, "a condition takes one of eq, ne, set")
			}
			b, err := strconv.ParseBool(p.scalar(v, "set"))
			if err != nil {
				p.errf(v, "set: write true or false")
			}
			c.Op, c.Set = "set", b
		default:
			p.errf(k, "a condition cannot have %q; write {var: member.status, eq: active}, ne: or set: true", k.Value)
		}
	})
	if c.Var == "" || c.Op == "" {
		p.errf(n, "a condition needs var and one of eq, ne, set")
		return nil
	}
	return []*Cond{c}
}

func (p *parser) validator(n *yaml.Node) *Validator {
	if !p.isMap(n, "a validation rule") {
		return nil
	}
	val := &Validator{Pos: p.pos(n)}
	p.pairs(n, func(k, v *yaml.Node) {
		switch k.Value {
		case "integer", "length":
			if val.Kind != "" {
				p.errf(k, "one rule per list entry; move %q to its own entry", k.Value)
				return
			}
			val.Kind = k.Value
			if !p.isMap(v, k.Value) {
				return
			}
			p.pairs(v, func(k2, v2 *yaml.Node) {
				switch k2.Value {
				case "min":
					val.Min = p.plain(v2, "min")
				case "max":
					val.Max = p.plain(v2, "max")
				default:
					p.errf(k2, "%s takes min and max", k.Value)
				}
			})
			if val.Min == nil && val.Max == nil {
				p.errf(v, "%s needs min, max or both", k.Value)
			}
		case "regex":
			if val.Kind != "" {
				p.errf(k, "one rule per list entry; move %q to its own entry", k.Value)
				return
			}
			val.Kind = "regex"
			re, err := regexp.Compile(p.scalar(v, "regex"))
			if err != nil {
				p.errf(v, "regex: %v", err)
				return
			}
			val.Regex = re
		case "one_of":
			if val.Kind != "" {
				p.errf(k, "one rule per list entry; move %q to its own entry", k.Value)
				return
			}
			val.Kind = "one_of"
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				p.errf(v, "one_of must be a list of allowed answers")
				return
			}
			for _, c := range v.Content {
				val.OneOf = append(val.OneOf, p.scalar(c, "one_of"))
			}
		case "error":
			val.Error = p.text(v)
		default:
			p.errf(k, "unknown validation rule %q; use integer, length, regex or one_of with an error", k.Value)
		}
	})
	if val.Kind == "" {
		p.errf(n, "a validation rule needs one of integer, length, regex, one_of")
		return nil
	}
	if val.Error == nil {
		p.errf(n, "a validation rule needs an error text telling the person what to type")
	}
	return val
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
