package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/metrics"
	"github.com/karyashala/karyashala/sms"
)

// component is a channel mounted on the server: its routes are added by its
// mount function, Ready reports whether it can serve (nil: always), Run does
// its background work until ctx ends (nil: none).
type component struct {
	Name  string
	Ready func() error
	// Detail, when it returns text, is shown by /readyz while the component
	// still serves (a refused menu reload, say): worth a look, not an outage.
	Detail func() string
	Run    func(ctx context.Context)
}

// mountFunc adds a channel's routes to app.
type mountFunc func(app *fiber.App, s *services, cfg config.Config) (*component, error)

// mounts lists the channels, explicitly, in the order their routes are added.
var mounts = []mountFunc{mountAPI, mountUSSD, mountSMS, mountConsole}

func serveCmd() *cobra.Command {
	var (
		demo       bool
		cpuProfile string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the gateway",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			stop, err := startCPUProfile("--cpuprofile", cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			return serve(cmd.Context(), cfg, demo)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "load demo data (a workshop, open tasks, trainings, one leader) into an empty database")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (read it with go tool pprof)")
	return cmd
}

// server is the HTTP server with every channel mounted.
type server struct {
	app        *fiber.App
	svc        *services
	components []*component
}

// newServer builds the app on open services.
func newServer(s *services, cfg config.Config) (*server, error) {
	app := fiber.New(fiber.Config{
		AppName: "karyashala",
		// Values from a request outlive it (session ids in caches and
		// locks, phones in queued messages): never let them alias
		// fasthttp's reused buffers.
		Immutable:             true,
		ErrorHandler:          api.ErrorHandler,
		BodyLimit:             256 << 10,
		ReadBufferSize:        sms.ReadBufferSize, // a long Hindi text in Kannel's query
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
	})
	app.Use(recover.New())
	app.Use(metrics.Middleware)

	srv := &server{app: app, svc: s}
	metrics.SetWriteStats(s.DB.WriteStats)
	metrics.SetJournalStats(s.DB.JournalStats)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok\n") })
	app.Get("/readyz", srv.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{})))

	if tok := cfg.Callbacks.Token; tok != "" {
		guard := callbackGuard(tok)
		app.Use("/ussd", guard)
		app.Use("/sms", guard)
	}
	for _, m := range mounts {
		comp, err := m(app, s, cfg)
		if err != nil {
			return nil, err
		}
		if comp != nil {
			srv.components = append(srv.components, comp)
		}
	}
	return srv, nil
}

// callbackGuard refuses carrier callbacks without ?token=VALUE, compared in
// constant time.
func callbackGuard(token string) fiber.Handler {
	want := []byte(token)
	return func(c *fiber.Ctx) error {
		got := []byte(c.Query("token"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return fiber.NewError(fiber.StatusForbidden, "callback token missing or wrong: add ?token=VALUE of callbacks.token to the URL configured at the carrier")
		}
		return c.Next()
	}
}

func (srv *server) readyz(c *fiber.Ctx) error {
	var problems, details []string
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := srv.svc.DB.Ping(ctx); err != nil {
		problems = append(problems, "database: "+err.Error())
	}
	for _, comp := range srv.components {
		if comp.Ready != nil {
			if err := comp.Ready(); err != nil {
				problems = append(problems, comp.Name+": "+err.Error())
			}
		}
		if comp.Detail != nil {
			if d := comp.Detail(); d != "" {
				details = append(details, d)
			}
		}
	}
	if len(problems) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).SendString("not ready\n" + strings.Join(problems, "\n") + "\n")
	}
	return c.SendString("ready\n" + strings.Join(append(details, ""), "\n"))
}

// tuneGC trades memory for CPU unless the operator set GOGC or GOMEMLIMIT:
// the live heap is small (tens of MB), so collecting at 5x it rather than 2x
// saves CPU on every request, and a soft limit keeps the process well under
// the 150 MB it is measured against.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(120 << 20)
	}
}

// serve runs until SIGINT or SIGTERM, then stops accepting, finishes requests
// in flight, stops background work and closes the database.
func serve(ctx context.Context, cfg config.Config, demo bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	tuneGC()
	s, err := openServices(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.DB.ReadIndexes(); err != nil {
		return err
	}
	if demo {
		if err := loadDemo(ctx, s, cfg); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	srv, err := newServer(s, cfg)
	if err != nil {
		return err
	}
	// Bind before anything says the server is listening, or starts work in
	// the background: a taken port ends the run here, with nothing to stop.
	ln, err := net.Listen(srv.app.Config().Network, cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; set http.addr or KARYASHALA_HTTP_ADDR to a free address", cfg.HTTP.Addr, err)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bg, cancelBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, comp := range srv.components {
		if comp.Run != nil {
			wg.Add(1)
			go func(run func(context.Context)) { defer wg.Done(); run(bg) }(comp.Run)
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.app.Listener(ln) }()
	slog.Info("karyashala listening", "addr", cfg.HTTP.Addr, "db", cfg.DB.Path, "version", version)

	select {
	case err = <-errc:
		err = fmt.Errorf("serve on %s: %w", cfg.HTTP.Addr, err)
	case <-ctx.Done():
		slog.Info("shutting down: finishing requests in flight")
		if e := srv.app.ShutdownWithTimeout(20 * time.Second); e != nil && !errors.Is(e, context.Canceled) {
			slog.Warn("shutdown", "err", e)
		}
	}
	cancelBG()
	wg.Wait()
	slog.Info("stopped")
	return err
}

// startCPUProfile writes this process's CPU profile to path (none when path
// is empty) until stop is called; flag names the option in errors.
func startCPUProfile(flag, path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
