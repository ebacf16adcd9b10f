package metrics

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Inc and Add keep each event's counter once found; what they count must
// still be what /metrics reads from the vector.
func TestEventCountersAreTheVectors(t *testing.T) {
	Inc("test_event")
	Inc("test_event")
	Add("test_event", 3)
	Inc("other_test_event")
	if got := testutil.ToFloat64(Events.WithLabelValues("test_event")); got != 5 {
		t.Fatalf("test_event = %v, want 5", got)
	}
	if got := testutil.ToFloat64(Events.WithLabelValues("other_test_event")); got != 1 {
		t.Fatalf("other_test_event = %v, want 1", got)
	}
}

// The middleware keeps each route's series once found; what it counts must
// still be what /metrics reads from the vectors, per route, method and code.
func TestRequestSeriesAreTheVectors(t *testing.T) {
	app := fiber.New()
	app.Use(Middleware)
	app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/teapot", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusTeapot) })
	for _, path := range []string{"/ok", "/ok", "/teapot", "/ok"} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := testutil.ToFloat64(Requests.WithLabelValues("/ok", "GET", "200")); got != 3 {
		t.Fatalf("/ok 200 = %v, want 3", got)
	}
	if got := testutil.ToFloat64(Requests.WithLabelValues("/teapot", "GET", "418")); got != 1 {
		t.Fatalf("/teapot 418 = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(Latency, "karyashala_http_request_seconds"); got < 2 {
		t.Fatalf("latency series = %d, want one per route", got)
	}
}

// A handler's error is counted with the status the client gets from the
// app's error handler, not as a 500, and is answered once.
func TestRequestCountedWithTheErrorHandlersStatus(t *testing.T) {
	handled := 0
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		handled++
		if err.Error() == "no such thing" {
			return c.Status(fiber.StatusNotFound).SendString(err.Error())
		}
		return fiber.DefaultErrorHandler(c, err)
	}})
	app.Use(Middleware)
	app.Get("/thing", func(c *fiber.Ctx) error { return errors.New("no such thing") })
	app.Get("/gone", func(c *fiber.Ctx) error { return fiber.ErrGone })
	for _, tc := range []struct {
		path string
		code int
	}{{"/thing", 404}, {"/gone", 410}, {"/nowhere", 404}} {
		handled = 0
		resp, err := app.Test(httptest.NewRequest("GET", tc.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code || handled != 1 {
			t.Errorf("GET %s: status %d, error handled %d times; want %d, once", tc.path, resp.StatusCode, handled, tc.code)
		}
	}
	for _, s := range []struct {
		route, code string
	}{{"/thing", "404"}, {"/gone", "410"}, {"unmatched", "404"}} {
		if got := testutil.ToFloat64(Requests.WithLabelValues(s.route, "GET", s.code)); got != 1 {
			t.Errorf("%s %s = %v, want 1", s.route, s.code, got)
		}
	}
	if got := testutil.ToFloat64(Requests.WithLabelValues("/thing", "GET", "500")); got != 0 {
		t.Errorf("/thing 500 = %v, want 0: the 404 was counted as a 500", got)
	}
}
