// Package metrics holds Karyashala's Prometheus collectors: HTTP request
// counts and latencies per route, and domain counters every channel bumps.
package metrics

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is the registry /metrics serves; a package-level one keeps
// wiring simple, since there is one service per process.
var Registry = prometheus.NewRegistry()

var (
	// Requests counts HTTP requests by route pattern, method and status.
	Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "karyashala_http_requests_total",
		Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	// Latency observes HTTP handling time by route pattern.
	Latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "karyashala_http_request_seconds",
		Help:    "HTTP request handling time by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method"})
	// Events counts domain events: complaint_created, task_accepted,
	// work_reported, work_approved, payout, sms_in, sms_out_sent,
	// sms_out_failed, ussd_hop and so on.
	Events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "karyashala_events_total",
		Help: "Domain events by kind.",
	}, []string{"event"})
	// InboxWaiting is how many inbound SMS are stored and not yet answered.
	InboxWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "karyashala_sms_inbox_waiting",
		Help: "Inbound SMS stored and not yet answered.",
	})
)

// writeStats reports the database's commits and the writes they carried;
// SetWriteStats installs it.
var writeStats atomic.Pointer[func() (commits, writes int64)]

// SetWriteStats makes /metrics report the group committer's figures:
// writes over commits is how many callers shared each commit.
func SetWriteStats(f func() (commits, writes int64)) { writeStats.Store(&f) }

func readWriteStats(pick func(commits, writes int64) int64) func() float64 {
	return func() float64 {
		f := writeStats.Load()
		if f == nil {
			return 0
		}
		return float64(pick((*f)()))
	}
}

var (
	dbCommits = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "karyashala_db_commits_total",
		Help: "Write transactions committed by the group committer.",
	}, readWriteStats(func(c, _ int64) int64 { return c }))
	dbWrites = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "karyashala_db_writes_total",
		Help: "Callers' writes carried by those commits (writes/commits: callers per commit).",
	}, readWriteStats(func(_, w int64) int64 { return w }))
)

// journalStats reports the USSD session journal's flushes; SetJournalStats
// installs it.
var journalStats atomic.Pointer[func() (flushes, sessions int64, seconds float64)]

// SetJournalStats makes /metrics report the USSD session journal's
// flushes (storage.DB.JournalStats).
func SetJournalStats(f func() (flushes, sessions int64, seconds float64)) { journalStats.Store(&f) }

func readJournalStats(pick func(flushes, sessions int64, seconds float64) float64) func() float64 {
	return func() float64 {
		f := journalStats.Load()
		if f == nil {
			return 0
		}
		return pick((*f)())
	}
}

var (
	journalFlushes = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "karyashala_ussd_journal_flushes_total",
		Help: "Flushes of the USSD session journal into the sessions table.",
	}, readJournalStats(func(f, _ int64, _ float64) float64 { return float64(f) }))
	journalSessions = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "karyashala_ussd_journal_sessions_total",
		Help: "Sessions those flushes stored, each session's newest state once a flush (sessions/flushes: per flush).",
	}, readJournalStats(func(_, n int64, _ float64) float64 { return float64(n) }))
	journalSeconds = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "karyashala_ussd_journal_flush_seconds_total",
		Help: "Time those flushes took, until durable.",
	}, readJournalStats(func(_, _ int64, s float64) float64 { return s }))
)

func init() {
	Registry.MustRegister(Requests, Latency, Events, InboxWaiting, dbCommits, dbWrites,
		journalFlushes, journalSessions, journalSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Inc bumps the domain event counter.
func Inc(event string) { counter(event).Inc() }

// Add adds n to the domain event counter.
func Add(event string, n int) { counter(event).Add(float64(n)) }

// counters keeps each event's counter once found: WithLabelValues hashes
// and validates the label on every call, and every hop counts events.
var counters sync.Map // event name -> prometheus.Counter

func counter(event string) prometheus.Counter {
	if c, ok := counters.Load(event); ok {
		return c.(prometheus.Counter)
	}
	c, _ := counters.LoadOrStore(event, Events.WithLabelValues(event))
	return c.(prometheus.Counter)
}

// Middleware records every request under its route pattern (not its path,
// so /api/v1/complaints/C1042 does not make a series per complaint), with
// the status the client got. A handler's error is answered here, by the
// app's error handler, as Fiber would after the chain: only then is its
// status known (a domain error's code maps to 404, 409 and so on, not 500).
// The error is then handled, so the middleware returns nil.
func Middleware(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if catch := c.App().ErrorHandler(c, err); catch != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError) // what Fiber does when its error handler fails
		}
	}
	route := c.Route().Path
	if route == "" || route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	rs := seriesOf(route, c.Method(), c.Response().StatusCode())
	rs.requests.Inc()
	rs.latency.Observe(time.Since(start).Seconds())
	return nil
}

// routeKey names one request series; Fiber answers unknown methods
// before any middleware, so there are as many as routes, methods and
// status codes in use.
type routeKey struct {
	route, method string
	code          int
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// series keeps each request series once found, as counters does events:
// WithLabelValues hashed and checked three labels, twice a request.
var series struct {
	sync.RWMutex
	m map[routeKey]*routeSeries
}

func seriesOf(route, method string, code int) *routeSeries {
	k := routeKey{route, method, code}
	series.RLock()
	rs := series.m[k]
	series.RUnlock()
	if rs != nil {
		return rs
	}
	series.Lock()
	defer series.Unlock()
	if rs := series.m[k]; rs != nil {
		return rs
	}
	k.route, k.method = strings.Clone(route), strings.Clone(method)
	rs = &routeSeries{Requests.WithLabelValues(k.route, k.method, strconv.Itoa(code)), Latency.WithLabelValues(k.route, k.method)}
	if series.m == nil {
		series.m = make(map[routeKey]*routeSeries)
	}
	series.m[k] = rs
	return rs
}
