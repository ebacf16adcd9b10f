// Package keywords reads the SMS keyword set (which first word selects which
// command, in which language) and the reply templates, from YAML: the
// built-in set or a file named by keywords.path. Matching is forgiving the
// way feature-phone typing needs: any case, any Unicode normalisation form,
// and one slip in keywords of four or more letters.
package keywords

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/agnivade/levenshtein"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/karyashala/karyashala/domain"
)

// Commands the gateway implements; a keyword set maps words to these.
const (
	Complaint = "complaint"
	Idea      = "idea"
	Status    = "status"
	Pay       = "pay"
	Help      = "help"
	Stop      = "stop"
	Start     = "start"
	Ack       = "ack"
	Note      = "note"
	Resolve   = "resolve"
	Reject    = "reject"
)

// commands is every command in the order help texts and errors list them.
var commands = []string{Complaint, Idea, Status, Pay, Help, Stop, Start, Ack, Note, Resolve, Reject}

// alone are the opt-out commands: by carrier convention they count only when
// the keyword is the whole message and spelled exactly, so "stop the noise
// near the school" is not an opt-out and "STEP" is not STOP.
var alone = map[string]bool{Stop: true, Start: true}

// leader are the commands that change a report. NOT, VOTE and EJECT are
// everyday words one edit from NOTE and REJECT, so a one-edit guess at one
// of these counts only when a reference follows ("NOT C1042 checked"): a
// sentence that merely starts with such a word stays a sentence.
var leader = map[string]bool{Ack: true, Note: true, Resolve: true, Reject: true}

// AnyLanguage lists, in place of a language, the keywords of a command that
// belong to no one language (STOP, STATUS), so that a programme in any of
// its languages has them. A reply to one is in the language the word's
// script suggests: the first configured language with keywords in that
// script, for a Latin word in [hi] or [hi, en] Hindi, in [en, hi] English.
const AnyLanguage = "any"

// fuzzyMin is the shortest keyword (in letters) a misspelling may match.
const fuzzyMin = 4

//go:embed builtin.yaml
var builtin []byte

// BuiltinName is how problems in the built-in set are located.
const BuiltinName = "builtin:keywords.yaml"

// Builtin returns the built-in keyword YAML, for docs and as a template.
func Builtin() []byte { return slices.Clone(builtin) }

// Match is what the first word of a message selected.
type Match struct {
	Command string // "" when the first word is no keyword
	Keyword string // the keyword as the set spells it
	Word    string // the first word as the sender wrote it
	Lang    string // the language of the keyword, or the best guess
	Args    string // the rest of the message, trimmed
	Fuzzy   bool   // matched with one edit
}

type entry struct {
	command string
	keyword string
	lang    string // "" when listed under AnyLanguage
	norm    string
	runes   int
}

// Set is a validated keyword set for the configured languages.
type Set struct {
	langs   []string
	exact   map[string]entry
	entries []entry
	replies map[string]map[string]string
}

// Load reads the set at path, or the built-in set when path is "", for the
// configured languages (the first is the default). Problems come back as
// Problems, one FILE:LINE:COL line each.
func Load(path string, languages []string) (*Set, error) {
	if path == "" {
		return Parse(BuiltinName, builtin, languages)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keywords: %w; check keywords.path or leave it empty for the built-in set", err)
	}
	return parse(path, data, languages, builtinReplies(languages))
}

// builtinReplies are the built-in set's replies in those of languages it
// has: a file written before a reply was added gets the built-in text for
// it (a new version's new replies would otherwise stop the service from
// starting until every file was edited).
func builtinReplies(languages []string) map[string]map[string]string {
	var doc struct {
		Replies map[string]yaml.Node `yaml:"replies"`
	}
	if err := yaml.Unmarshal(builtin, &doc); err != nil {
		return nil
	}
	var have []string
	for _, l := range languages {
		if _, ok := doc.Replies[l]; ok {
			have = append(have, l)
		}
	}
	if len(have) == 0 {
		return nil
	}
	set, err := Parse(BuiltinName, builtin, have)
	if err != nil {
		return nil
	}
	return set.replies
}

// Languages returns the configured languages, the default first.
func (s *Set) Languages() []string { return slices.Clone(s.langs) }

// Match reads the first word of text and says which command it selects.
// Text with no keyword gets Command "" and the language the word's script
// suggests, so the help reply can still be in the sender's language.
func (s *Set) Match(text string) Match {
	word, args := split(text)
	m := Match{Word: word, Args: args}
	key := Normalize(word)
	if key == "" {
		m.Lang = s.langs[0]
		return m
	}
	e, ok := s.exact[key]
	if !ok {
		e, ok = s.fuzzy(key)
		m.Fuzzy = ok
	}
	if !ok || alone[e.command] && args != "" || m.Fuzzy && leader[e.command] && !startsWithRef(args) {
		m.Fuzzy = false
		m.Lang = s.guessLang(word)
		return m
	}
	m.Command, m.Keyword, m.Lang = e.command, e.keyword, e.lang
	if m.Lang == "" {
		m.Lang = s.guessLang(word)
	}
	return m
}

// Unmatched is m as it would be had its first word selected no command, for
// a guess the caller refuses: the inbox refuses a one-edit leader command
// from a phone that is not a leader's.
func (s *Set) Unmatched(m Match) Match {
	return Match{Word: m.Word, Args: m.Args, Lang: s.guessLang(m.Word)}
}

func startsWithRef(args string) bool {
	_, _, ok := domain.CutRef(args)
	return ok
}

// fuzzy finds the one command whose keyword of fuzzyMin or more letters is
// one edit away from key. Two commands that close means no match: a guess
// that could be either is worse than the help reply.
func (s *Set) fuzzy(key string) (entry, bool) {
	n := len([]rune(key))
	var found entry
	ok := false
	for _, e := range s.entries {
		if e.runes < fuzzyMin || alone[e.command] || n < e.runes-1 || n > e.runes+1 {
			continue
		}
		if levenshtein.ComputeDistance(key, e.norm) != 1 {
			continue
		}
		if ok && found.command != e.command {
			return entry{}, false
		}
		if !ok {
			found, ok = e, true
		}
	}
	return found, ok
}

// scripts are the writing systems a language can be guessed from.
var scripts = []*unicode.RangeTable{unicode.Devanagari, unicode.Bengali, unicode.Gujarati,
	unicode.Gurmukhi, unicode.Kannada, unicode.Malayalam, unicode.Oriya, unicode.Tamil,
	unicode.Telugu, unicode.Arabic, unicode.Latin}

// guessLang picks the first configured language that has a keyword written
// in the script of word, else the default language.
func (s *Set) guessLang(word string) string {
	var script *unicode.RangeTable
	for _, r := range word {
		for _, t := range scripts {
			if unicode.Is(t, r) {
				script = t
				break
			}
		}
		if script != nil {
			break
		}
	}
	if script == nil {
		return s.langs[0]
	}
	for _, l := range s.langs {
		for _, e := range s.entries {
			if e.lang == l && strings.IndexFunc(e.keyword, func(r rune) bool { return unicode.Is(script, r) }) >= 0 {
				return l
			}
		}
	}
	return s.langs[0]
}

// Reply renders the reply key in lang (the default language when lang is
// not configured), filling {name} from vars given as name, value pairs.
func (s *Set) Reply(lang, key string, vars ...string) string {
	t, ok := s.replies[lang][key]
	if !ok {
		t = s.replies[s.langs[0]][key]
	}
	if len(vars) == 0 {
		return t
	}
	pairs := make([]string, 0, len(vars))
	for i := 0; i+1 < len(vars); i += 2 {
		pairs = append(pairs, "{"+vars[i]+"}", vars[i+1])
	}
	return strings.TrimSpace(strings.NewReplacer(pairs...).Replace(t))
}

// HasLang reports whether lang is one the set replies in.
func (s *Set) HasLang(lang string) bool { return slices.Contains(s.langs, lang) }

// Keywords lists the keywords of a command a sender can use in a language,
// those listed under AnyLanguage included, as the set spells them; for help
// texts and docs.
func (s *Set) Keywords(command, lang string) []string {
	var out []string
	for _, e := range s.entries {
		if e.command == command && (e.lang == lang || e.lang == "") {
			out = append(out, e.keyword)
		}
	}
	return out
}

// Normalize is the form keywords are compared in: NFKC (so full-width and
// composed or decomposed letters agree), without zero-width joiners, upper
// case.
func Normalize(word string) string {
	word = strings.Map(func(r rune) rune {
		if r == '\u200c' || r == '\u200d' || r == '\ufeff' {
			return -1
		}
		return r
	}, word)
	return strings.ToUpper(norm.NFKC.String(word))
}

// split returns the first word (letters, combining marks and digits) and
// the rest of text with separating spaces and punctuation trimmed, both in
// NFC.
func split(text string) (word, rest string) {
	text = strings.TrimFunc(norm.NFC.String(text), isBlank)
	end := strings.IndexFunc(text, func(r rune) bool { return !isWordRune(r) })
	if end < 0 {
		return text, ""
	}
	word, rest = text[:end], text[end:]
	rest = strings.TrimLeftFunc(rest, func(r rune) bool {
		return isBlank(r) || strings.ContainsRune(":,;.!?।-", r)
	})
	return word, strings.TrimRightFunc(rest, isBlank)
}

// isBlank is white space or a character that shows nothing and that phones,
// keyboards and gateways slip into a message: a byte-order mark at the
// start, a zero-width space after a word, direction marks, a soft hyphen.
// Such a character next to STOP must not hide it. The zero-width joiner and
// non-joiner are not blank: inside a Devanagari word they choose how it is
// drawn, and Normalize drops them when comparing.
func isBlank(r rune) bool {
	switch {
	case unicode.IsSpace(r),
		r == '\u00ad',                // soft hyphen
		r == '\u180e',                // Mongolian vowel separator, once a space
		r == '\u200b',                // zero-width space
		r == '\u200e', r == '\u200f', // left-to-right and right-to-left marks
		r >= '\u202a' && r <= '\u202e', // direction embeddings and overrides
		r >= '\u2060' && r <= '\u2064', // word joiner, invisible operators
		r >= '\u2066' && r <= '\u2069', // direction isolates
		r == '\ufeff':                  // byte-order mark, zero-width no-break space
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || r == '\u200c' || r == '\u200d'
}
