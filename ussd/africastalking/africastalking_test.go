package africastalking_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
	"github.com/karyashala/karyashala/ussd"
	"github.com/karyashala/karyashala/ussd/africastalking"
)

func newEngine(t testing.TB) (*ussd.Engine, *storage.DB) {
	t.Helper()
	db := storagetest.Open(t)
	svc := db.Services()
	ctx := context.Background()
	w := &domain.Workshop{Name: "Sundar Nagar Workshop"}
	if err := svc.Workshops.CreateWorkshop(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := svc.Members.CreateMember(ctx, &domain.Member{Phone: "+919800000001", Name: "Asha", Lang: "en", WorkshopID: w.ID, Role: domain.RoleWorker, Status: domain.MemberActive}); err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"Stitch cloth bags", "Hem dupattas", "Pack spice sachets"} {
		if err := svc.Tasks.CreateTask(ctx, &domain.Task{Titles: map[string]string{"en": title, "hi": title}, RateMinor: int64(100 * (i + 1)), Quantity: 1_000_000}); err != nil {
			t.Fatal(err)
		}
	}
	langs := []string{"en", "hi"}
	reg := ussd.Builtins(svc, ussd.BuiltinOptions{Currency: "INR", Languages: langs})
	lim := ussd.Limits{MaxGSM7: 182, MaxUCS2: 80}
	m, probs := ussd.LoadBuiltin(ussd.Options{Languages: langs, Limits: lim, Registry: reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return ussd.New(m, reg, storage.NewSessionStore(db), ussd.Config{Languages: langs, Limits: lim, ResumeWindow: 5 * time.Minute, SessionTTL: 3 * time.Minute}), db
}

func newApp(eng africastalking.Engine) *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler})
	africastalking.New(eng, "IN").Routes(app)
	return app
}

func post(t testing.TB, app *fiber.App, form url.Values) (int, string, string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/ussd/africastalking", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

func TestCallbacks(t *testing.T) {
	eng, db := newEngine(t)
	app := newApp(eng)
	store := storage.NewSessionStore(db)
	cases := []struct {
		Label                string
		Data                 url.Values
		ExpectedStatus       int
		ExpectedBodyContains string
		Stored               bool // a session row must (or must not) exist afterwards
	}{
		{Label: "first hop", Data: url.Values{"sessionId": {"ATUid_1"}, "serviceCode": {"*384#"}, "phoneNumber": {"+919800000001"}, "networkCode": {"40410"}, "text": {""}},
			ExpectedStatus: 200, ExpectedBodyContains: "CON Karyashala\n1. Open tasks", Stored: true},
		{Label: "national number", Data: url.Values{"sessionId": {"ATUid_2"}, "serviceCode": {"*384#"}, "phoneNumber": {"09800000001"}, "text": {"1"}},
			ExpectedStatus: 200, ExpectedBodyContains: "CON Open tasks (rate per piece):\n1. Pack spice sachets Rs 3.00", Stored: true},
		{Label: "missing session", Data: url.Values{"phoneNumber": {"+919800000001"}, "text": {""}},
			ExpectedStatus: 400, ExpectedBodyContains: "sessionId is missing"},
		{Label: "missing phone", Data: url.Values{"sessionId": {"ATUid_3"}, "text": {""}},
			ExpectedStatus: 400, ExpectedBodyContains: "phoneNumber is missing"},
		{Label: "bad phone", Data: url.Values{"sessionId": {"ATUid_4"}, "phoneNumber": {"12"}, "text": {""}},
			ExpectedStatus: 400, ExpectedBodyContains: `phone number "12" is not valid for region IN`},
		{Label: "session of another phone", Data: url.Values{"sessionId": {"ATUid_1"}, "phoneNumber": {"+919800000002"}, "text": {"1"}},
			ExpectedStatus: 400, ExpectedBodyContains: "belongs to another phone number", Stored: true},
		{Label: "first request with another phone's session", Data: url.Values{"sessionId": {"ATUid_1"}, "phoneNumber": {"+919800000002"}, "text": {""}},
			ExpectedStatus: 400, ExpectedBodyContains: "belongs to another phone number", Stored: true},
	}
	for _, c := range cases {
		t.Run(c.Label, func(t *testing.T) {
			status, ctype, body := post(t, app, c.Data)
			if status != c.ExpectedStatus || !strings.Contains(body, c.ExpectedBodyContains) {
				t.Errorf("got %d %q, want %d containing %q", status, body, c.ExpectedStatus, c.ExpectedBodyContains)
			}
			if status == 200 && !strings.HasPrefix(ctype, "text/plain") {
				t.Errorf("content type %q, want text/plain", ctype)
			}
			if status >= 400 && strings.Count(strings.TrimSpace(body), "\n") > 0 {
				t.Errorf("error body is not one line: %q", body)
			}
			if id := c.Data.Get("sessionId"); id != "" {
				_, err := store.SessionByID(context.Background(), id)
				if stored := err == nil; stored != c.Stored {
					t.Errorf("session %s stored = %v, want %v", id, stored, c.Stored)
				}
			}
		})
	}
}

// failing is an engine whose storage is down.
type failing struct{}

func (failing) Handle(ctx context.Context, r ussd.Request) (ussd.Response, error) {
	return ussd.Response{End: true, Text: "माफ़ कीजिए, हमारी ओर से गड़बड़ हुई।"}, errors.New("database is locked")
}

func TestInternalFailureAnswersEND(t *testing.T) {
	status, _, body := post(t, newApp(failing{}), url.Values{"sessionId": {"x"}, "phoneNumber": {"+919800000001"}})
	if status != 200 || body != "END माफ़ कीजिए, हमारी ओर से गड़बड़ हुई।" {
		t.Fatalf("got %d %q; the carrier must get END with the apology", status, body)
	}
}

// BenchmarkHTTPHop drives whole journeys through the HTTP handler with
// sessions persisted in SQLite, and reports hops per second and p99 latency.
func BenchmarkHTTPHop(b *testing.B) {
	eng, _ := newEngine(b)
	app := newApp(eng)
	journey := []string{"", "1", "1*1", "1*1*0", "1*1*0*00", "1*1*0*00*3"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sid := "bench-" + strconv.Itoa(i/len(journey))
		form := url.Values{"sessionId": {sid}, "serviceCode": {"*384#"}, "phoneNumber": {"+919800000001"}, "text": {journey[i%len(journey)]}}
		t0 := time.Now()
		status, _, body := post(b, app, form)
		lat = append(lat, time.Since(t0))
		if status != 200 || !strings.HasPrefix(body, "CON ") {
			b.Fatalf("hop %d: %d %q", i, status, body)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "hops/s")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}
