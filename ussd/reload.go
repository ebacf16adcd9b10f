package ussd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Reloader reloads an engine's menus from files: on request, when a file
// changes, and on SIGHUP. A menu set with problems is refused and the last
// good one keeps serving (still ready); Detail says why until a good one
// loads.
type Reloader struct {
	eng   *Engine
	paths []string

	mu       sync.Mutex
	loadedAt time.Time
	failed   error
}

// NewReloader returns a reloader of eng's menus from paths (menus.path).
func NewReloader(eng *Engine, paths []string) *Reloader {
	return &Reloader{eng: eng, paths: paths, loadedAt: time.Now()}
}

// Reload loads the menus again and swaps them in when they have no
// problems; otherwise it keeps the menus being served and returns the
// problems.
func (r *Reloader) Reload() error {
	m, probs := LoadFiles(r.paths, r.eng.Options())
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(probs) > 0 {
		r.failed = probs
		for _, p := range probs {
			slog.Error("menu reload refused; serving the last good menus", "problem", p.String())
		}
		return probs
	}
	r.eng.SetMenus(m)
	r.loadedAt, r.failed = time.Now(), nil
	slog.Info("menus reloaded", "files", len(m.Files), "screens", len(m.Screens))
	return nil
}

// Ready is nil while the menus on disk are the ones served. After a refused
// reload it explains that the last good menus are still being served and
// what is wrong with the new ones.
func (r *Reloader) Ready() error {
	if r.eng.Menus() == nil {
		return fmt.Errorf("no menus loaded")
	}
	return nil
}

// Detail says, while the service stays ready on the last good menus, that
// the edited ones were refused and why; "" when the last reload worked.
func (r *Reloader) Detail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil {
		return fmt.Sprintf("ussd: serving the menus loaded at %s; the edited menus were refused:\n%v", r.loadedAt.Format(time.RFC3339), r.failed)
	}
	return ""
}

// Status is when the menus in use were loaded and why the last reload was
// refused (nil when it was not), for the console's menus page.
func (r *Reloader) Status() (loadedAt time.Time, failed error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadedAt, r.failed
}

// Watch reloads on file changes under the menu paths and on SIGHUP until
// ctx ends. Bursts of events (an editor's write-rename) are folded into one
// reload.
func (r *Reloader) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch menus: %w", err)
	}
	defer w.Close()
	// Watch folders, not files: editors replace files by renaming, which
	// would silently end a watch on the file itself.
	dirs := map[string]bool{}
	for _, p := range r.paths {
		d := p
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			d = filepath.Dir(p)
		}
		if !dirs[d] {
			dirs[d] = true
			if err := w.Add(d); err != nil {
				return fmt.Errorf("watch menus in %s: %w", d, err)
			}
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			slog.Info("SIGHUP: reloading menus")
			_ = r.Reload()
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if r.relevant(ev.Name) {
				debounce = time.After(200 * time.Millisecond)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			slog.Warn("menu watch", "err", err)
		case <-debounce:
			debounce = nil
			_ = r.Reload()
		}
	}
}

// relevant reports whether a changed file is one of the menu files.
func (r *Reloader) relevant(name string) bool {
	for _, p := range r.paths {
		if filepath.Clean(p) == filepath.Clean(name) {
			return true
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() && filepath.Dir(name) == filepath.Clean(p) {
			ext := filepath.Ext(name)
			return ext == ".yaml" || ext == ".yml"
		}
	}
	return false
}
