package domain

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// ParsePhone parses raw (as a carrier or a person wrote it) with region as the
// default for numbers written without "+", and returns it in E.164. A number
// that does not parse or is not a possible number is an EINVALID error that
// names it.
func ParsePhone(raw, region string) (string, error) {
	key := region + "\x00" + raw
	if v, ok := phoneCache.get(key); ok {
		return v, nil
	}
	e164 := fastE164(raw)
	var err error
	if e164 == "" {
		e164, err = parsePhone(raw, region)
	}
	if err == nil {
		phoneCache.put(key, e164)
	}
	return e164, err
}

// phoneCache remembers parsed numbers: every USSD hop and SMS carries the
// caller's number, the same few thousand numbers again and again, and
// libphonenumber's regular expressions cost more than the rest of a hop.
var phoneCache = &stringCache{m: map[string]string{}, max: 50_000}

// stringCache is a bounded map that starts afresh when full: simpler than an
// LRU and, for numbers that recur within minutes, nearly as good.
type stringCache struct {
	mu  sync.RWMutex
	m   map[string]string
	max int
}

func (c *stringCache) get(k string) (string, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *stringCache) put(k, v string) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[string]string, c.max)
	}
	c.m[k] = v
	c.mu.Unlock()
}

// fastE164 returns s when it is already a valid number written in E.164
// ("+", the country code, the national number, nothing else), checked
// with phonenumbers' validity rules but without its parser, whose regular
// expressions for extensions and punctuation were a quarter of an inbound
// SMS's CPU. Anything else, valid or not, returns "" for parsePhone to
// read. A test holds the two to the same answers.
func fastE164(s string) string {
	if len(s) < 4 || len(s) > 16 || s[0] != '+' {
		return ""
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	// Country calling codes are prefix-free: at most one of the first
	// one, two or three digits is one.
	for n := 1; n <= 3 && n < len(s)-1; n++ {
		cc, _ := strconv.Atoi(s[1 : 1+n])
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
			continue
		}
		nsn := s[1+n:]
		if nsn[0] == '0' {
			return "" // leading zeros (Italy) are the parser's business
		}
		nn, err := strconv.ParseUint(nsn, 10, 64)
		if err != nil {
			return ""
		}
		valid, known := validNational(cc, nsn)
		if !known {
			cc32 := int32(cc)
			valid = phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn})
		}
		if !valid {
			return ""
		}
		// A copy: s may alias a request buffer that is reused, and the
		// answer is kept in the cache.
		return strings.Clone(s)
	}
	return ""
}

func parsePhone(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", Errorf(EINVALID, "phone number is empty")
	}
	// Carriers sometimes send international numbers without "+" (Kannel
	// "919812345678"); "00" is the international prefix in most regions.
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		if !strings.HasPrefix(s, "+") && len(s) > 10 {
			if n2, err2 := phonenumbers.Parse("+"+s, region); err2 == nil && phonenumbers.IsValidNumber(n2) {
				return phonenumbers.Format(n2, phonenumbers.E164), nil
			}
		}
		return "", Errorf(EINVALID, "phone number %q is not valid for region %s; write it with the country code, like +919812345678", raw, region)
	}
	if !phonenumbers.IsValidNumber(num) {
		// A possible-but-unassigned number: fall back to a full international
		// reading before refusing.
		if !strings.HasPrefix(s, "+") {
			if n2, err2 := phonenumbers.Parse("+"+s, region); err2 == nil && phonenumbers.IsValidNumber(n2) {
				return phonenumbers.Format(n2, phonenumbers.E164), nil
			}
		}
		return "", Errorf(EINVALID, "phone number %q is not valid for region %s; write it with the country code, like +919812345678", raw, region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// MaskPhone hides all but the country prefix and the last four digits of an
// E.164 number, for logs: "+919812345678" becomes "+91******5678".
func MaskPhone(e164 string) string {
	if len(e164) < 7 {
		return strings.Repeat("*", len(e164))
	}
	head := 3
	if !strings.HasPrefix(e164, "+") {
		head = 2
	}
	return e164[:head] + strings.Repeat("*", len(e164)-head-4) + e164[len(e164)-4:]
}

// validNational is phonenumbers.IsValidNumber for a national number of a
// calling code that belongs to one region (India's, and most others):
// valid when it fits the region's general pattern and one number type's.
// phonenumbers tries mobile numbers last, after eight rarer types, and for
// each type builds its expression's text anew, looks it up, and matches it
// twice; that was most of an inbound SMS's CPU when the sender was new.
// Here mobile and fixed lines go first and each expression is compiled
// once and matched once. known is false for calling codes shared by
// several regions (+1, +7, +44...) or none, which phonenumbers decides.
// A test holds the two to the same answer.
func validNational(cc int, nsn string) (valid, known bool) {
	md := singleRegionMetadata()[cc]
	if md == nil {
		return false, false
	}
	if !descMatches(md.GetGeneralDesc(), nsn) {
		return false, true
	}
	for _, d := range [...]*phonenumbers.PhoneNumberDesc{
		md.GetMobile(), md.GetFixedLine(), md.GetTollFree(), md.GetPremiumRate(), md.GetSharedCost(),
		md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(),
	} {
		if descMatches(d, nsn) {
			return true, true
		}
	}
	return false, true
}

// singleRegionMetadata maps each calling code that has exactly one region
// to that region's metadata.
var singleRegionMetadata = sync.OnceValue(func() map[int]*phonenumbers.PhoneMetadata {
	out := map[int]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return out // phonenumbers decides every number
	}
	for _, md := range coll.GetMetadata() {
		cc := int(md.GetCountryCode())
		if regions := phonenumbers.GetRegionCodesForCountryCode(cc); len(regions) == 1 && regions[0] == md.GetId() {
			out[cc] = md
		}
	}
	return out
})

// descRegexps holds each number type's compiled pattern.
var descRegexps sync.Map // *phonenumbers.PhoneNumberDesc -> *regexp.Regexp

// descMatches is phonenumbers' test of a national number against a number
// type: one of its possible lengths, if it lists any, and its whole pattern.
func descMatches(d *phonenumbers.PhoneNumberDesc, nsn string) bool {
	if d == nil {
		return false
	}
	if len(d.PossibleLength) > 0 && !slices.Contains(d.PossibleLength, int32(len(nsn))) {
		return false
	}
	re, ok := descRegexps.Load(d)
	if !ok {
		re, _ = descRegexps.LoadOrStore(d, regexp.MustCompile("^(?:"+d.GetNationalNumberPattern()+")$"))
	}
	return re.(*regexp.Regexp).MatchString(nsn)
}
