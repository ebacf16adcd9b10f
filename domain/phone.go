package domain

import (
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
	e164, err := parsePhone(raw, region)
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
