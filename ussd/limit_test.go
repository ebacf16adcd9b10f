package ussd_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/karyashala/karyashala/ussd"
)

// gate is a Limiter the test opens and shuts, recording who was asked for.
type gate struct {
	mu    sync.Mutex
	shut  bool
	asked []string
}

func (g *gate) Allow(phone string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.asked = append(g.asked, phone)
	return !g.shut
}

func (g *gate) set(shut bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut = shut
}

// A hop over the phone's limit ends the session with the menus' too_many
// text in the session's language, and changes nothing: the stored session
// is as the last allowed hop left it, and once the limit lets her through
// she goes on from there.
func TestLimitedHopChangesNothing(t *testing.T) {
	e := newEnv(t)
	g := &gate{}
	cfg := e.config()
	cfg.Limit = g
	opt := ussd.Options{Languages: []string{"en", "hi"}, Limits: limits, Registry: e.registry()}
	m, probs := ussd.LoadBuiltin(opt)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.eng = ussd.New(m, opt.Registry, e.store, cfg)
	ctx := context.Background()
	hop := func(id, phone, text string) ussd.Response {
		t.Helper()
		resp, err := e.eng.Handle(ctx, ussd.Request{SessionID: id, Phone: phone, ServiceCode: "*384#", Text: text})
		if err != nil {
			t.Fatalf("hop %q: %v", text, err)
		}
		return resp
	}
	hop("lim1", phoneSunita, "")
	want := hop("lim1", phoneSunita, "1") // her first choice, kept for comparison
	before, err := e.store.SessionByID(ctx, "lim1")
	if err != nil {
		t.Fatal(err)
	}

	g.set(true)
	got := hop("lim1", phoneSunita, "1*1")
	hindi := m.System["too_many"].Src["hi"]
	if !got.End || got.Text != hindi {
		t.Fatalf("limited hop of a Hindi session: %+v, want END %q", got, hindi)
	}
	after, err := e.store.SessionByID(ctx, "lim1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.State, after.State) || !before.UpdatedAt.Equal(after.UpdatedAt) || after.Ended {
		t.Fatalf("the limited hop changed the stored session:\n%s\n%s (ended %v)", before.State, after.State, after.Ended)
	}
	// A new session has no language yet: the default one.
	if got := hop("lim2", phoneAsha, ""); !got.End || got.Text != m.System["too_many"].Src["en"] {
		t.Fatalf("limited first hop: %+v, want END in English", got)
	}
	if _, err := e.store.SessionByID(ctx, "lim2"); err == nil {
		t.Fatal("a limited first hop stored a session")
	}

	g.set(false)
	// The carrier resends her last input: the engine answers as if the
	// limited hop never came, from the screen she was on.
	if got := hop("lim1", phoneSunita, "1"); got != want {
		t.Fatalf("after the limit: %+v, want %+v again", got, want)
	}
	if got := hop("lim1", phoneSunita, "1*1"); got.End && got.Text == hindi {
		t.Fatalf("allowed hop refused: %+v", got)
	}
	for _, p := range g.asked {
		if p != phoneSunita && p != phoneAsha {
			t.Fatalf("limiter asked about %q, want the callers' E.164 numbers", p)
		}
	}
	if len(g.asked) != 6 {
		t.Fatalf("limiter asked %d times for 6 hops", len(g.asked))
	}
}
