package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

func TestParsePhone(t *testing.T) {
	cases := []struct {
		raw, region, want string
		code              string
	}{
		{"+91 98123 45678", "IN", "+919812345678", ""},
		{"09812345678", "IN", "+919812345678", ""},
		{"9812345678", "IN", "+919812345678", ""},
		{"919812345678", "IN", "+919812345678", ""}, // Kannel sends international numbers without +
		{"00919812345678", "IN", "+919812345678", ""},
		{"+254711082300", "IN", "+254711082300", ""},
		{"0711082300", "KE", "+254711082300", ""},
		{"07x", "IN", "", domain.EINVALID},
		{"", "IN", "", domain.EINVALID},
		{"12345", "IN", "", domain.EINVALID},
		{"'; DROP TABLE members; --", "IN", "", domain.EINVALID},
	}
	for _, c := range cases {
		got, err := domain.ParsePhone(c.raw, c.region)
		if got != c.want || domain.ErrorCode(err) != c.code {
			t.Errorf("ParsePhone(%q, %s) = %q, %v; want %q, code %q", c.raw, c.region, got, err, c.want, c.code)
		}
	}
	_, err := domain.ParsePhone("07x", "IN")
	if msg := domain.ErrorMessage(err); !strings.Contains(msg, `"07x" is not valid for region IN`) {
		t.Errorf("message %q does not name the number and region", msg)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"+919812345678": "+91******5678", "+254711082300": "+25******2300", "123": "***"} {
		if got := domain.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{"C1042": "C1042", "c-1042": "C1042", "#C1042": "C1042", "c 1042": "C1042", "p17": "P17", "# p-017": "P17"} {
		got, err := domain.ParseRef(in)
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "C", "X1042", "C-", "C0", "C12a", "1042"} {
		if _, err := domain.ParseRef(in); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseRef(%q) = %v, want EINVALID", in, err)
		}
	}
}

func TestCutRef(t *testing.T) {
	cases := []struct{ in, ref, rest string }{
		{"C1042", "C1042", ""},
		{"c-1042 pipe fixed", "C1042", "pipe fixed"},
		{"#C 1042: plumber coming", "C1042", "plumber coming"},
		{"p17.", "P17", ""},
	}
	for _, c := range cases {
		ref, rest, ok := domain.CutRef(c.in)
		if !ok || ref != c.ref || rest != c.rest {
			t.Errorf("CutRef(%q) = %q, %q, %v; want %q, %q", c.in, ref, rest, ok, c.ref, c.rest)
		}
	}
	for _, in := range []string{"", "working handpump", "C12a", "C0 fixed", "Cement 10 bags", "the broken tap"} {
		if ref, _, ok := domain.CutRef(in); ok {
			t.Errorf("CutRef(%q) = %q, want no reference", in, ref)
		}
	}
}

func TestSMSSegments(t *testing.T) {
	cases := []struct {
		text string
		segs int
		enc  string
	}{
		{"", 1, domain.EncodingGSM7},
		{strings.Repeat("a", 160), 1, domain.EncodingGSM7},
		{strings.Repeat("a", 161), 2, domain.EncodingGSM7},
		{strings.Repeat("a", 306), 2, domain.EncodingGSM7},
		{strings.Repeat("a", 307), 3, domain.EncodingGSM7},
		{strings.Repeat("€", 80), 1, domain.EncodingGSM7}, // extension: two units each
		{strings.Repeat("€", 81), 2, domain.EncodingGSM7},
		{strings.Repeat("क", 70), 1, domain.EncodingUCS2},
		{strings.Repeat("क", 71), 2, domain.EncodingUCS2},
		{strings.Repeat("क", 134), 2, domain.EncodingUCS2},
		{strings.Repeat("क", 135), 3, domain.EncodingUCS2},
		{"Rs 12.50 ₹", 1, domain.EncodingUCS2},
	}
	for _, c := range cases {
		segs, enc := domain.SMSSegments(c.text)
		if segs != c.segs || enc != c.enc {
			t.Errorf("SMSSegments(%d x %q) = %d %s, want %d %s", len([]rune(c.text)), firstRune(c.text), segs, enc, c.segs, c.enc)
		}
	}
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

func TestErrorHelpers(t *testing.T) {
	err := fmt.Errorf("accept task 3: %w", domain.Errorf(domain.ECONFLICT, "task 3 is sold out"))
	if domain.ErrorCode(err) != domain.ECONFLICT || domain.ErrorMessage(err) != "task 3 is sold out" {
		t.Fatalf("wrapped: %q %q", domain.ErrorCode(err), domain.ErrorMessage(err))
	}
	plain := fmt.Errorf("disk full")
	if domain.ErrorCode(plain) != domain.EINTERNAL || domain.ErrorMessage(plain) != "Internal error." {
		t.Fatal("internal errors must not leak their text")
	}
	if domain.ErrorCode(nil) != "" {
		t.Fatal("nil has no code")
	}
	// Every USSD hop asks for the code of a nil error, twice.
	if n := testing.AllocsPerRun(100, func() { domain.ErrorCode(nil) }); n != 0 {
		t.Fatalf("ErrorCode(nil) allocates %v times", n)
	}
}
