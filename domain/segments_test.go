package domain

import (
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	cases := []struct {
		label    string
		text     string
		segments int
		encoding string
	}{
		{"empty", "", 1, EncodingGSM7},
		{"160 GSM-7", strings.Repeat("a", 160), 1, EncodingGSM7},
		{"161 GSM-7", strings.Repeat("a", 161), 2, EncodingGSM7},
		{"306 GSM-7", strings.Repeat("a", 306), 2, EncodingGSM7},
		{"307 GSM-7", strings.Repeat("a", 307), 3, EncodingGSM7},
		{"80 euro signs are 160 units", strings.Repeat("€", 80), 1, EncodingGSM7},
		{"81 euro signs", strings.Repeat("€", 81), 2, EncodingGSM7},
		// 152 units then a two-unit character: it cannot straddle, so the
		// second segment starts with it
		{"extension char not split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), 3, EncodingGSM7},
		{"accented GSM-7", "é à ñ ü Ø Δ", 1, EncodingGSM7},
		{"one Devanagari letter", "C1042 दर्ज", 1, EncodingUCS2},
		{"70 UCS-2", strings.Repeat("क", 70), 1, EncodingUCS2},
		{"71 UCS-2", strings.Repeat("क", 71), 2, EncodingUCS2},
		{"134 UCS-2", strings.Repeat("क", 134), 2, EncodingUCS2},
		{"135 UCS-2", strings.Repeat("क", 135), 3, EncodingUCS2},
		{"emoji is two code units", strings.Repeat("😀", 35), 1, EncodingUCS2},
		{"surrogate pair not split", strings.Repeat("क", 66) + "😀" + strings.Repeat("क", 66), 3, EncodingUCS2},
		{"ç is not GSM-7 lower case", "garçon", 1, EncodingUCS2},
	}
	for _, c := range cases {
		n, enc := SMSSegments(c.text)
		if n != c.segments || enc != c.encoding {
			t.Errorf("%s: SMSSegments = %d %s, want %d %s", c.label, n, enc, c.segments, c.encoding)
		}
	}
}

func TestGSM7Len(t *testing.T) {
	if n, ok := GSM7Len("a{b}€"); !ok || n != 8 {
		t.Errorf("GSM7Len(a{b}€) = %d %v, want 8 true", n, ok)
	}
	if _, ok := GSM7Len("नमस्ते"); ok {
		t.Error("Devanagari reported as GSM-7")
	}
}

// GSM7Len's table for ASCII agrees with the alphabet's map for every
// character, alone and after ASCII and non-ASCII text.
func TestGSM7LenMatchesTheAlphabet(t *testing.T) {
	want := func(s string) (int, bool) {
		n := 0
		for _, r := range s {
			u, in := gsm7Units[r]
			if !in {
				return 0, false
			}
			n += u
		}
		return n, true
	}
	for r := rune(0); r < 0x2200; r++ {
		for _, s := range []string{string(r), "ab" + string(r) + "{", "é" + string(r) + "x"} {
			n, ok := GSM7Len(s)
			if wn, wok := want(s); n != wn || ok != wok {
				t.Fatalf("GSM7Len(%q) = %d %v, want %d %v", s, n, ok, wn, wok)
			}
		}
	}
}
