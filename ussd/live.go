package ussd

import (
	"sync"
	"time"
	"unicode/utf8"
)

// liveSessions keeps the decoded state of sessions in progress, exactly as
// their last hop saved it, so the next hop need not read and decode it
// again. The engine is the only writer of sessions: an entry is present only
// while it matches what is durably stored, and the database stays the
// source of truth (a restart starts with an empty cache).
type liveSessions struct {
	mu  sync.Mutex
	m   map[string]*liveSession
	gen uint64 // bumped whenever sessions are changed outside their own hop
}

type liveSession struct {
	phone string
	st    *state
	at    time.Time // the UpdatedAt saved with it
}

// liveMax bounds the cache; an arbitrary entry makes room for a new one.
const liveMax = 10_000

// take removes id's entry and returns it (nil when there is none) with the
// generation to hand back to put. The hop owns the state until it puts it
// back, so a failed hop leaves nothing stale behind.
func (l *liveSessions) take(id string) (*liveSession, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.m[id]
	if s != nil {
		delete(l.m, id)
	}
	return s, l.gen
}

// lang is the language of id's live session, "" when it has none or a hop
// holds it. Entries in the map are not written to, so it may be read.
func (l *liveSessions) lang(id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.m[id]; s != nil {
		return s.st.Lang
	}
	return ""
}

// put stores s once its state is durable, unless a session was changed
// outside its hop since take returned gen.
func (l *liveSessions) put(id string, s *liveSession, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen != gen {
		return
	}
	if l.m == nil {
		l.m = make(map[string]*liveSession)
	}
	if len(l.m) >= liveMax {
		for k := range l.m {
			delete(l.m, k)
			break
		}
	}
	l.m[id] = s
}

// drop forgets id, for a change made outside its own hop.
func (l *liveSessions) drop(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	delete(l.m, id)
}

// dropBefore forgets sessions last saved before t, as the sweep deletes them.
func (l *liveSessions) dropBefore(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	for id, s := range l.m {
		if s.at.Before(t) {
			delete(l.m, id)
		}
	}
}

// reusable reports whether st decodes from its JSON encoding unchanged, so
// that keeping it is the same as reading it back: encoding/json replaces
// invalid UTF-8, which data read from the database could carry.
func (st *state) reusable() bool {
	if len(st.Vars) == 0 {
		return false // decoding would give a nil map back
	}
	for _, s := range [...]string{st.Screen, st.Lang, st.Text, st.Err, st.Resume, st.Home} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, f := range st.History {
		if !utf8.ValidString(f.Screen) {
			return false
		}
	}
	if !validMap(st.Vars) {
		return false
	}
	for _, it := range st.Items {
		if !validMap(it) {
			return false
		}
	}
	return true
}

func validMap(m map[string]string) bool {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// reset forgets every session.
func (l *liveSessions) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	l.m = nil
}

// sessionLocks serialise the hops of each session. A hop holds its lock
// until its session is saved, so locks shared between sessions (striped by
// a hash) would make unrelated callers wait for each other's commits.
type sessionLocks struct {
	mu sync.Mutex
	m  map[string]*sessionLock
}

type sessionLock struct {
	sync.Mutex
	ls    *sessionLocks
	id    string
	users int // hops holding or waiting for it; guarded by ls.mu
}

// lock locks id's mutex and returns it, to unlock when the hop is done.
func (ls *sessionLocks) lock(id string) *sessionLock {
	ls.mu.Lock()
	l := ls.m[id]
	if l == nil {
		if ls.m == nil {
			ls.m = make(map[string]*sessionLock)
		}
		l = &sessionLock{ls: ls, id: id}
		ls.m[id] = l
	}
	l.users++
	ls.mu.Unlock()
	l.Lock()
	return l
}

func (l *sessionLock) unlock() {
	l.Unlock()
	ls := l.ls
	ls.mu.Lock()
	if l.users--; l.users == 0 {
		delete(ls.m, l.id)
	}
	ls.mu.Unlock()
}
