package domain

import (
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
		cc32 := int32(cc)
		if !phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn}) {
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
