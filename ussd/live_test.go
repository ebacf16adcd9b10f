package ussd

import (
	"sync"
	"testing"
	"time"
)

func TestLiveSessions(t *testing.T) {
	var l liveSessions
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s, gen := l.take("a")
	if s != nil {
		t.Fatal("empty cache gave a session")
	}
	l.put("a", &liveSession{phone: "+91", st: &state{}, at: at}, gen)
	if s, _ := l.take("a"); s == nil {
		t.Fatal("put session not found")
	}
	if s, _ := l.take("a"); s != nil {
		t.Fatal("take left the session in place")
	}

	// A session ended or swept while a hop has it is not put back.
	_, gen = l.take("b")
	l.drop("c")
	l.put("b", &liveSession{st: &state{}, at: at}, gen)
	if s, _ := l.take("b"); s != nil {
		t.Fatal("put after drop kept a session that may be stale")
	}

	_, gen = l.take("old")
	l.put("old", &liveSession{st: &state{}, at: at}, gen)
	_, gen = l.take("new")
	l.put("new", &liveSession{st: &state{}, at: at.Add(time.Hour)}, gen)
	l.dropBefore(at.Add(time.Minute))
	if s, _ := l.take("old"); s != nil {
		t.Error("swept session still cached")
	}
	if s, _ := l.take("new"); s == nil {
		t.Error("recent session dropped by the sweep")
	}
}

func TestSessionLocks(t *testing.T) {
	var ls sessionLocks
	var wg sync.WaitGroup
	n := map[string]*int{"a": new(int), "b": new(int), "c": new(int)} // one counter per session
	for i := range 200 {
		id := []string{"a", "b", "c"}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := ls.lock(id)
			*n[id]++ // the race detector objects unless hops of id are serialised
			l.unlock()
		}()
	}
	wg.Wait()
	if *n["a"]+*n["b"]+*n["c"] != 200 {
		t.Errorf("counts %d %d %d", *n["a"], *n["b"], *n["c"])
	}
	if len(ls.m) != 0 {
		t.Errorf("%d locks left after every hop finished", len(ls.m))
	}
}
