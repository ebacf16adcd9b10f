package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/loadtest"
	"github.com/karyashala/karyashala/storage"
)

func loadtestCmd() *cobra.Command {
	var (
		target, modes, journey, token string
		cpuProfile                    string
		duration                      time.Duration
		conc, seedSessions            int
		rate, rateShare               float64
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "measure hops/s, messages/s and latency against a loopback server, side by side with a do-nothing baseline",
		Long: `loadtest drives whole USSD journeys (POST /ussd/africastalking) and inbound SMS
(POST /sms/africastalking/inbound) against a server on this machine and prints
throughput and p50/p99/p999 latency, with a progress line while it runs.

Without --url it starts everything itself, each as its own process on a free
loopback port: first a do-nothing Fiber handler (the baseline), then
"karyashala serve --demo" on a fresh database in a temporary folder, and
reports each mode's throughput as a share of the baseline and the server's
resident memory at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := loadtest.Options{Concurrency: conc, Duration: duration, Token: token, Rate: rate, Progress: cmd.ErrOrStderr()}
			if journey != "" {
				o.Journey = strings.Split(journey, ",")
			}
			out := cmd.OutOrStdout()
			if target != "" {
				var results []loadtest.Result
				for _, m := range strings.Split(modes, ",") {
					o.URL, o.Mode = target, m
					r, err := loadtest.Run(cmd.Context(), o)
					if err != nil {
						return err
					}
					results = append(results, r)
				}
				for _, r := range results {
					fmt.Fprintln(out, r)
				}
				return nil
			}
			return spawnedLoad(cmd.Context(), cmd, o, modes, seedSessions, rateShare, cpuProfile)
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "base URL of a running server (loopback only); empty: start the baseline and the server here")
	cmd.Flags().StringVar(&modes, "modes", "ussd,sms", "what to send, in order: ussd, sms, bare")
	cmd.Flags().StringVar(&journey, "journey", "", "USSD inputs of one journey, comma-separated (default 1,1,0,2,00)")
	cmd.Flags().StringVar(&token, "token", "", "callbacks.token of the server, if set")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long each mode runs")
	cmd.Flags().IntVar(&conc, "concurrency", 256, "concurrent connections")
	cmd.Flags().Float64Var(&rate, "rate", 0, "offer this many requests a second in total (open loop, latency from each request's due time); 0: as fast as possible")
	cmd.Flags().Float64Var(&rateShare, "latency-at", 0.4, "with a spawned server: after the throughput runs, measure latency again offering this share of the baseline's rate (0 skips)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "with a spawned server: write the server's CPU profile to this file")
	cmd.Flags().IntVar(&seedSessions, "seed-sessions", 0, "with a spawned server: store this many finished USSD sessions first (memory with many sessions)")

	bare := &cobra.Command{
		Use:    "bare-server ADDR",
		Short:  "serve a do-nothing Fiber handler (the baseline loadtest compares against)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.All("/*", func(c *fiber.Ctx) error { return c.SendString("CON ok") })
			go func() {
				<-cmd.Context().Done()
				app.Shutdown()
			}()
			return app.Listen(args[0])
		},
	}
	cmd.AddCommand(bare)
	return cmd
}

// spawnedLoad runs the baseline and then the real server as child processes,
// so the load generator's own CPU use is the same in both measurements.
func spawnedLoad(ctx context.Context, cmd *cobra.Command, o loadtest.Options, modes string, seedSessions int, rateShare float64, cpuProfile string) error {
	out := cmd.OutOrStdout()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "karyashala-load-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	bare := exec.CommandContext(ctx, self, "loadtest", "bare-server", addr)
	if err := startAndWait(bare, "http://"+addr+"/"); err != nil {
		return fmt.Errorf("baseline server: %w", err)
	}
	o.URL, o.Mode = "http://"+addr, "bare"
	base, err := loadtest.Run(ctx, o)
	stop(bare)
	if err != nil {
		return err
	}

	dbPath := filepath.Join(dir, "load.db")
	if seedSessions > 0 {
		if err := seedUSSDSessions(ctx, dbPath, seedSessions); err != nil {
			return err
		}
	}
	if addr, err = freeAddr(); err != nil {
		return err
	}
	args := []string{"serve", "--demo"}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	srv := exec.CommandContext(ctx, self, args...)
	srv.Env = append(os.Environ(), "KARYASHALA_HTTP_ADDR="+addr, "KARYASHALA_DB_PATH="+dbPath, "KARYASHALA_LOG_LEVEL=warn")
	if o.Token != "" {
		srv.Env = append(srv.Env, "KARYASHALA_CALLBACKS_TOKEN="+o.Token)
	}
	if err := startAndWait(srv, "http://"+addr+"/readyz"); err != nil {
		return fmt.Errorf("karyashala server: %w", err)
	}
	defer stop(srv)
	results := []loadtest.Result{base}
	for _, m := range strings.Split(modes, ",") {
		o.URL, o.Mode = "http://"+addr, m
		r, err := loadtest.Run(ctx, o)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	var paced []loadtest.Result
	if rateShare > 0 && o.Rate == 0 {
		for _, m := range strings.Split(modes, ",") {
			po := o
			po.URL, po.Mode, po.Rate = "http://"+addr, m, rateShare*base.PerSecond()
			r, err := loadtest.Run(ctx, po)
			if err != nil {
				return err
			}
			paced = append(paced, r)
		}
	}
	rss := rssMB(srv.Process.Pid)

	fmt.Fprintf(out, "concurrency %d, %s per mode, %d cores on this machine\n", o.Concurrency, o.Duration, runtime.NumCPU())
	for _, r := range results {
		fmt.Fprintf(out, "%s   %5.1f%% of baseline\n", r, 100*r.PerSecond()/base.PerSecond())
	}
	if len(paced) > 0 {
		fmt.Fprintf(out, "latency offering %.0f%% of the baseline's rate (open loop, from each request's due time):\n", 100*rateShare)
		for _, r := range paced {
			fmt.Fprintln(out, r)
		}
	}
	fmt.Fprintf(out, "server resident memory after the run: %.1f MB (sessions seeded: %d)\n", rss, seedSessions)
	return nil
}

func seedUSSDSessions(ctx context.Context, path string, n int) error {
	db, err := storage.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	ss := storage.NewSessionStore(db)
	state := []byte(`{"lang":"en","screen":"home","stack":["home"],"values":{}}`)
	now := time.Now().UTC()
	// Concurrent saves so group commit batches them.
	errc := make(chan error, 64)
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem }()
			err := ss.SaveSession(ctx, &domain.USSDSession{ID: "seed-" + strconv.Itoa(i), Phone: fmt.Sprintf("+9195%08d", i), State: state, Ended: true, UpdatedAt: now})
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		}(i)
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("seed sessions: %w", err)
	default:
		return nil
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startAndWait(c *exec.Cmd, readyURL string) error {
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop(c)
	return fmt.Errorf("not ready at %s within 30s", readyURL)
}

func stop(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	c.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.Process.Kill()
		<-done
	}
}

// rssMB reads a process's resident set size from /proc (Linux).
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
