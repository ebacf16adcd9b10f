package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/internal/proc"
	"github.com/karyashala/karyashala/loadtest"
	"github.com/karyashala/karyashala/storage"
)

func loadtestCmd() *cobra.Command {
	var (
		target, modes, journey, token string
		cpuProfile, selfProfile       string
		duration                      time.Duration
		conc, seedSessions, rounds    int
		rate, rateShare               float64
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "measure hops/s, messages/s and latency against a loopback server, side by side with a do-nothing baseline",
		Long: `loadtest drives whole USSD journeys (POST /ussd/africastalking) and inbound SMS
(POST /sms/africastalking/inbound) against a server on this machine and prints
throughput and p50/p99/p999 latency, with a progress line while it runs.

Without --url it starts everything itself, each as its own process on a free
loopback port: a do-nothing Fiber handler (the baseline, a fixed 200 for
every request) and "karyashala serve --demo" on a fresh database in a
temporary folder, with a configuration of its own: the operator's
karyashala.yaml and KARYASHALA_ variables are ignored, and its replies are
logged, never sent. Each round, --rounds times over, it sends the baseline a
bodiless GET load, then for each mode the mode's own requests first to the
baseline and then to the server; with --latency-at it then offers that
share of the mode's baseline rate, open loop, to the baseline and to the
server in turn. It reports each mode's median share of its baseline (a
shared machine's speed drifts, so each share is taken within one round),
its share of the GET figure, the median latency at the offered rate beside
the baseline's at the same rate, how the SMS inbox kept up, and the
server's resident memory at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := loadtest.Options{Concurrency: conc, Duration: duration, Token: token, Rate: rate, Progress: cmd.ErrOrStderr()}
			if journey != "" {
				o.Journey = strings.Split(journey, ",")
			}
			stop, err := startCPUProfile("--self-cpuprofile", selfProfile)
			if err != nil {
				return err
			}
			defer stop()
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
			if rounds < 1 {
				return fmt.Errorf("--rounds %d: at least 1", rounds)
			}
			return spawnedLoad(cmd.Context(), cmd, o, modes, rounds, seedSessions, rateShare, cpuProfile)
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "base URL of a running server (loopback only); empty: start the baseline and the server here")
	cmd.Flags().StringVar(&modes, "modes", "ussd,sms", "what to send, in order: ussd, sms, bare")
	cmd.Flags().StringVar(&journey, "journey", "", "USSD inputs of one journey, comma-separated (default "+strings.Join(loadtest.DefaultJourney, ",")+")")
	cmd.Flags().StringVar(&token, "token", "", "callbacks.token of the server, if set")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long each mode runs")
	cmd.Flags().IntVar(&conc, "concurrency", 256, "concurrent connections")
	cmd.Flags().Float64Var(&rate, "rate", 0, "offer this many requests a second in total (open loop, latency from each request's due time); 0: as fast as possible")
	cmd.Flags().Float64Var(&rateShare, "latency-at", 0.4, "with a spawned server: each round, after a mode's throughput runs, offer this share of its baseline's rate open loop to the do-nothing handler and to the server, and compare their latency (0 skips)")
	cmd.Flags().IntVar(&rounds, "rounds", 3, "with a spawned server: measure the baseline and every mode this many times, in turn, and report the median share")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "with a spawned server: write the server's CPU profile to this file")
	cmd.Flags().StringVar(&selfProfile, "self-cpuprofile", "", "write the load generator's own CPU profile to this file (it shares the server's cores)")
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

// spawnedLoad starts the baseline and the real server as child processes,
// so the load generator's own CPU use is the same in both measurements,
// and measures them in turn, rounds times: a shared machine's speed
// drifts, so each mode is compared with the baseline of its own round and
// the shares' median is the figure to quote.
func spawnedLoad(ctx context.Context, cmd *cobra.Command, o loadtest.Options, modes string, rounds, seedSessions int, rateShare float64, cpuProfile string) error {
	out := cmd.OutOrStdout()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "karyashala-load-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The server runs in dir, so every path given to it must not depend on
	// the working folder (TMPDIR may be relative).
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}

	bareAddr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	bareURL := "http://" + bareAddr
	bare := exec.CommandContext(ctx, exe, "loadtest", "bare-server", bareAddr)
	if err := startAndWait(bare, bareURL+"/"); err != nil {
		return fmt.Errorf("baseline server: %w", err)
	}
	defer stop(bare)

	dbPath := filepath.Join(dir, "load.db")
	if seedSessions > 0 {
		if err := seedUSSDSessions(ctx, dbPath, seedSessions); err != nil {
			return err
		}
	}
	addr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	confPath, err := writeLoadConfig(dir, addr, dbPath, o.Token)
	if err != nil {
		return err
	}
	args := []string{"serve", "--demo", "--config", confPath}
	if cpuProfile != "" {
		// The server runs in the temporary folder: a relative path would
		// land there and be removed with it.
		if cpuProfile, err = filepath.Abs(cpuProfile); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		args = append(args, "--cpuprofile", cpuProfile)
	}
	srv := exec.CommandContext(ctx, exe, args...)
	srv.Dir, srv.Env = dir, serverEnv(os.Environ())
	if err := startAndWait(srv, "http://"+addr+"/readyz"); err != nil {
		return fmt.Errorf("karyashala server: %w", err)
	}
	defer stop(srv)
	url := "http://" + addr

	modeList := strings.Split(modes, ",")
	// Each mode's baseline is the same requests (same route, same form
	// body, the same journeys) sent to the do-nothing handler, so the load
	// generator's own cost is the same on both sides and only the
	// server's work differs. A bodiless GET, the baseline until session 2,
	// costs the generator less per request; its share is shown too.
	shares, getShares, cpuPer := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	modeBases, genPer := map[string][]float64{}, map[string][]float64{}
	// The load generator shares the machine's cores with the server it
	// measures, so its own CPU a request is reported too.
	self := os.Getpid()
	paced, pacedBase := map[string][]loadtest.Result{}, map[string][]loadtest.Result{}
	// The throughput runs' own latency: issue 5's p99 target is set at
	// the connections given, beside the share measured in the same run.
	closed, closedBase := map[string][]loadtest.Result{}, map[string][]loadtest.Result{}
	handlerP99 := map[string][]float64{}
	var lines []string
	var drains []string
	for round := 1; round <= rounds; round++ {
		o.URL, o.Mode = bareURL, "bare"
		cpu0, gen0 := cpuSeconds(bare.Process.Pid), cpuSeconds(self)
		get, err := loadtest.Run(ctx, o)
		if err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("round %d\n%s", round, labelled(get, "baseline, GET; server CPU "+perRequest(cpuSeconds(bare.Process.Pid)-cpu0, get.Requests)+
			", load generator "+perRequest(cpuSeconds(self)-gen0, get.Requests))))
		for _, m := range modeList {
			o.URL, o.Mode = bareURL, m
			cpu0, gen0 := cpuSeconds(bare.Process.Pid), cpuSeconds(self)
			base, err := loadtest.Run(ctx, o)
			if err != nil {
				return err
			}
			gen := cpuSeconds(self) - gen0
			modeBases[m] = append(modeBases[m], base.PerSecond())
			genPer[m] = append(genPer[m], 1e6*gen/float64(base.Requests))
			lines = append(lines, labelled(base, "baseline, same requests; server CPU "+perRequest(cpuSeconds(bare.Process.Pid)-cpu0, base.Requests)+
				", load generator "+perRequest(gen, base.Requests)))

			before, _ := loadtest.ReadInbox(ctx, url)
			cpu0 = cpuSeconds(srv.Process.Pid)
			o.URL = url
			r, err := loadtest.Run(ctx, o)
			if err != nil {
				return err
			}
			cpu := cpuSeconds(srv.Process.Pid) - cpu0
			share, getShare := 100*r.PerSecond()/base.PerSecond(), 100*r.PerSecond()/get.PerSecond()
			shares[m] = append(shares[m], share)
			closed[m], closedBase[m] = append(closed[m], r), append(closedBase[m], base)
			getShares[m] = append(getShares[m], getShare)
			cpuPer[m] = append(cpuPer[m], 1e6*cpu/float64(r.Requests))
			lines = append(lines, labelled(r, fmt.Sprintf("%5.1f%% of its baseline (%.1f%% of GET's), server CPU %s", share, getShare, perRequest(cpu, r.Requests))))
			if m == "sms" {
				end, err := loadtest.ReadInbox(ctx, url)
				if err != nil {
					return fmt.Errorf("read the server's inbox figures: %w", err)
				}
				took, err := waitInbox(ctx, url)
				if err != nil {
					return err
				}
				cpu := cpuSeconds(srv.Process.Pid) - cpu0
				drains = append(drains, fmt.Sprintf("sms: %.0f/s answered while accepting; %.0f left at the end, answered in %.1fs: %.0f msgs/s end to end; server CPU %s answered",
					(end.Answered-before.Answered)/r.Elapsed.Seconds(), end.Waiting, took.Seconds(),
					float64(r.Requests)/(r.Elapsed+took).Seconds(), perRequest(cpu, r.Requests)))
			}
			if rateShare > 0 && o.Rate == 0 {
				// Latency at a given load: the same offered rate, open
				// loop, to the do-nothing handler and to the server.
				po := o
				po.Mode, po.Rate = m, rateShare*base.PerSecond()
				po.URL = bareURL
				pb, err := loadtest.Run(ctx, po)
				if err != nil {
					return err
				}
				po.URL = url
				h0, err := loadtest.ReadHandlerTimes(ctx, url, modeRoutes[m])
				if err != nil {
					return err
				}
				pr, err := loadtest.Run(ctx, po)
				if err != nil {
					return err
				}
				h1, err := loadtest.ReadHandlerTimes(ctx, url, modeRoutes[m])
				if err != nil {
					return err
				}
				// The server's own histogram: how much of the tail is the
				// handlers' time, and how much waiting for the machine.
				inHandler := boundMS(h1.Since(h0).Bound(0.99))
				pacedBase[m], paced[m] = append(pacedBase[m], pb), append(paced[m], pr)
				handlerP99[m] = append(handlerP99[m], inHandler)
				lines = append(lines, labelled(pb, "do-nothing handler, same rate")+"\n"+
					labelled(pr, "server; in its handlers p99 "+boundText(inHandler)))
				if m == "sms" {
					if _, err := waitInbox(ctx, url); err != nil {
						return err
					}
				}
			}
		}
	}
	rss := rssMB(srv.Process.Pid)

	fmt.Fprintf(out, "concurrency %d, %s per run, %d rounds, %d cores on this machine\n", o.Concurrency, o.Duration, rounds, runtime.NumCPU())
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	for _, d := range drains {
		fmt.Fprintln(out, d)
	}
	fmt.Fprintf(out, "median share of the same round's baseline (%d rounds):\n", rounds)
	for _, m := range modeList {
		s, g := shares[m], getShares[m]
		fmt.Fprintf(out, "  %-5s %5.1f%%  (%.1f%% to %.1f%%) of the same requests to the do-nothing handler (median %.0f/s); %.1f%% of a GET; server CPU %.0fµs a request, load generator %.0fµs\n",
			m, median(s), slices.Min(s), slices.Max(s), median(modeBases[m]), median(g), median(cpuPer[m]), median(genPer[m]))
		srvP, baseP := latencies(closed[m]), latencies(closedBase[m])
		fmt.Fprintf(out, "        in the same runs, %d connections: p99 %.2fms (%.2f to %.2fms); the do-nothing handler's p99 %.2fms\n",
			o.Concurrency, srvP.p99, srvP.p99min, srvP.p99max, baseP.p99)
	}
	if len(paced) > 0 {
		fmt.Fprintf(out, "latency offering %.0f%% of the round's baseline rate (open loop, from each request's due time), median of %d rounds:\n", 100*rateShare, rounds)
		for _, m := range modeList {
			srvP, baseP := latencies(paced[m]), latencies(pacedBase[m])
			fmt.Fprintf(out, "  %-5s p50 %.2fms  p99 %.2fms  p999 %.2fms  (p99 %.2f to %.2fms); the do-nothing handler at the same rate: p50 %.2fms  p99 %.2fms  p999 %.2fms\n",
				m, srvP.p50, srvP.p99, srvP.p999, srvP.p99min, srvP.p99max, baseP.p50, baseP.p99, baseP.p999)
			fmt.Fprintf(out, "        in the server's handlers (its own histogram): p99 %s (median of the rounds' bounds)\n", boundText(median(handlerP99[m])))
		}
	}
	fmt.Fprintf(out, "server resident memory after the run: %.1f MB (sessions seeded: %d)\n", rss, seedSessions)
	return nil
}

// writeLoadConfig writes the spawned server's whole configuration into dir
// and returns its path. The load sends COMPLAINT messages from random
// numbers: with the operator's karyashala.yaml the server would answer
// them through a real carrier (paid SMS to strangers) or refuse them all
// for want of its callbacks.token, so it gets only what the load needs,
// and replies are logged, never sent.
func writeLoadConfig(dir, addr, dbPath, token string) (string, error) {
	conf := map[string]any{
		"http": map[string]any{"addr": addr},
		"db":   map[string]any{"path": dbPath},
		"log":  map[string]any{"level": "warn"},
		"sms":  map[string]any{"sender": "log"},
	}
	if token != "" {
		conf["callbacks"] = map[string]any{"token": token}
	}
	b, err := yaml.Marshal(conf)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "karyashala.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write the load server's configuration: %w", err)
	}
	return path, nil
}

// serverEnv is environ without its KARYASHALA_ variables, which would
// override the spawned server's own configuration key by key; the rest
// (PATH, HOME, GOMAXPROCS, GODEBUG...) is kept.
func serverEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "KARYASHALA_") {
			env = append(env, kv)
		}
	}
	return env
}

// waitInbox waits until the server has answered every stored SMS, a
// minute at most, and returns how long that took.
func waitInbox(ctx context.Context, url string) (time.Duration, error) {
	start := time.Now()
	for {
		in, err := loadtest.ReadInbox(ctx, url)
		if err != nil {
			return 0, fmt.Errorf("read the server's inbox figures: %w", err)
		}
		if in.Waiting == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > time.Minute {
			return 0, fmt.Errorf("the server still had %.0f SMS to answer a minute after the run", in.Waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// modeRoutes are the routes each mode's requests are posted to; a GET
// load ("bare") has no handler histogram worth reading.
var modeRoutes = map[string]string{"ussd": "/ussd/africastalking", "sms": "/sms/africastalking/inbound"}

// boundMS is a histogram bound in milliseconds: +Inf beyond the largest
// finite bucket, 0 when the histogram counted nothing.
func boundMS(d time.Duration) float64 {
	if d == time.Duration(math.MaxInt64) {
		return math.Inf(1)
	}
	return ms(d)
}

// boundText says what a bound in milliseconds means.
func boundText(v float64) string {
	switch {
	case v == 0:
		return "unknown (its histogram counted none of these requests)"
	case math.IsInf(v, 1):
		return "beyond the largest bucket"
	}
	return fmt.Sprintf("at most %.1fms", v)
}

// labelled puts label at the end of a result's first line, before any
// lines about missed requests or errors.
func labelled(r loadtest.Result, label string) string {
	s := r.String()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + "   " + label + s[i:]
	}
	return s + "   " + label
}

// pacedLatency is the medians, over rounds, of open-loop runs' percentiles,
// in milliseconds.
type pacedLatency struct{ p50, p99, p999, p99min, p99max float64 }

func latencies(rs []loadtest.Result) pacedLatency {
	var p50, p99, p999 []float64
	for _, r := range rs {
		p50, p99, p999 = append(p50, ms(r.P50)), append(p99, ms(r.P99)), append(p999, ms(r.P999))
	}
	if len(rs) == 0 {
		return pacedLatency{}
	}
	return pacedLatency{median(p50), median(p99), median(p999), slices.Min(p99), slices.Max(p99)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// startAndWait starts a child whose output goes to this command's stderr.
func startAndWait(c *exec.Cmd, readyURL string) error {
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	return proc.StartAndWait(c, readyURL, 30*time.Second)
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

// cpuSeconds reads the CPU time (user and system) a process has used from
// /proc (Linux); 0 where it cannot.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks: USER_HZ is 100 on Linux
}

func perRequest(cpu float64, requests int64) string {
	if requests == 0 || cpu <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0fµs a request", 1e6*cpu/float64(requests))
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
