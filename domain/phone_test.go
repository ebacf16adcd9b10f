package domain

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/nyaruka/phonenumbers"
)

// fastE164 is a shortcut: whatever it accepts, the full parse accepts as
// the same number. Random numbers in every country calling code, of every
// length, in E.164 form.
func TestFastE164AgreesWithTheParser(t *testing.T) {
	var ccs []int
	for cc := 1; cc < 1000; cc++ {
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 0 {
			ccs = append(ccs, cc)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	accepted := 0
	for range n {
		s := fmt.Sprintf("+%d", ccs[r.IntN(len(ccs))])
		for range 4 + r.IntN(11) {
			s += string(rune('0' + r.IntN(10)))
		}
		fast := fastE164(s)
		if fast == "" {
			continue
		}
		accepted++
		if slow, err := parsePhone(s, "IN"); err != nil || slow != fast {
			t.Errorf("%s: shortcut %q, parser %q (%v)", s, fast, slow, err)
		}
	}
	if accepted < n/50 {
		t.Fatalf("the shortcut accepted only %d of %d numbers: it is not being tested", accepted, n)
	}
	for _, s := range []string{"+919812345678", "+14155552671", "+447911123456"} {
		if fastE164(s) != s {
			t.Errorf("shortcut refused the valid %s", s)
		}
	}
	for _, s := range []string{"919812345678", "+91 98123 45678", "+390612345678", "+9198123456789999", "+", "+1", "+91x812345678"} {
		if fastE164(s) != "" {
			t.Errorf("shortcut accepted %q; the parser should read it", s)
		}
	}
}

// validNational must say what phonenumbers.IsValidNumber says for every
// calling code it decides, valid numbers and not.
func TestValidNationalAgreesWithPhonenumbers(t *testing.T) {
	md := singleRegionMetadata()
	if md[91] == nil || md[1] != nil {
		t.Fatalf("India's calling code must be decided here and NANPA's left to phonenumbers (have 91: %v, 1: %v)", md[91] != nil, md[1] != nil)
	}
	ccs := slices.Sorted(maps.Keys(md))
	r := rand.New(rand.NewPCG(3, 4))
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	valid := 0
	for i := range n {
		cc := ccs[i%len(ccs)]
		size := 4 + r.IntN(11)
		if lengths := md[cc].GetGeneralDesc().GetPossibleLength(); len(lengths) > 0 && r.IntN(4) > 0 {
			size = int(lengths[r.IntN(len(lengths))]) // mostly plausible lengths, so that many are valid
		}
		nsn := string(rune('1' + r.IntN(9)))
		for len(nsn) < size {
			nsn += string(rune('0' + r.IntN(10)))
		}
		got, known := validNational(cc, nsn)
		if !known {
			t.Fatalf("+%d: a single-region code left undecided", cc)
		}
		nn, _ := strconv.ParseUint(nsn, 10, 64)
		cc32 := int32(cc)
		want := phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn})
		if got != want {
			t.Errorf("+%d %s: valid %v, phonenumbers says %v", cc, nsn, got, want)
		}
		if want {
			valid++
		}
	}
	if valid < n/20 {
		t.Fatalf("only %d of %d numbers were valid: the valid side is hardly tested", valid, n)
	}
	t.Logf("%d calling codes, %d numbers, %d valid", len(ccs), n, valid)
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"+919812345678", "09812345678", "0091 98123 45678", "+1 (415) 555-2671", "+390612345678", "ext. 5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParsePhone(s, "IN")
		if err != nil {
			return
		}
		if fast := fastE164(s); fast != "" && fast != got {
			t.Fatalf("%q: shortcut %q, ParsePhone %q", s, fast, got)
		}
		if again, err := ParsePhone(got, "IN"); err != nil || again != got {
			t.Fatalf("%q -> %q is not stable: %q, %v", s, got, again, err)
		}
	})
}

// A caller's string may alias a buffer that is reused after the call (a
// fasthttp request's, in an app without Immutable): neither the answer nor
// the cache may keep it.
func TestParsePhoneKeepsNoAlias(t *testing.T) {
	buf := []byte("+919812300001")
	got, err := ParsePhone(unsafe.String(&buf[0], len(buf)), "IN")
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "*384#99900001")
	if got != "+919812300001" {
		t.Fatalf("answer changed with the caller's buffer: %q", got)
	}
	if again, err := ParsePhone("+919812300001", "IN"); err != nil || again != "+919812300001" {
		t.Fatalf("cached answer changed with the caller's buffer: %q, %v", again, err)
	}
}

// BenchmarkFirstContact is a number seen for the first time (the cache
// misses): every new sender of an SMS and every new USSD caller.
func BenchmarkFirstContact(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if fastE164(fmt.Sprintf("+9198%08d", i%100_000_000)) == "" {
			b.Fatal("a valid Indian mobile number was refused")
		}
	}
}
