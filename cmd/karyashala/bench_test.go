package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/loadtest"
)

// BenchmarkSMSInboundServer posts COMPLAINT messages through the whole app
// (64 concurrent callers): each is stored durably before the 200, and the
// inbox answers them meanwhile (a complaint and a queued reply each).
// answered/s is how many of them it answered in the same time.
func BenchmarkSMSInboundServer(b *testing.B) {
	srv, s := testServerB(b)
	startComponents(b, srv)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			// A carrier's message ids are random, not in order.
			body := fmt.Sprintf("from=%%2B9196%08d&to=384&text=COMPLAINT+leak+%d&id=ATXid_%016x%016x", i, i, rand.Uint64(), rand.Uint64())
			req := httptest.NewRequest("POST", "/sms/africastalking/inbound", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := srv.app.Test(req, -1)
			if err != nil || resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				b.Fatal(err, resp.StatusCode, string(body))
			}
		}
	})
	elapsed := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/elapsed, "msgs/s")
	if waiting, err := s.Messages.Backlog(context.Background()); err == nil {
		b.ReportMetric(float64(b.N-waiting)/elapsed, "answered/s")
	}
	reportBatches(b, s)
}

// BenchmarkUSSDServer runs four-hop USSD journeys through the whole app with
// persisted sessions, 64 callers each dialling one journey after another,
// and reports the hops' median and 99th-percentile time in the app (no
// network: what the server's own work, its waits for the writer included,
// adds to a carrier's wait).
func BenchmarkUSSDServer(b *testing.B) {
	srv, s := testServerB(b)
	startComponents(b, srv)
	runJourneys(b, srv, 32) // 64 callers on 2 cores
	reportBatches(b, s)
}

// BenchmarkUSSDBesideSMSServer is BenchmarkUSSDServer with 16 callers while
// four carriers post a COMPLAINT every 2 ms or so each, which the inbox
// answers meanwhile: how much a stream of durable writes costs the hops.
func BenchmarkUSSDBesideSMSServer(b *testing.B) {
	srv, s := testServerB(b)
	startComponents(b, srv)
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				i := sent.Add(1)
				body := fmt.Sprintf("from=%%2B9195%08d&to=384&text=COMPLAINT+leak+%d&id=beside%d", i, i, i)
				req := httptest.NewRequest("POST", "/sms/africastalking/inbound", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if resp, err := srv.app.Test(req, -1); err != nil || resp.StatusCode != 200 {
					b.Error("sms", err)
					return
				}
			}
		})
	}
	runJourneys(b, srv, 8) // 16 callers on 2 cores
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(sent.Load())/b.Elapsed().Seconds(), "sms/s")
	reportBatches(b, s)
}

// runJourneys runs b.N USSD hops from parallelism×GOMAXPROCS callers, each
// dialling four-hop journeys one after another, and reports hops/s and the
// hops' median and 99th-percentile latency.
func runJourneys(b *testing.B, srv *server, parallelism int) {
	var sessions atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	texts := []string{"", "1", "1*1", "1*1*0"}
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		var sid int64
		for hop := 0; pb.Next(); hop++ {
			if hop%len(texts) == 0 {
				sid = sessions.Add(1)
			}
			body := fmt.Sprintf("sessionId=s%d&phoneNumber=%%2B9196%08d&serviceCode=*384%%23&text=%s", sid, sid, texts[hop%len(texts)])
			req := httptest.NewRequest("POST", "/ussd/africastalking", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			t0 := time.Now()
			resp, err := srv.app.Test(req, -1)
			mine = append(mine, time.Since(t0))
			if err != nil || resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				b.Fatal(err, resp.StatusCode, string(body))
			}
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hops/s")
	if len(lats) > 0 {
		slices.Sort(lats)
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lats[(len(lats)-1)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// startComponents runs the background work (outbox senders, reloads) as
// serve does, so benchmarks pay for it too.
func startComponents(b testing.TB, srv *server) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range srv.components {
		if c.Run != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.Run(ctx) }()
		}
	}
	b.Cleanup(func() { cancel(); wg.Wait() })
}

// reportBatches shows how many callers' writes each commit carried.
func reportBatches(b *testing.B, s *services) {
	batches, jobs := s.DB.WriteStats()
	if batches > 0 {
		b.ReportMetric(float64(jobs)/float64(batches), "writes/commit")
	}
	if flushes, sessions, _ := s.DB.JournalStats(); flushes > 0 {
		b.ReportMetric(float64(sessions)/float64(flushes), "sessions/flush")
	}
}

// BenchmarkUSSDHandlerHop runs the loadtest's default journey (a new
// session id and a random phone after each) through the app's fasthttp
// handler with no connection, the rate limits at their defaults: the
// server's own CPU for a hop without the reads and writes, which the
// kernel's share dominates in a load run.
func BenchmarkUSSDHandlerHop(b *testing.B) {
	srv, _ := testServer(b, func(c *config.Config) {
		c.Log.Level = "warn"
		d := config.Default()
		c.RateLimit = d.RateLimit
	})
	startComponents(b, srv)
	h := srv.app.Handler()
	texts := loadtest.JourneyTexts(loadtest.DefaultJourney)
	var sessions atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		var session, body []byte
		hop := len(texts)
		for pb.Next() {
			if hop >= len(texts) {
				id := sessions.Add(1)
				session = fmt.Appendf(session[:0], "sessionId=ATUid_%032x&phoneNumber=%%2B9197%08d&serviceCode=%%2A384%%23&networkCode=40410&text=", rand.Uint64()^uint64(id), rand.IntN(100_000_000))
				hop = 0
			}
			body = append(append(body[:0], session...), texts[hop]...)
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.Header.SetMethod(fasthttp.MethodPost)
			ctx.Request.SetRequestURI("/ussd/africastalking")
			ctx.Request.Header.SetContentType("application/x-www-form-urlencoded")
			ctx.Request.SetBody(body)
			h(&ctx)
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("hop %d: %d %s", hop, ctx.Response.StatusCode(), ctx.Response.Body())
			}
			if bytes.HasPrefix(ctx.Response.Body(), []byte("END ")) {
				hop = len(texts)
			} else {
				hop++
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hops/s")
}
