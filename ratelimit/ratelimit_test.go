package ratelimit

import (
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

func TestPhoneKey(t *testing.T) {
	if PhoneKey("+91 98123 45678") != PhoneKey("919812345678") || PhoneKey("09812345678") != "9812345678" {
		t.Fatal("formats of one number must share a key")
	}
}
