package ussd

import (
	"context"
	"sort"
)

// Item is one entry of a data source or the result of an action: named,
// already formatted values a menu template can show ({{.title}}) and a later
// screen can read once it is saved in the session ({{.task.title}}).
type Item map[string]string

// Call is what a data source or action knows about the session calling it.
type Call struct {
	Phone string            // E.164
	Lang  string            // the session's language
	Vars  map[string]string // session values, flat ("member.id", "task.id")
}

// DataSource lists the items a dynamic menu shows.
type DataSource struct {
	Name   string
	Doc    string
	Fields []string // the item fields it fills, for docs and the checker
	Fetch  func(ctx context.Context, c *Call) ([]Item, error)
}

// Action is a domain operation a menu calls. It returns one of Outcomes,
// which the menu routes on, and a result the menu may save. An error is only
// for failures no screen can explain (the engine apologises and logs it).
type Action struct {
	Name     string
	Doc      string
	Params   []string // required parameters, given by the screen's with:
	Optional []string
	Outcomes []string
	// Instead names, for an outcome added after menus were written, the
	// older outcome whose route it takes when a menu does not route it, so
	// those menus keep passing the check and working.
	Instead map[string]string
	Run     func(ctx context.Context, c *Call, args map[string]string) (outcome string, result Item, err error)
}

// Registry is the set of data sources and actions menus may name. The
// checker uses it for names, parameters and outcomes; the engine calls it.
type Registry struct {
	sources map[string]*DataSource
	actions map[string]*Action
	// Who returns the session values describing the caller ("member.id",
	// "member.status", ...), read when a session starts and after every
	// action, so menus can route on registration, and the phone's
	// remembered language ("" when none), read with them in one go for a
	// session's first screen.
	Who func(ctx context.Context, phone string) (Item, string, error)
	// Lang returns a phone's remembered language ("" when none), for
	// when there is no session to take it from, and SetLang remembers
	// one.
	Lang    func(ctx context.Context, phone string) (string, error)
	SetLang func(ctx context.Context, phone, lang string) error
}

// NewRegistry returns an empty registry; see Builtins for the one that
// covers every worker journey.
func NewRegistry() *Registry {
	return &Registry{sources: map[string]*DataSource{}, actions: map[string]*Action{}}
}

// AddSource registers a data source, replacing one of the same name.
func (r *Registry) AddSource(s *DataSource) { r.sources[s.Name] = s }

// AddAction registers an action, replacing one of the same name.
func (r *Registry) AddAction(a *Action) { r.actions[a.Name] = a }

// Source returns the named data source, nil when unknown.
func (r *Registry) Source(name string) *DataSource { return r.sources[name] }

// ActionByName returns the named action, nil when unknown.
func (r *Registry) ActionByName(name string) *Action { return r.actions[name] }

// SourceNames lists the data sources in name order, for messages and docs.
func (r *Registry) SourceNames() []string {
	out := make([]string, 0, len(r.sources))
	for n := range r.sources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ActionNames lists the actions in name order.
func (r *Registry) ActionNames() []string {
	out := make([]string, 0, len(r.actions))
	for n := range r.actions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
