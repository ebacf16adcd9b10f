package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestPerMinute(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	k := PerMinute(3)
	k.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if !k.Allow("a") {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	if k.Allow("a") {
		t.Fatal("fourth request in the same instant allowed")
	}
	if !k.Allow("b") {
		t.Fatal("another phone was limited by the first one's requests")
	}
	now = now.Add(20 * time.Second) // one token back at 3 a minute
	if !k.Allow("a") || k.Allow("a") {
		t.Fatal("refill after 20s should allow exactly one")
	}
	now = now.Add(10 * time.Minute)
	k.Allow("c")
	if k.Len() != 1 {
		t.Fatalf("idle buckets kept: %d", k.Len())
	}
}

func TestUnlimited(t *testing.T) {
	k := PerMinute(0)
	for i := 0; i < 1000; i++ {
		if !k.Allow("a") {
			t.Fatal("0 must mean unlimited")
		}
	}
}

// A phone that spent its burst stays limited when the buckets rotate: a
// rotation that forgot the current buckets would hand it a fresh burst.
func TestRotationKeepsActiveBuckets(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	k := PerMinute(3)
	k.now = func() time.Time { return now }
	k.Allow("warmup") // sets the first rotation time
	now = now.Add(k.idle - time.Second)
	for i := 0; i < 3; i++ {
		k.Allow("a")
	}
	now = now.Add(2 * time.Second) // past a rotation, under a token's refill (20s)
	if k.Allow("a") {
		t.Fatal("a phone that had spent its burst got a new one when the buckets rotated")
	}
	now = now.Add(k.idle + time.Second) // a second rotation: "a" was used in the last period
	if k.Allow("a") && k.Allow("a") && k.Allow("a") && k.Allow("a") {
		t.Fatal("more than the burst allowed after the second rotation")
	}
}

// Buckets of phones gone quiet are dropped after two periods, and a phone's
// bucket survives at least one full period after its last use.
func TestQuietPhonesForgotten(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	k := PerMinute(3)
	k.now = func() time.Time { return now }
	for i := 0; i < 1000; i++ {
		k.Allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if k.Len() != 1000 {
		t.Fatalf("Len = %d, want 1000", k.Len())
	}
	now = now.Add(k.idle + time.Second)
	k.Allow("new")
	if k.Len() != 1001 {
		t.Fatalf("after one rotation Len = %d, want 1001: buckets used a period ago must be kept", k.Len())
	}
	now = now.Add(k.idle + time.Second)
	k.Allow("new")
	if k.Len() != 1 {
		t.Fatalf("after two rotations Len = %d, want 1", k.Len())
	}
}

// A flood of distinct numbers ends generations early, so the buckets held
// never pass two generations' worth; a phone seen in the current one keeps
// its bucket.
func TestFloodOfNumbersBounded(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	k := PerMinute(3)
	k.now = func() time.Time { return now }
	k.maxKeys = 100
	for i := 0; i < 3; i++ {
		k.Allow("flooder")
	}
	for i := 0; i < 50; i++ {
		k.Allow(fmt.Sprint("spoofed ", i))
	}
	if k.Allow("flooder") {
		t.Fatal("a phone that had spent its burst got a new one under the cap")
	}
	for i := 0; i < 10_000; i++ {
		k.Allow(fmt.Sprint("spoofed ", i))
		if n := k.Len(); n > 2*k.maxKeys {
			t.Fatalf("%d buckets held after %d numbers, more than two generations of %d", n, i+1, k.maxKeys)
		}
	}
}
