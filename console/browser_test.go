package console_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/karyashala/karyashala/domain"
)

// screenshotDir receives one PNG per console page for review.
const screenshotDir = "testdata/screenshots"

// chromium finds the browser: $KARYASHALA_CHROMIUM, else Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KARYASHALA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: chromium not found; install it with `apt-get install -y chromium` or set KARYASHALA_CHROMIUM to its path")
	return ""
}

// TestBrowser drives the console in headless Chromium through the journeys
// of the issue: sign in, resolve a complaint and see the SMS, approve work
// and see the balance change, walk the simulator, load the dashboard. It
// writes a screenshot of each page, at a phone's width, to screenshotDir.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	exe := chromium(t)
	f := newFixture(t, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go func() { _ = f.app.Listener(ln) }()
	t.Cleanup(func() { _ = f.app.ShutdownWithTimeout(5 * time.Second) })
	base := "http://" + ln.Addr().String()
	must(t, os.MkdirAll(screenshotDir, 0o755))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s (at %s): %v", step, loc, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		must(t, os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644))
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Sign in: asking for a page shows the sign-in form, then that page.
	do("open the console", chromedp.Navigate(base+"/console/complaints"), chromedp.WaitVisible(css(`#token`)))
	shot("01-signin")
	do("sign in",
		chromedp.SendKeys(css(`#token`), f.secret),
		chromedp.Click(css(`form[action="/console/signin"] button`)),
		chromedp.WaitVisible(css(`table.queue`)),
	)
	if h := text(`h1`); h != "Complaints and proposals" {
		t.Fatalf("after sign-in the page is %q", h)
	}
	shot("02-complaints")

	// Resolve a complaint and see the reporter's SMS.
	do("resolve a complaint",
		chromedp.Click(css(`a[href="/console/complaints/`+f.complaint.Ref+`"]`)),
		chromedp.WaitVisible(css(`#note`)),
		chromedp.SendKeys(css(`#note`), "Tank repaired, water is back"),
		chromedp.Click(css(`button[value="resolve"]`)),
		chromedp.WaitVisible(css(`p.flash`)),
	)
	status, messages := text(`#status`), text(`table.messages`)
	if status != "resolved" || !strings.Contains(messages, "Tank repaired, water is back") || !strings.Contains(messages, "to reporter") {
		t.Fatalf("after resolving: status %q, messages %q", status, messages)
	}
	shot("03-complaint-resolved")

	// Approve a work report and see the balance change.
	row := `#worker-` + strconv.FormatInt(f.worker.ID, 10) + ` td.balance`
	do("open work", chromedp.Navigate(base+"/console/work"), chromedp.WaitVisible(css(`#reports`)))
	before := text(row)
	do("approve work",
		chromedp.Click(css(`#wr-`+strconv.FormatInt(f.report.ID, 10))),
		chromedp.Click(css(`button[value="approve"]`)),
		chromedp.WaitVisible(css(`p.flash`)),
	)
	after := text(row)
	if before != "₹0.00" || after != "₹100.00" {
		t.Fatalf("balance before %q after %q, want ₹0.00 then ₹100.00", before, after)
	}
	shot("04-work")
	pay, err := f.deps.Ledger.Pay(context.Background(), f.worker.ID)
	must(t, err)
	if pay.Balance != 10000 {
		t.Fatalf("stored balance %d", pay.Balance)
	}

	do("trainings", chromedp.Navigate(base+"/console/trainings"), chromedp.WaitVisible(css(`#new`)))
	shot("05-trainings")

	// Walk a USSD journey in the simulator, in Hindi.
	do("simulator",
		chromedp.Navigate(base+"/console/simulator"),
		chromedp.WaitVisible(css(`#dial`)),
		chromedp.SetValue(css(`#lang`), "hi"),
		chromedp.Click(css(`#dial`)),
		chromedp.WaitVisible(css(`#input`)),
		chromedp.SendKeys(css(`#input`), "1"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#steps li:nth-of-type(2)`)),
	)
	if s := text(`#screen`); !strings.Contains(s, "Open work:") {
		t.Fatalf("simulator after 1: %q", s)
	}
	do("simulator reply",
		chromedp.SendKeys(css(`#input`), "1"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#dial`)),
	)
	if s := text(`#screen`); !strings.Contains(s, "You took 5 pieces") {
		t.Fatalf("simulator screen at the end: %q", s)
	}
	shot("06-simulator")
	if hops := f.dial.Hops(); len(hops) != 3 || !strings.HasSuffix(hops[2], "|1*1") {
		t.Fatalf("hops sent to the engine: %v", hops)
	}
	if lang, _ := f.deps.Members.Language(context.Background(), "+919999900001"); lang != "hi" {
		t.Fatalf("simulator language not applied: %q", lang)
	}

	// The dashboard draws its charts from the approved work.
	do("dashboard", chromedp.Navigate(base+"/console/dashboard"), chromedp.WaitVisible(css(`svg.chart`)))
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect").length`))
	must(t, err)
	if earnings := text(`#fig-earnings`); bars < 36 || earnings != "₹100.00" {
		t.Fatalf("dashboard: %d bars, earnings %q", bars, earnings)
	}
	shot("07-dashboard")
	do("menus", chromedp.Navigate(base+"/console/menus"), chromedp.WaitVisible(css(`h1`)))
	shot("08-menus")

	cm, err := f.deps.Complaints.ComplaintByRef(context.Background(), f.complaint.Ref)
	must(t, err)
	if cm.Status != domain.StatusResolved {
		t.Fatalf("stored status %s", cm.Status)
	}
}
