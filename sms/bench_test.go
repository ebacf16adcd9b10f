package sms_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/karyashala/karyashala/sms/africastalking"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

// BenchmarkInboundHTTP measures durable inbound messages per second through
// Africa's Talking's inbound route, one at a time: each one is stored and
// committed with synchronous=FULL before the 200 (answering it is the
// inbox's background work, not run here). Reported as msgs/s.
func BenchmarkInboundHTTP(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"help", "HELP"},
		{"complaint", "COMPLAINT no water in ward 3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := smstest.New(b)
			(&africastalking.Handler{Receiver: e.Inbox}).Routes(e.App)
			var n atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := url.Values{"from": {fmt.Sprintf("+9198%08d", i%1000)}, "to": {"22384"}, "text": {bc.text}, "id": {fmt.Sprintf("ATXid_%d", i)}}.Encode()
					req := httptest.NewRequest("POST", "/sms/africastalking/inbound", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := e.App.Test(req, -1)
					if err != nil || resp.StatusCode != 200 {
						b.Fatalf("status %v, err %v", resp.StatusCode, err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
