package ussd

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestEncodeState holds state.encode to json.Marshal on states of every
// shape, and checks they decode back.
func TestEncodeState(t *testing.T) {
	strs := []string{"", "menu", "Asha", "नमस्ते", "a<b>&c", `q"u\o`, "line\nbreak\ttab\x01", "\u2028\u2029", "bad\xffutf8", "emoji 😀", "1*2*3"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return strs[rng.IntN(len(strs))] }
	randMap := func() map[string]string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for range rng.IntN(6) + 1 {
			m[pick()] = pick()
		}
		return m
	}
	for i := range 5000 {
		st := &state{Screen: pick(), Page: rng.IntN(3) - 1, Lang: pick(), Text: pick(), Err: pick(), Resume: pick(), Home: pick(), Vars: randMap(), More: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			st.History = []frame{}
			for range rng.IntN(4) {
				st.History = append(st.History, frame{Screen: pick(), Page: rng.IntN(3)})
			}
		}
		if rng.IntN(2) == 0 {
			st.Items = []Item{}
			for range rng.IntN(4) {
				st.Items = append(st.Items, randMap())
			}
		}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.encode(); !bytes.Equal(got, want) {
			t.Fatalf("state %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzEncodeState(f *testing.F) {
	f.Add("menu", "k", "v", "नमस्ते", 1)
	f.Add("a<b>", "\u2028", "bad\xff", "x\ty", -3)
	f.Fuzz(func(t *testing.T, screen, k, v, text string, page int) {
		st := &state{Screen: screen, Page: page, Vars: map[string]string{k: v, v: k}, Text: text, Lang: k,
			History: []frame{{Screen: text, Page: page}}, Items: []Item{{k: text}, nil}, Err: v}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.encode(); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
