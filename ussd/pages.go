package ussd

import "sync"

// pageCache keeps the pages of static screens (Screen.static), which
// depend on nothing but the screen, the language, the error shown with it
// and whether there is a way back: most hops land on one, and paginating
// it again was a sixth of a hop's CPU in the engine. It holds one menu set's
// pages and starts over when the engine serves another.
type pageCache struct {
	mu    sync.RWMutex
	menus *Menus
	pages map[pageKey][]string
}

type pageKey struct {
	screen  *Screen
	lang    string
	err     string
	history bool
}

// pageCacheMax bounds the cache: screens × languages × errors × 2 stays far
// below it for any real menu set, but an error text is a template and could
// be made to vary.
const pageCacheMax = 4096

func (c *pageCache) get(m *Menus, k pageKey) ([]string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.menus != m {
		return nil, false
	}
	p, ok := c.pages[k]
	return p, ok
}

func (c *pageCache) put(m *Menus, k pageKey, pages []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.menus != m {
		c.menus, c.pages = m, make(map[pageKey][]string)
	}
	if len(c.pages) < pageCacheMax {
		c.pages[k] = pages
	}
}

// markStatic sets Screen.static on every screen whose page is the same for
// every caller: no items, no conditional options, and texts (its own, its
// options' and the navigation's) that are only text in every language.
func (m *Menus) markStatic() {
	for _, k := range []string{"back", "home", "more"} {
		if !m.System[k].isFixed() {
			return
		}
	}
	for _, s := range m.Screens {
		s.static = s.Items == nil && s.Text.isFixed()
		for _, o := range s.Options {
			s.static = s.static && len(o.When) == 0 && o.Label.isFixed()
		}
	}
}

// isFixed reports whether t renders the same whatever the session holds.
func (t *Text) isFixed() bool { return t == nil || len(t.fixed) == len(t.tmpl) }
