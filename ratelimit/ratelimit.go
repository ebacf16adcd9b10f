// Package ratelimit limits requests per key (a phone number) with a token
// bucket per key, so one number cannot flood the complaint queue or the
// USSD engine while everyone else is served as usual.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed holds one token bucket per key. Buckets idle for longer than it
// takes to refill are dropped, so memory stays bounded by the number of
// phones active in the last few minutes.
type Keyed struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	limit   rate.Limit
	burst   int
	idle    time.Duration
	now     func() time.Time
	sweptAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// PerMinute allows n requests a minute per key, with bursts of up to n.
// n <= 0 means unlimited (Allow always true).
func PerMinute(n int) *Keyed {
	k := &Keyed{buckets: map[string]*bucket{}, burst: n, now: time.Now}
	if n > 0 {
		k.limit = rate.Limit(float64(n) / 60)
		k.idle = 2 * time.Minute
	}
	return k
}

// Allow reports whether key may make one more request now.
func (k *Keyed) Allow(key string) bool {
	if k.burst <= 0 {
		return true
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.sweptAt) > k.idle {
		for key, b := range k.buckets {
			if now.Sub(b.seen) > k.idle {
				delete(k.buckets, key)
			}
		}
		k.sweptAt = now
	}
	b := k.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// Len is the number of keys tracked, for tests and metrics.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// PhoneKey reduces a phone number as a carrier wrote it to its digits, so
// "+91 98123 45678" and "919812345678" share one bucket.
func PhoneKey(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	if len(b) > 10 {
		b = b[len(b)-10:]
	}
	return string(b)
}
