package ussd

import (
	"strings"
	"testing"
)

// joinInput is what Africa's Talking sends after old once the caller types
// in: every input so far joined by "*".
func joinInput(old, in string) string {
	if old == "" {
		return in
	}
	return old + "*" + in
}

// FuzzNewInput checks the splitter that takes a hop's new input out of the
// cumulative text. Consuming the old text and then the input it returns
// gives back the new text (or the input is the whole text, for a carrier
// that sends only the latest input); a repeat adds nothing; and a journey of
// inputs, each possibly holding "*", comes back out input by input.
func FuzzNewInput(f *testing.F) {
	for _, s := range [][2]string{
		{"", "1"}, {"1", "1*2"}, {"1*2", "1*2*3"}, {"1", "1"}, {"1*1", "1*1*0*00"},
		{"7", "7*Drain*blocked"}, {"1", "2"}, {"", ""}, {"1*", "1**"}, {"*", "**"},
		{"1", "1*"}, {"12", "1*2"}, {"2*नल", "2*नल*हाँ"}, {"\xff", "\xff*\x00"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, old, text string) {
		in, ok := newInput(old, text)
		switch {
		case !ok:
			if text != old || in != "" {
				t.Fatalf("newInput(%q, %q) = %q, false: only a repeat adds nothing", old, text, in)
			}
		case text == old:
			t.Fatalf("newInput(%q, %q) = %q, true for a repeated request", old, text, in)
		case joinInput(old, in) != text && in != text:
			t.Fatalf("newInput(%q, %q) = %q: consuming %q then it does not give the new text back", old, text, in, old)
		}

		// The same two strings as a journey: the old text, then each line
		// of the new one as an input typed after it.
		cur := old
		for _, want := range strings.Split(text, "\n") {
			next := joinInput(cur, want)
			got, ok := newInput(cur, next)
			if next == cur {
				if ok {
					t.Fatalf("newInput(%q, %q) = %q, true for a repeated request", cur, next, got)
				}
				continue
			}
			if !ok || got != want {
				t.Fatalf("after %q the caller typed %q, but newInput(%q, %q) = %q, %v", cur, want, cur, next, got, ok)
			}
			cur = next
		}
	})
}
