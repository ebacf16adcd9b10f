package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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
			body := fmt.Sprintf("from=%%2B9196%08d&to=384&text=COMPLAINT+leak+%d&id=b%d", i, i, i)
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
// persisted sessions (64 concurrent callers).
func BenchmarkUSSDServer(b *testing.B) {
	srv, s := testServerB(b)
	startComponents(b, srv)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			texts := []string{"", "1", "1*1", "1*1*0"}
			body := fmt.Sprintf("sessionId=s%d&phoneNumber=%%2B9196%08d&serviceCode=*384%%23&text=%s", i/4, i/4, texts[i%4])
			req := httptest.NewRequest("POST", "/ussd/africastalking", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := srv.app.Test(req, -1)
			if err != nil || resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				b.Fatal(err, resp.StatusCode, string(body))
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hops/s")
	reportBatches(b, s)
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
}
