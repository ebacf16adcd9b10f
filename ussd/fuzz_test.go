package ussd_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
)

// FuzzEngine feeds random input sequences (one input per line) through the
// engine on a real database: every answer must start "CON " or "END " and
// fit the page limit, and no input may fail the engine.
func FuzzEngine(f *testing.F) {
	for _, s := range []string{
		"1\n1\n5", "98\n98\n0\n00", "7\nDrain*blocked", "3\n0\n0\n0", "2\n1\n3", "8\n2\n1\n98\n1",
		"4\n1\n1", "6\n4", "5\nsilai", "1*1*10", "\n\n", "00\n00\n0", "1\n2\n-5\n3.5\n99999999999999999999",
		"h:8\n2\n1\n1\n1", "u:1\nKamla\n1", "u:2\nनल में पानी नहीं",
	} {
		f.Add(s)
	}
	e := newEnv(f)
	var n atomic.Int64
	phones := map[string]string{"h": phoneSunita, "u": phoneUnknown, "p": phoneRekha}
	f.Fuzz(func(t *testing.T, script string) {
		phone := phoneAsha
		if p, rest, ok := strings.Cut(script, ":"); ok && phones[p] != "" {
			phone, script = phones[p], rest
		}
		sid := "fuzz-" + strconv.FormatInt(n.Add(1), 10)
		text := ""
		hops := strings.Split(script, "\n")
		if len(hops) > 15 {
			hops = hops[:15]
		}
		for i, in := range append([]string{""}, hops...) {
			if i == 1 {
				text = in
			} else if i > 1 {
				text += "*" + in
			}
			resp, err := e.eng.Handle(context.Background(), ussd.Request{SessionID: sid, Phone: phone, Text: text})
			if err != nil {
				if domain.ErrorCode(err) == domain.EINVALID {
					return // a malformed request, refused before anything changes
				}
				t.Fatalf("hop %q: %v", text, err)
			}
			s := resp.String()
			if !strings.HasPrefix(s, "CON ") && !strings.HasPrefix(s, "END ") {
				t.Fatalf("hop %q: answer %q starts with neither CON nor END", text, s)
			}
			if n, max := limits.Measure(resp.Text); n > max {
				t.Fatalf("hop %q: page of %d characters, limit %d:\n%s", text, n, max, resp.Text)
			}
			if resp.End {
				return
			}
		}
	})
}
