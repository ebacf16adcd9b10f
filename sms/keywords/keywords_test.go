package keywords

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"

	"github.com/karyashala/karyashala/domain"
)

func builtinSet(t testing.TB) *Set {
	t.Helper()
	s, err := Load("", []string{"en", "hi"})
	if err != nil {
		t.Fatalf("load built-in keywords: %v", err)
	}
	return s
}

func TestMatch(t *testing.T) {
	s := builtinSet(t)
	cases := []struct {
		text                string
		command, lang, args string
		fuzzy               bool
	}{
		{"COMPLAINT no water in ward 3", Complaint, "en", "no water in ward 3", false},
		{"complaint no water", Complaint, "en", "no water", false},
		{"  Complaint:  no water  ", Complaint, "en", "no water", false},
		{"C broken pipe", Complaint, "en", "broken pipe", false},
		{"COMPLIANT broken pipe", "", "en", "broken pipe", false}, // a transposition is two edits
		{"COMPLAINTS many", Complaint, "en", "many", true},
		{"शिकायत पानी नहीं आ रहा", Complaint, "hi", "पानी नहीं आ रहा", false},
		{"shikayat paani nahi", Complaint, "hi", "paani nahi", false},
		{"SHIKAYT paani", Complaint, "hi", "paani", true},
		{"सुझाव नल के पास बेंच", Idea, "hi", "नल के पास बेंच", false},
		{"idea a bench", Idea, "en", "a bench", false},
		{"IDEAS a bench", Idea, "en", "a bench", true},
		{"proposal a bench", Idea, "en", "a bench", false},
		{"status c-1042", Status, "en", "c-1042", false},
		{"STATUS #C1042", Status, "en", "#C1042", false},
		{"STATSU C1042", "", "en", "C1042", false}, // two edits
		{"STAUS C1042", Status, "en", "C1042", true},
		{"pay", Pay, "en", "", false},
		{"PAI", "", "en", "", false}, // three letters: exact only
		{"भुगतान", Pay, "hi", "", false},
		{"help", Help, "en", "", false},
		{"HELP!", Help, "en", "", false},
		{"HELPP", Help, "en", "", true},
		{"मदद", Help, "hi", "", false},
		{"stop", Stop, "en", "", false},
		{" Stop. ", Stop, "en", "", false},
		{"STOP the noise near the school", "", "en", "the noise near the school", false},
		{"STEP", "", "en", "", false}, // opt-out keywords are exact
		{"STOPP", "", "en", "", false},
		{"unsubscribe", Stop, "en", "", false},
		{"END", Stop, "en", "", false},
		{"yes", Start, "en", "", false},
		{"START", Start, "en", "", false},
		{"ack C1042", Ack, "en", "C1042", false},
		{"NOTE C1042 plumber coming Tuesday", Note, "en", "C1042 plumber coming Tuesday", false},
		{"resolve C1042 pipe fixed", Resolve, "en", "C1042 pipe fixed", false},
		{"REJECT C1042 not in our area", Reject, "en", "C1042 not in our area", false},
		{"hello there", "", "en", "there", false},
		{"नमस्ते", "", "hi", "", false},
		{"", "", "en", "", false},
		{"   ", "", "en", "", false},
		{"C1042", "", "en", "", false},
		{"ＨＥＬＰ", Help, "en", "", false}, // full-width letters
	}
	for _, c := range cases {
		m := s.Match(c.text)
		if m.Command != c.command || m.Lang != c.lang || m.Args != c.args || m.Fuzzy != c.fuzzy {
			t.Errorf("Match(%q) = {Command:%q Lang:%q Args:%q Fuzzy:%v}, want {%q %q %q %v}",
				c.text, m.Command, m.Lang, m.Args, m.Fuzzy, c.command, c.lang, c.args, c.fuzzy)
		}
	}
}

// A one-edit guess at a leader command counts only when a reference
// follows: everyday words one edit from NOTE and REJECT (NOT, VOTE, EJECT)
// start ordinary sentences. An exact leader keyword is always the command,
// so that a leader without a reference is told how to use it.
func TestFuzzyLeaderCommandNeedsReference(t *testing.T) {
	s := builtinSet(t)
	cases := []struct {
		text, command, args string
		fuzzy               bool
	}{
		{"Not working handpump in ward 5", "", "working handpump in ward 5", false},
		{"Vote for a new well", "", "for a new well", false},
		{"Eject the broken tap", "", "the broken tap", false},
		{"REJEC C1042 not ours", Reject, "C1042 not ours", true},
		{"RESOLV #c-1042 fixed", Resolve, "#c-1042 fixed", true},
		// what the rule gives: the reference makes the guess count
		{"NOT C1001 checked", Note, "C1001 checked", true},
		{"Eject C1001 from the list?", Reject, "C1001 from the list?", true},
		{"NOTE working", Note, "working", false},
		{"REJECT", Reject, "", false},
	}
	for _, c := range cases {
		m := s.Match(c.text)
		if m.Command != c.command || m.Args != c.args || m.Fuzzy != c.fuzzy {
			t.Errorf("Match(%q) = {Command:%q Args:%q Fuzzy:%v}, want {%q %q %v}", c.text, m.Command, m.Args, m.Fuzzy, c.command, c.args, c.fuzzy)
		}
	}
}

// Characters that show nothing, which phones and gateways add (a
// byte-order mark at the start, a zero-width space after a word, direction
// marks), neither hide a keyword nor end up in its arguments; a joiner
// inside a Devanagari word is kept.
func TestMatchIgnoresInvisibleCharacters(t *testing.T) {
	s := builtinSet(t)
	cases := []struct{ text, command, args string }{
		{"\ufeffSTOP", Stop, ""},
		{"STOP\u200b", Stop, ""},
		{"\u200e STOP \u2060", Stop, ""},
		{"\u200bHELP", Help, ""},
		{"STATUS\u200bC1042", Status, "C1042"},
		{"\ufeffCOMPLAINT\u200b no water\u200b", Complaint, "no water"},
		{"शिकायत\u200b नल टूटा\u200d", Complaint, "नल टूटा\u200d"},
	}
	for _, c := range cases {
		if m := s.Match(c.text); m.Command != c.command || m.Args != c.args {
			t.Errorf("Match(%+q) = {Command:%q Word:%+q Args:%+q}, want {%q %+q}", c.text, m.Command, m.Word, m.Args, c.command, c.args)
		}
	}
}

// Devanagari typed with a decomposed nukta or a zero-width joiner still
// matches the keyword written the usual way.
func TestMatchNormalisation(t *testing.T) {
	s := builtinSet(t)
	for _, text := range []string{
		"शिका\u200dयत पानी",                         // zero-width joiner
		"\u0936\u093f\u0915\u093e\u092f\u0924 पानी", // spelled out code point by code point
	} {
		if m := s.Match(text); m.Command != Complaint || m.Lang != "hi" {
			t.Errorf("Match(%q) = %+v, want complaint in hi", text, m)
		}
	}
}

func TestOnlyConfiguredLanguages(t *testing.T) {
	s, err := Load("", []string{"en"})
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Match("शिकायत पानी"); m.Command != "" || m.Lang != "en" {
		t.Errorf("a Hindi keyword matched with only en configured: %+v", m)
	}
	if got := s.Reply("hi", "help"); got != s.Reply("en", "help") {
		t.Errorf("reply in an unconfigured language should fall back to the default, got %q", got)
	}
}

// A programme in Hindi alone has STOP, START, STATUS, PAY and the leader
// commands too (the built-in set lists them under "any"), and answers them
// in Hindi; with English first they are answered in English, as before.
func TestHindiOnlyProgramme(t *testing.T) {
	s, err := Load("", []string{"hi"})
	if err != nil {
		t.Fatalf("built-in keywords for [hi]: %v", err)
	}
	for text, command := range map[string]string{"STOP": Stop, "start": Start, "STATUS C1042": Status, "PAY": Pay,
		"ACK C1042": Ack, "NOTE C1042 plumber": Note, "RESOLVE C1042": Resolve, "REJECT C1042": Reject, "शिकायत नल": Complaint} {
		if m := s.Match(text); m.Command != command || m.Lang != "hi" {
			t.Errorf("[hi] Match(%q) = {Command:%q Lang:%q}, want %s in hi", text, m.Command, m.Lang, command)
		}
	}
	if got := s.Keywords(Stop, "hi"); !slices.Contains(got, "STOP") {
		t.Errorf("Keywords(stop, hi) = %q, want STOP among them", got)
	}
	for langs, want := range map[string]string{"en,hi": "en", "hi,en": "hi", "en": "en"} {
		s, err := Load("", strings.Split(langs, ","))
		if err != nil {
			t.Fatalf("built-in keywords for [%s]: %v", langs, err)
		}
		if m := s.Match("STOP"); m.Command != Stop || m.Lang != want {
			t.Errorf("[%s] Match(STOP) = {Command:%q Lang:%q}, want stop in %s", langs, m.Command, m.Lang, want)
		}
	}
}

func TestReply(t *testing.T) {
	s := builtinSet(t)
	got := s.Reply("en", "complaint_created", "ref", "C1042")
	want := "Thank you. Your complaint is C1042. Send STATUS C1042 to follow it."
	if got != want {
		t.Errorf("complaint_created = %q, want %q", got, want)
	}
	if got := s.Reply("hi", "complaint_created", "ref", "C1042"); !strings.Contains(got, "C1042") || !strings.Contains(got, "धन्यवाद") {
		t.Errorf("Hindi complaint_created = %q", got)
	}
}

// sample fills every placeholder with the longest value it takes in
// practice, so the segment check below is honest.
var sample = []string{
	"ref", "C100000", "keyword", "RESOLVE", "currency", "INR",
	"earned", "12345.00", "approved", "12345.00", "paid", "12345.00", "balance", "12345.00", "max", "500",
}

// Every built-in reply fits one SMS segment in every built-in language; the
// ones with a status name are checked with the longest status name, and the
// ones that carry a leader's free-text note are checked without it (the note
// is the leader's to keep short).
func TestBuiltinRepliesFitOneSegment(t *testing.T) {
	s := builtinSet(t)
	for _, lang := range []string{"en", "hi"} {
		longest := ""
		for _, st := range []string{"new", "acknowledged", "in_progress", "resolved", "rejected", "duplicate"} {
			if n := s.Reply(lang, "state_"+st); utf8.RuneCountInString(n) > utf8.RuneCountInString(longest) {
				longest = n
			}
		}
		for _, key := range ReplyKeys() {
			text := s.Reply(lang, key, append(sample, "status", longest, "note", "")...)
			if n, enc := domain.SMSSegments(text); n != 1 {
				t.Errorf("%s %s: %d %s segments (%d characters): %q", lang, key, n, enc, utf8.RuneCountInString(text), text)
			}
		}
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"unknown_command.yaml", []string{
			"unknown_command.yaml:3:3: unknown command \"complain\"",
			"unknown_command.yaml:2:3: command complaint has no keyword",
		}},
		{"duplicate_keyword.yaml", []string{
			"duplicate_keyword.yaml:4:10: keyword \"HELP\" is already listed at line 3",
		}},
		{"bad_reply.yaml", []string{
			"bad_reply.yaml:18:24: reply complaint_created: unknown placeholder {reff}",
			"bad_reply.yaml:18:24: reply complaint_created must contain {ref}",
			"bad_reply.yaml:19:5: unknown reply \"thanks\"",
			"bad_reply.yaml:16:3: language en lacks replies complaint_usage, error,",
			"replies: no templates for configured language hi",
		}},
		{"two_words.yaml", []string{
			"two_words.yaml:3:10: keyword \"MY COMPLAINT\" must be one word",
		}},
		{"syntax.yaml", []string{
			"syntax.yaml:3:1: ",
		}},
	}
	for _, c := range cases {
		path := filepath.Join("testdata", c.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(c.file, data, []string{"en", "hi"})
		var ps Problems
		if !errors.As(err, &ps) {
			t.Errorf("%s: want Problems, got %v", c.file, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: problems do not mention %q:\n%v", c.file, w, err)
			}
		}
	}
}

// FuzzParse feeds arbitrary messages to the keyword matcher: it never
// panics, a match is never more than one edit from the word sent, stop and
// start only ever match alone, and the reply language is always configured.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"COMPLAINT no water", "शिकायत पानी", "STOP", "stop now", "HELPP", "ack #C-1042 done", "\xff\xfe", "C", "ＨＥＬＰ", "शिका\u200dयत"} {
		f.Add(seed)
	}
	s := builtinSet(f)
	f.Fuzz(func(t *testing.T, text string) {
		m := s.Match(text)
		if !s.HasLang(m.Lang) {
			t.Fatalf("Match(%q).Lang = %q, not configured", text, m.Lang)
		}
		if m.Command == "" {
			return
		}
		if d := levenshtein.ComputeDistance(Normalize(m.Word), Normalize(m.Keyword)); d > 1 || (d == 1) != m.Fuzzy {
			t.Fatalf("Match(%q): word %q is %d edits from keyword %q (fuzzy=%v)", text, m.Word, d, m.Keyword, m.Fuzzy)
		}
		if alone[m.Command] && (m.Args != "" || m.Fuzzy) {
			t.Fatalf("Match(%q): %s matched with args %q fuzzy=%v", text, m.Command, m.Args, m.Fuzzy)
		}
		if utf8.ValidString(text) && !utf8.ValidString(m.Args) {
			t.Fatalf("Match(%q): args %q not valid UTF-8", text, m.Args)
		}
	})
}

// FuzzLoad checks that no keyword file, however broken, panics the loader.
func FuzzLoad(f *testing.F) {
	f.Add(builtin)
	f.Add([]byte("commands:\n  help:\n    en: [HELP]\n"))
	f.Add([]byte("replies: [1, 2]\ncommands: {help: {en: HELP}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, []string{"en", "hi"})
		if err == nil && s.Reply("en", "help") == "" {
			t.Fatal("a valid set without a help reply")
		}
	})
}

// A keyword file written before a reply was added still loads: the reply
// it lacks is the built-in one, in each language the built-in set has. A
// language the built-in set lacks must still give every reply.
func TestLoadFillsRepliesAddedSince(t *testing.T) {
	var kept []string
	for _, line := range strings.Split(string(Builtin()), "\n") {
		if !strings.Contains(line, "leader_long_note:") {
			kept = append(kept, line)
		}
	}
	path := filepath.Join(t.TempDir(), "keywords.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(path, []string{"en", "hi"})
	if err != nil {
		t.Fatalf("a file without the newer reply leader_long_note: %v", err)
	}
	builtin, err := Load("", []string{"en", "hi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "hi"} {
		got, want := set.Reply(lang, "leader_long_note", "max", "500", "keyword", "NOTE", "ref", "C1"), builtin.Reply(lang, "leader_long_note", "max", "500", "keyword", "NOTE", "ref", "C1")
		if got != want || got == "" {
			t.Errorf("%s leader_long_note = %q, want the built-in %q", lang, got, want)
		}
	}
	// A Swahili section has no built-in replies to fall back on.
	sw := strings.Replace(strings.Join(kept, "\n"), "\n  hi:\n", "\n  sw:\n", 1)
	if err := os.WriteFile(path, []byte(sw), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, []string{"en", "sw"}); err == nil || !strings.Contains(err.Error(), "language sw lacks replies leader_long_note") {
		t.Fatalf("a sw section without leader_long_note: %v", err)
	}
}
