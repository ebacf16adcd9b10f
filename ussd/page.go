package ussd

import (
	"strings"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
)

// Limits are the longest screen a carrier shows: MaxGSM7 characters when the
// whole page is in the GSM-7 alphabet, MaxUCS2 otherwise.
type Limits struct {
	MaxGSM7 int
	MaxUCS2 int
}

// Fits reports whether page fits one screen. The "CON "/"END " prefix is the
// carrier's protocol and not shown, so it is not counted.
func (l Limits) Fits(page string) bool {
	n, max := l.Measure(page)
	return n <= max
}

// Measure returns a page's length in the units its encoding counts, and the
// limit that applies to it.
func (l Limits) Measure(page string) (n, max int) {
	if n, ok := domain.GSM7Len(page); ok {
		return n, l.MaxGSM7
	}
	for _, r := range page {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n, l.MaxUCS2
}

// nav is what the engine adds under a page's content.
type nav struct {
	back, home, more string // the labels to show; "" hides one
}

func (n nav) String() string {
	var parts []string
	for _, s := range []string{n.back, n.home, n.more} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func joinPage(blocks []string, n nav) string {
	s := strings.Join(blocks, "\n")
	if ns := n.String(); ns != "" {
		if s != "" {
			s += "\n"
		}
		s += ns
	}
	return s
}

// piece is a block, or part of one too long for a page; parts of one block
// that land on the same page are joined by a space, not a new line.
type piece struct {
	text string
	cont bool // continues the previous piece's block
}

func joinPieces(ps []piece, n nav) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			if p.cont {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		}
		b.WriteString(p.text)
	}
	return joinPage([]string{b.String()}, n)
}

// paginate splits blocks (lines of a screen) into pages that each fit lim
// with their navigation line. back and home are shown on every page when
// there is history (back also on pages after the first, as it turns the
// page back); more appears on every page but the last. A block too long for
// any page is split at spaces, and a word too long is cut.
func paginate(lim Limits, blocks []string, backLbl, homeLbl, moreLbl string, hasHistory bool) []string {
	navFor := func(page int, last bool) nav {
		var n nav
		if hasHistory || page > 0 {
			n.back = backLbl
		}
		if hasHistory {
			n.home = homeLbl
		}
		if !last {
			n.more = moreLbl
		}
		return n
	}
	if whole := joinPage(blocks, navFor(0, true)); lim.Fits(whole) {
		return []string{whole}
	}
	worst := nav{back: backLbl, home: homeLbl, more: moreLbl}
	var pieces []piece
	for _, b := range blocks {
		if lim.Fits(joinPage([]string{b}, worst)) {
			pieces = append(pieces, piece{text: b})
			continue
		}
		for i, part := range splitBlock(lim, b, worst) {
			pieces = append(pieces, piece{text: part, cont: i > 0})
		}
	}
	var pages []string
	for i := 0; len(pieces) > 0; i++ {
		pieces[0].cont = false
		if last := navFor(i, true); lim.Fits(joinPieces(pieces, last)) {
			pages = append(pages, joinPieces(pieces, last))
			break
		}
		n := navFor(i, false)
		k := 1
		for k < len(pieces) && lim.Fits(joinPieces(pieces[:k+1], n)) {
			k++
		}
		pages = append(pages, joinPieces(pieces[:k], n))
		pieces = pieces[k:]
	}
	if len(pages) == 0 {
		pages = []string{joinPage(nil, navFor(0, true))}
	}
	return pages
}

// splitBlock cuts one long block into pieces that each fit a page with the
// worst-case navigation line.
func splitBlock(lim Limits, b string, worst nav) []string {
	fits := func(s string) bool { return lim.Fits(joinPage([]string{s}, worst)) }
	var out []string
	cur := ""
	for _, w := range strings.Fields(b) {
		cand := w
		if cur != "" {
			cand = cur + " " + w
		}
		if fits(cand) {
			cur = cand
			continue
		}
		if cur != "" {
			out = append(out, cur)
			cur = ""
		}
		for !fits(w) {
			// cut the word at the longest prefix that fits
			cut := len(w)
			for cut > 0 && !fits(w[:cut]) {
				_, sz := utf8.DecodeLastRuneInString(w[:cut])
				cut -= sz
			}
			if cut == 0 { // navigation alone fills the page; give up cutting
				cut = len(w)
			}
			out = append(out, w[:cut])
			w = w[cut:]
			if w == "" {
				break
			}
		}
		cur = w
	}
	if cur != "" {
		out = append(out, cur)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}
