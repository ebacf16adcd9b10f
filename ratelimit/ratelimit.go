// Package ratelimit limits requests per key with a token bucket per key.
// The SMS inbox and the USSD engine key it by the caller's number once it
// is parsed to E.164, so one number cannot flood the complaint queue or the
// USSD engine, however a carrier writes it, while everyone else is served
// as usual.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed holds one token bucket per key. Buckets live in two generations:
// every idle period the current map becomes the previous one and the old
// previous one is dropped whole, so a bucket unused for two periods is
// forgotten and memory stays bounded by the phones active in the last few
// minutes. Rotating is O(1): a sweep over every bucket under the lock would
// hold up every caller for as long as it took (tens of milliseconds at a
// few hundred thousand phones). A generation also ends early once it holds
// maxKeys buckets, so a flood of distinct numbers (spoofed senders, say)
// cannot grow memory past two generations' worth.
type Keyed struct {
	mu        sync.Mutex
	cur, prev map[string]*rate.Limiter
	limit     rate.Limit
	burst     int
	idle      time.Duration
	maxKeys   int
	now       func() time.Time
	rotatedAt time.Time
}

// maxKeys bounds one generation: 50,000 phones in one idle period is far
// beyond a programme's traffic, and two generations of buckets take about
// 13 MB of heap (26 MB for 200,000, measured). Past it, a phone's bucket
// lasts less than a period, which only a flood of other numbers can bring
// about.
const maxKeys = 50_000

// PerMinute allows n requests a minute per key, with bursts of up to n.
// n <= 0 means unlimited (Allow always true).
func PerMinute(n int) *Keyed {
	k := &Keyed{cur: map[string]*rate.Limiter{}, burst: n, maxKeys: maxKeys, now: time.Now}
	if n > 0 {
		k.limit = rate.Limit(float64(n) / 60)
		// A bucket is dropped at least one idle period after its last use,
		// by when it has refilled (n tokens at n a minute take a minute):
		// forgetting it changes nothing.
		k.idle = 2 * time.Minute
	}
	return k
}

// Allow reports whether key may make one more request now. The map keeps
// key, so it must not share memory a server reuses.
func (k *Keyed) Allow(key string) bool {
	if k.burst <= 0 {
		return true
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if since := now.Sub(k.rotatedAt); since > k.idle {
		k.rotate(now)
		if since > 2*k.idle {
			k.prev = nil // the current generation is as stale as the previous
		}
	}
	b := k.cur[key]
	if b == nil {
		if b = k.prev[key]; b != nil {
			delete(k.prev, key)
		} else {
			b = rate.NewLimiter(k.limit, k.burst)
		}
		if len(k.cur) >= k.maxKeys {
			k.rotate(now)
		}
		k.cur[key] = b
	}
	return b.AllowN(now, 1)
}

// rotate starts a new generation; the current one becomes the previous.
// k.mu must be held.
func (k *Keyed) rotate(now time.Time) {
	k.prev, k.cur = k.cur, make(map[string]*rate.Limiter, len(k.cur))
	k.rotatedAt = now
}

// Len is the number of keys tracked, for tests and metrics.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.cur) + len(k.prev)
}
