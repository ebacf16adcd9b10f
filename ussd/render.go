package ussd

import (
	"fmt"
	"strconv"
	"strings"
)

// render builds the current page of the current screen.
func (h *hop) render() (Response, error) {
	st := h.st
	h.rendering = true
	defer func() { h.rendering, h.vars = false, nil }()
	var blocks []string
	if st.Err != "" {
		blocks = append(blocks, st.Err)
	}
	if st.Screen == resumeScreen {
		blocks = append(blocks, lines(h.sys("resume"))...)
		blocks = append(blocks, "1. "+h.sys("continue"), "2. "+h.sys("restart"))
		pages := h.paginate(blocks, false)
		st.Page = clamp(st.Page, len(pages))
		st.More = st.Page < len(pages)-1
		return Response{Text: pages[st.Page]}, nil
	}
	s := h.m.Screens[st.Screen]
	if s == nil {
		return Response{}, fmt.Errorf("screen %q is not defined in the loaded menus", st.Screen)
	}
	key := pageKey{screen: s, lang: st.Lang, err: st.Err, history: len(st.History) > 0}
	if s.static {
		if pages, ok := h.e.pages.get(h.m, key); ok {
			return h.page(s, pages), nil
		}
	}
	var header []string
	if s.Text != nil {
		text := lines(h.text(s.Text, nil))
		// An input's error says what to type; when it and the prompt do not
		// fit one page together, the error alone is the better screen.
		if s.Kind == KindInput && st.Err != "" && !h.e.cfg.Limits.Fits(joinPage(append(blocks, text...), h.navAll())) {
			text = nil
		}
		blocks = append(blocks, text...)
		header = text
	}
	if s.Kind == KindMenu {
		n := 0
		if s.Items != nil {
			if len(st.Items) == 0 && s.Items.Empty != nil {
				// The empty text says it all; the header would only push
				// it to a second page.
				blocks = append(blocks[:len(blocks)-len(header)], lines(h.text(s.Items.Empty, nil))...)
			}
			for _, it := range st.Items {
				n++
				blocks = append(blocks, strconv.Itoa(n)+". "+oneLine(h.text(s.Items.Label, it)))
			}
		}
		for _, o := range s.Options {
			if holds(o.When, st.Vars) {
				n++
				blocks = append(blocks, strconv.Itoa(n)+". "+oneLine(h.text(o.Label, nil)))
			}
		}
	}
	pages := h.paginate(blocks, key.history && s.Kind != KindEnd)
	if s.static {
		h.e.pages.put(h.m, key, pages)
	}
	return h.page(s, pages), nil
}

// page is the response showing st.Page of pages, the screen's last when
// the session asked for one past it.
func (h *hop) page(s *Screen, pages []string) Response {
	st := h.st
	end := s.Kind == KindEnd
	st.Page = clamp(st.Page, len(pages))
	st.More = st.Page < len(pages)-1
	return Response{Text: pages[st.Page], End: end && st.Page == len(pages)-1}
}

func (h *hop) paginate(blocks []string, hasHistory bool) []string {
	return paginate(h.e.cfg.Limits, blocks, h.sys("back"), h.sys("home"), h.sys("more"), hasHistory)
}

// navAll is the navigation line with back and home, for fitting decisions.
func (h *hop) navAll() nav { return nav{back: h.sys("back"), home: h.sys("home")} }

func clamp(p, n int) int {
	if p >= n {
		return n - 1
	}
	if p < 0 {
		return 0
	}
	return p
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n ")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// sys returns a system text in the session's language.
func (h *hop) sys(key string) string {
	return h.text(h.m.System[key], nil)
}

// text renders t in the session's language (falling back to the default
// language) with the session values, and item's fields on top when given.
func (h *hop) text(t *Text, item Item) string {
	if t == nil {
		return ""
	}
	lang := h.st.Lang
	tm := t.tmpl[lang]
	if tm == nil {
		lang = ""
		tm = t.tmpl[lang]
	}
	if tm == nil && len(h.e.cfg.Languages) > 0 {
		lang = h.e.cfg.Languages[0]
		tm = t.tmpl[lang]
	}
	if tm == nil {
		return ""
	}
	if s, ok := t.fixed[lang]; ok {
		return s
	}
	var data map[string]any
	if h.rendering {
		// The session values do not change while rendering: nest them once.
		if h.vars == nil {
			h.vars = nest(h.st.Vars)
		}
		data = h.vars
		if len(item) > 0 {
			data = make(map[string]any, len(h.vars)+len(item))
			for k, v := range h.vars {
				data[k] = v
			}
		}
	} else {
		data = nest(h.st.Vars)
	}
	for k, v := range item {
		data[k] = v
	}
	var b strings.Builder
	// A template reading a value of the wrong shape shows what it can.
	_ = tm.Execute(&b, data)
	return strings.ReplaceAll(b.String(), "<no value>", "")
}

// nest turns flat session values ("task.title") into the nested maps
// templates read ({{.task.title}}).
func nest(flat map[string]string) map[string]any {
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		parts := strings.Split(k, ".")
		cur := out
		for i, p := range parts {
			if i == len(parts)-1 {
				if _, isMap := cur[p].(map[string]any); !isMap {
					cur[p] = v
				}
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
	return out
}
