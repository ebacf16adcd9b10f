package keywords

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong in a keyword file, where it is.
type Problem struct {
	File    string
	Line    int
	Col     int
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Problems are every problem found in a keyword file, so that one run of the
// check shows all of them.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// replyVars lists, for every reply, the placeholders it may use; the ones in
// required must appear (a complaint's reply must carry its reference).
var replyVars = map[string]struct{ allowed, required []string }{
	"help":               {},
	"complaint_created":  {[]string{"ref"}, []string{"ref"}},
	"proposal_created":   {[]string{"ref"}, []string{"ref"}},
	"complaint_usage":    {},
	"proposal_usage":     {},
	"status":             {[]string{"ref", "status"}, []string{"status"}},
	"status_note":        {[]string{"ref", "status", "note"}, []string{"status", "note"}},
	"status_usage":       {},
	"status_not_found":   {[]string{"ref"}, nil},
	"state_new":          {},
	"state_acknowledged": {},
	"state_in_progress":  {},
	"state_resolved":     {},
	"state_rejected":     {},
	"state_duplicate":    {},
	"pay":                {[]string{"currency", "earned", "approved", "paid", "balance"}, []string{"balance"}},
	"pay_not_member":     {},
	"stop":               {},
	"start":              {},
	"leader_only":        {[]string{"keyword"}, nil},
	"leader_usage":       {[]string{"keyword"}, nil},
	"leader_done":        {[]string{"ref", "status"}, nil},
	"leader_noted":       {[]string{"ref"}, nil},
	// the same, when the reporter sent STOP and so is not told
	"leader_done_opted_out":  {[]string{"ref", "status"}, nil},
	"leader_noted_opted_out": {[]string{"ref"}, nil},
	"leader_not_found":       {[]string{"ref"}, nil},
	"leader_closed":          {[]string{"ref", "status"}, nil},
	"leader_already":         {[]string{"ref", "status"}, nil},
	"leader_long_note":       {[]string{"keyword", "ref", "max"}, []string{"max"}},
	"notify":                 {[]string{"ref", "status"}, []string{"ref", "status"}},
	"notify_note":            {[]string{"ref", "status", "note"}, []string{"ref", "status", "note"}},
	"error":                  {},
}

// ReplyKeys lists every reply a keyword file must give in each language.
func ReplyKeys() []string {
	keys := make([]string, 0, len(replyVars))
	for k := range replyVars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// loader walks the YAML nodes, collecting problems with their positions.
type loader struct {
	file     string
	langs    []string
	problems Problems
	set      *Set
	seen     map[string]*yaml.Node // normalised keyword -> where it was first listed
	fallback map[string]map[string]string
}

func (l *loader) bad(n *yaml.Node, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: l.file, Line: n.Line, Col: n.Column, Message: fmt.Sprintf(format, args...)})
}

// Parse validates a keyword set read from data (name locates problems) for
// the configured languages; keywords of languages not configured are
// ignored, replies must cover every configured one.
func Parse(name string, data []byte, languages []string) (*Set, error) {
	return parse(name, data, languages, nil)
}

// parse is Parse with replies to fall back on, by language and key, for
// the ones the file lacks.
func parse(name string, data []byte, languages []string, fallback map[string]map[string]string) (*Set, error) {
	if len(languages) == 0 {
		return nil, fmt.Errorf("keywords: no languages configured; set languages, e.g. [en, hi]")
	}
	l := &loader{file: name, langs: languages, fallback: fallback, seen: map[string]*yaml.Node{}, set: &Set{
		langs:   slices.Clone(languages),
		exact:   map[string]entry{},
		replies: map[string]map[string]string{},
	}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, err.Error()
		if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
			msg = te.Errors[0]
		}
		fmt.Sscanf(strings.TrimPrefix(msg, "yaml: "), "line %d:", &line)
		return nil, Problems{{File: name, Line: line, Col: 1, Message: strings.TrimPrefix(msg, "yaml: ")}}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: 1, Col: 1, Message: "expected a mapping with commands: and replies:"}}
	}
	root := doc.Content[0]
	var cmds, replies *yaml.Node
	l.mapping(root, func(k, v *yaml.Node) {
		switch k.Value {
		case "commands":
			cmds = v
		case "replies":
			replies = v
		default:
			l.bad(k, "unknown key %q; a keyword file has commands: and replies:", k.Value)
		}
	})
	if cmds == nil {
		l.bad(root, "commands: missing; list the keywords of every command")
	} else {
		l.commands(cmds)
	}
	if replies == nil {
		l.bad(root, "replies: missing; give the reply templates for every language in %v", languages)
	} else {
		l.replies(replies)
	}
	if len(l.problems) > 0 {
		return nil, l.problems
	}
	return l.set, nil
}

// mapping calls fn for each key and value of a mapping node, reporting
// duplicate keys and non-mappings.
func (l *loader) mapping(n *yaml.Node, fn func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		l.bad(n, "expected a mapping")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			l.bad(k, "%q is listed twice", k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k, v)
	}
}

func (l *loader) commands(n *yaml.Node) {
	covered := map[string]bool{}
	l.mapping(n, func(k, v *yaml.Node) {
		if !slices.Contains(commands, k.Value) {
			l.bad(k, "unknown command %q; commands are %s", k.Value, strings.Join(commands, ", "))
			return
		}
		l.mapping(v, func(lk, lv *yaml.Node) {
			if lv.Kind != yaml.SequenceNode {
				l.bad(lv, "expected a list of keywords, e.g. [%s]", strings.ToUpper(k.Value))
				return
			}
			lang, configured := lk.Value, slices.Contains(l.langs, lk.Value)
			if lang == AnyLanguage {
				lang, configured = "", true
			}
			for _, kw := range lv.Content {
				if l.keyword(k.Value, lang, kw, configured) {
					covered[k.Value] = true
				}
			}
		})
	})
	for _, c := range commands {
		if !covered[c] {
			l.bad(n, "command %s has no keyword in any configured language %v", c, l.langs)
		}
	}
}

// keyword checks and adds one keyword; it reports whether it was added.
func (l *loader) keyword(command, lang string, n *yaml.Node, configured bool) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!bool" {
		l.bad(n, "a keyword is one word, e.g. %s", strings.ToUpper(command))
		return false
	}
	word, rest := split(n.Value)
	if word == "" || rest != "" || word != strings.TrimSpace(n.Value) {
		l.bad(n, "keyword %q must be one word of letters or digits, without spaces or punctuation", n.Value)
		return false
	}
	key := Normalize(word)
	if first, dup := l.seen[key]; dup {
		l.bad(n, "keyword %q is already listed at line %d; a word can select only one command in one language", n.Value, first.Line)
		return false
	}
	l.seen[key] = n
	if !configured {
		return false
	}
	e := entry{command: command, keyword: word, lang: lang, norm: key, runes: len([]rune(key))}
	l.set.exact[key] = e
	l.set.entries = append(l.set.entries, e)
	return true
}

func (l *loader) replies(n *yaml.Node) {
	found := map[string]bool{}
	l.mapping(n, func(lk, lv *yaml.Node) {
		if !slices.Contains(l.langs, lk.Value) {
			return // a language not configured: its replies are never sent
		}
		found[lk.Value] = true
		t := map[string]string{}
		l.mapping(lv, func(k, v *yaml.Node) {
			spec, ok := replyVars[k.Value]
			if !ok {
				l.bad(k, "unknown reply %q; replies are %s", k.Value, strings.Join(ReplyKeys(), ", "))
				return
			}
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				l.bad(v, "reply %s must be a non-empty text", k.Value)
				return
			}
			used := map[string]bool{}
			for _, m := range placeholderRE.FindAllStringSubmatch(v.Value, -1) {
				if !slices.Contains(spec.allowed, m[1]) {
					if len(spec.allowed) == 0 {
						l.bad(v, "reply %s takes no placeholders, found {%s}", k.Value, m[1])
					} else {
						l.bad(v, "reply %s: unknown placeholder {%s}; use %s", k.Value, m[1], braces(spec.allowed))
					}
				}
				used[m[1]] = true
			}
			for _, r := range spec.required {
				if !used[r] {
					l.bad(v, "reply %s must contain {%s}", k.Value, r)
				}
			}
			t[k.Value] = v.Value
		})
		var missing []string
		for _, key := range ReplyKeys() {
			if _, ok := t[key]; ok {
				continue
			}
			if text, ok := l.fallback[lk.Value][key]; ok {
				t[key] = text
				continue
			}
			missing = append(missing, key)
		}
		if len(missing) > 0 && lv.Kind == yaml.MappingNode {
			l.bad(lk, "language %s lacks replies %s; copy them from the built-in set (docs/sms.md)", lk.Value, strings.Join(missing, ", "))
		}
		l.set.replies[lk.Value] = t
	})
	for _, lang := range l.langs {
		if !found[lang] {
			l.bad(n, "replies: no templates for configured language %s; add a %s: section with every reply", lang, lang)
		}
	}
}

func braces(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{" + n + "}"
	}
	return strings.Join(out, ", ")
}
