package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// shortCode is the number residents text; Karyashala sends from it too.
const shortCode = "5556"

// kannelBins are the Kannel programs the tests run.
type kannelBins struct {
	Bearerbox, Smsbox, Fakesmsc string
}

// findKannel looks on PATH and where Debian's kannel and kannel-extras
// packages put them (bearerbox is in /usr/sbin, off a normal user's PATH).
func findKannel() (kannelBins, error) {
	var b kannelBins
	var missing []string
	find := func(name, pkg string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		missing = append(missing, fmt.Sprintf("%s (package %s)", name, pkg))
		return ""
	}
	b.Bearerbox = find("bearerbox", "kannel", "/usr/sbin", "/usr/local/sbin", "/usr/bin")
	b.Smsbox = find("smsbox", "kannel", "/usr/sbin", "/usr/local/sbin", "/usr/bin")
	b.Fakesmsc = find("fakesmsc", "kannel-extras", "/usr/lib/kannel/test", "/usr/libexec/kannel/test", "/usr/local/lib/kannel/test")
	if len(missing) > 0 {
		return b, fmt.Errorf("Kannel not found: %s; install with `apt-get install kannel kannel-extras` (.ci/run does this)", strings.Join(missing, ", "))
	}
	return b, nil
}

// requireKannel skips the test, saying what is missing, where Kannel is not
// installed, and in -short mode.
func requireKannel(t *testing.T) kannelBins {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping Kannel integration test in -short mode")
	}
	b, err := findKannel()
	if err != nil {
		t.Skipf("skipping Kannel integration test: %v", err)
	}
	return b
}

// freePorts reserves n distinct loopback ports and releases them for the
// programs to bind. Another process could take one in between; on loopback
// in a test that is rare enough.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("reserve a port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// process is a program started by a test and stopped in its cleanup.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
	// grace is how long stop waits after SIGTERM before SIGKILL; zero
	// kills at once.
	grace time.Duration
}

// startProcess runs bin with its output in logPath; t.Cleanup stops it
// (SIGTERM, then SIGKILL after a grace period).
func startProcess(t *testing.T, name, dir string, env []string, logPath, bin string, args ...string) *process {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create %s log: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = f
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{}), grace: 5 * time.Second}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop ends the process and waits for it.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	if p.grace == 0 {
		_ = p.cmd.Process.Kill()
		<-p.exited
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(p.grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// running reports an error when the process has already exited.
func (p *process) running() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited early (%v); see its log below", p.name, p.waitErr)
	default:
		return nil
	}
}

// dumpLogsOnFailure prints the end of each log named by paths (read when
// the test ends) if the test has failed. Register it right after the
// t.TempDir holding the logs: cleanups run last-in first-out, so the
// processes registered later are stopped before, and the folder removed
// after, it runs.
func dumpLogsOnFailure(t *testing.T, paths func() []string) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range paths() {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("---- last lines of %s ----\n%s", filepath.Base(p), strings.Join(lines, "\n"))
		}
	})
}

// waitFor polls check until it returns nil or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// httpClient is short-timeout: everything is on loopback.
var httpClient = &http.Client{Timeout: 5 * time.Second}

func httpGet(rawURL string) (int, []byte, error) {
	resp, err := httpClient.Get(rawURL)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// ---- Kannel ----

// kannelConf fills testdata/kannel.conf.tmpl.
type kannelConf struct {
	AdminPort, SmsboxPort, FakePort, SendsmsPort int
	AdminPassword, Username, Password            string
	KaryashalaURL, LogDir                        string
	// CallbackToken is Karyashala's callbacks.token; empty for none.
	CallbackToken string
}

// kannel is a running bearerbox and smsbox with a fake SMSC.
type kannel struct {
	bins kannelBins
	conf kannelConf
	dir  string
	// SendsmsURL is smsbox's sendsms interface.
	SendsmsURL string
	// logs of bearerbox, smsbox and each fakesmsc, for failure output.
	logs []string
	seq  int
}

// startKannel writes kannel.conf with get-url pointing at karyashalaURL and
// starts bearerbox and smsbox on four free ports, returning once smsbox is
// connected. A non-empty callbackToken is added to the get-url as token=.
func startKannel(t *testing.T, bins kannelBins, karyashalaURL, callbackToken string, ports []int) *kannel {
	t.Helper()
	if len(ports) != 4 {
		t.Fatalf("startKannel needs 4 ports, got %d", len(ports))
	}
	dir := t.TempDir()
	k := &kannel{bins: bins, dir: dir, conf: kannelConf{
		AdminPort: ports[0], SmsboxPort: ports[1], FakePort: ports[2], SendsmsPort: ports[3],
		AdminPassword: "kannel-admin", Username: "karyashala", Password: "kannel-secret",
		KaryashalaURL: strings.TrimRight(karyashalaURL, "/"), LogDir: dir, CallbackToken: callbackToken,
	}}
	k.SendsmsURL = fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", k.conf.SendsmsPort)

	tmpl, err := template.ParseFiles(filepath.Join("testdata", "kannel.conf.tmpl"))
	if err != nil {
		t.Fatalf("read kannel.conf template: %v", err)
	}
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, k.conf); err != nil {
		t.Fatalf("fill kannel.conf template: %v", err)
	}
	confPath := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	bbLog, sbLog := filepath.Join(dir, "bearerbox.log"), filepath.Join(dir, "smsbox.log")
	bbOut, sbOut := filepath.Join(dir, "bearerbox.out"), filepath.Join(dir, "smsbox.out")
	k.logs = append(k.logs, bbOut, bbLog, sbOut, sbLog)
	dumpLogsOnFailure(t, func() []string { return k.logs })

	env := cleanEnv()
	// -v 1: info and above on the console; the log-file has debug detail.
	bb := startProcess(t, "bearerbox", dir, env, bbOut, bins.Bearerbox, "-v", "1", confPath)
	status := fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=%s", k.conf.AdminPort, k.conf.AdminPassword)
	waitFor(t, 15*time.Second, "bearerbox admin status", func() error {
		if err := bb.running(); err != nil {
			return err
		}
		code, body, err := httpGet(status)
		if err != nil {
			return err
		}
		if code != http.StatusOK || !bytes.Contains(body, []byte("Status: running")) {
			return fmt.Errorf("status %d: %.200s", code, body)
		}
		return nil
	})

	sb := startProcess(t, "smsbox", dir, env, sbOut, bins.Smsbox, "-v", "1", confPath)
	smsboxOnline := regexp.MustCompile(`smsbox:.*on-line`)
	waitFor(t, 15*time.Second, "smsbox connected to bearerbox", func() error {
		if err := sb.running(); err != nil {
			return err
		}
		_, body, err := httpGet(status)
		if err != nil {
			return err
		}
		if !smsboxOnline.Match(body) {
			return errors.New("bearerbox lists no smsbox connection yet")
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", k.conf.SendsmsPort), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return k
}

// cleanEnv is this process's environment without Karyashala settings, so a
// developer's own KARYASHALA_* variables do not leak into the programs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KARYASHALA_") {
			env = append(env, kv)
		}
	}
	return env
}

// ---- fakesmsc: the phones ----

// phoneSMS is one complete message fakesmsc received (concatenated parts
// joined), decoded to UTF-8.
type phoneSMS struct {
	From, To, Kind, Text string
	Parts                int
}

// phone is a running fakesmsc that sent one message and collects the
// messages the SMSC hands it.
type phone struct {
	proc *process
	msgs chan phoneSMS
}

// text starts fakesmsc sending text from the number from to the short
// code. fakesmsc sends its message once at start, then (with -i) waits
// far longer than the test before sending it again, receiving meanwhile;
// it quits after -m received messages, so -m is large too.
func (k *kannel) text(t *testing.T, from, text string) *phone {
	t.Helper()
	k.seq++
	logPath := filepath.Join(k.dir, fmt.Sprintf("fakesmsc-%d.log", k.seq))
	k.logs = append(k.logs, logPath)
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd := exec.Command(k.bins.Fakesmsc,
		"-H", "127.0.0.1", "-r", strconv.Itoa(k.conf.FakePort),
		"-i", "600", "-m", "100",
		fmt.Sprintf("%s %s text %s", from, shortCode, text))
	cmd.Dir = k.dir
	cmd.Env = cleanEnv()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start fakesmsc: %v", err)
	}
	// grace 0: fakesmsc keeps nothing worth a clean shutdown.
	p := &phone{proc: &process{name: "fakesmsc", cmd: cmd, logPath: logPath, exited: make(chan struct{})}, msgs: make(chan phoneSMS, 32)}
	go func() {
		p.proc.waitErr = cmd.Wait()
		pw.Close()
		close(p.proc.exited)
	}()
	go func() {
		defer f.Close()
		var asm assembler
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			fl, ok := parseFakeSMSCLine(line)
			if !ok {
				continue
			}
			if m, done := asm.add(fl); done {
				select {
				case p.msgs <- m:
				default: // nobody is reading any more
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(p.proc.stop)
	return p
}

// await returns the first complete message to the number to for which
// want is true, logging any other. abort, when not nil, is polled and ends
// the wait early with its error (e.g. the callback was refused).
func (p *phone) await(t *testing.T, to string, timeout time.Duration, want func(phoneSMS) bool, abort func() error) phoneSMS {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m := <-p.msgs:
			if m.To == to && want(m) {
				return m
			}
			t.Logf("fakesmsc received another message: %+v", m)
		case <-tick.C:
			if abort == nil {
				continue
			}
			if err := abort(); err != nil {
				t.Fatalf("waiting for the message to %s: %v", to, err)
			}
		case <-p.proc.exited:
			t.Fatalf("fakesmsc exited (%v) before the message to %s arrived", p.proc.waitErr, to)
		case <-deadline:
			t.Fatalf("the expected message to %s did not reach fakesmsc within %s", to, timeout)
		}
	}
}

// fakeLine is one "Got message" line of fakesmsc: sender receiver type data.
type fakeLine struct {
	From, To, Kind string
	UDH, Data      []byte
}

// gotMessage matches fakesmsc's report of a message from the SMSC; the
// log level (DEBUG or INFO) varies, the text is "Got message N: <...>".
var gotMessage = regexp.MustCompile(`Got message \d+: <(.*)>\s*$`)

// parseFakeSMSCLine reads what bearerbox's fake SMSC wrote to fakesmsc:
//
//	FROM TO text RAW TEXT            7-bit text as is
//	FROM TO data URLENCODED          8-bit data
//	FROM TO ucs-2 URLENCODED         UCS-2 (UTF-16BE) bytes
//	FROM TO udh URLENCODED data URLENCODED   one part of a long message
//
// URL-encoding is Kannel's: a space is '+'.
func parseFakeSMSCLine(line string) (fakeLine, bool) {
	m := gotMessage.FindStringSubmatch(line)
	if m == nil {
		return fakeLine{}, false
	}
	f := strings.SplitN(m[1], " ", 4)
	if len(f) < 3 {
		return fakeLine{}, false
	}
	fl := fakeLine{From: f[0], To: f[1], Kind: f[2]}
	rest := ""
	if len(f) == 4 {
		rest = f[3]
	}
	unesc := func(s string) []byte {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return []byte(s)
		}
		return []byte(u)
	}
	switch fl.Kind {
	case "text":
		fl.Data = []byte(rest)
	case "data", "ucs-2":
		fl.Data = unesc(rest)
	case "udh":
		udh, data, ok := strings.Cut(rest, " data ")
		if !ok {
			return fakeLine{}, false
		}
		fl.UDH, fl.Data = unesc(udh), unesc(data)
	default:
		return fakeLine{}, false
	}
	return fl, true
}

// assembler joins the parts of concatenated messages.
type assembler struct {
	parts map[string]map[int]fakeLine
}

// add takes one line and returns a message once it is complete.
func (a *assembler) add(fl fakeLine) (phoneSMS, bool) {
	ref, total, seq, ok := concatInfo(fl.UDH)
	if fl.Kind != "udh" || !ok || total <= 1 {
		return phoneSMS{From: fl.From, To: fl.To, Kind: fl.Kind, Text: decodeSMS(fl.Kind, fl.Data), Parts: 1}, true
	}
	key := fmt.Sprintf("%s|%s|%d|%d", fl.From, fl.To, ref, total)
	if a.parts == nil {
		a.parts = map[string]map[int]fakeLine{}
	}
	if a.parts[key] == nil {
		a.parts[key] = map[int]fakeLine{}
	}
	a.parts[key][seq] = fl
	if len(a.parts[key]) < total {
		return phoneSMS{}, false
	}
	var data []byte
	for i := 1; i <= total; i++ {
		data = append(data, a.parts[key][i].Data...)
	}
	delete(a.parts, key)
	return phoneSMS{From: fl.From, To: fl.To, Kind: "udh", Text: decodeSMS("udh", data), Parts: total}, true
}

// concatInfo reads the concatenation element (IEI 0x00 or 0x08) of a UDH.
func concatInfo(udh []byte) (ref, total, seq int, ok bool) {
	if len(udh) < 1 || int(udh[0])+1 > len(udh) {
		return 0, 0, 0, false
	}
	ies := udh[1 : int(udh[0])+1]
	for len(ies) >= 2 {
		iei, l := ies[0], int(ies[1])
		if len(ies) < 2+l {
			break
		}
		v := ies[2 : 2+l]
		switch {
		case iei == 0x00 && l == 3:
			return int(v[0]), int(v[1]), int(v[2]), true
		case iei == 0x08 && l == 4:
			return int(v[0])<<8 | int(v[1]), int(v[2]), int(v[3]), true
		}
		ies = ies[2+l:]
	}
	return 0, 0, 0, false
}

// decodeSMS turns message bytes into text. The fake SMSC does not say how
// the parts of a long message are coded; Kannel keeps 7-bit text as
// printable characters, so anything else in a udh part is taken as UCS-2.
func decodeSMS(kind string, b []byte) string {
	switch kind {
	case "ucs-2":
		return decodeUCS2(b)
	case "udh":
		for _, c := range b {
			if c < 0x20 || c > 0x7e {
				return decodeUCS2(b)
			}
		}
		return string(b)
	default:
		return string(b)
	}
}

// decodeUCS2 decodes UTF-16BE; an odd trailing byte becomes U+FFFD so the
// assertion on the text fails visibly.
func decodeUCS2(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	s := string(utf16.Decode(u))
	if len(b)%2 == 1 {
		s += string(utf8.RuneError)
	}
	return s
}

// ---- Karyashala ----

// karyashala is the real binary, serving on loopback.
type karyashala struct {
	bin, dir string
	env      []string
	URL      string
	proc     *process
	logPath  string
}

// buildKaryashala compiles ./cmd/karyashala of this module into a temporary
// folder.
func buildKaryashala(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found on PATH, needed to build karyashala: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("find the module root with `go env GOMOD`: %q %v", out, err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "karyashala")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/karyashala")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/karyashala: %v\n%s", err, out)
	}
	return bin
}

// startKaryashala runs `karyashala serve` with settings (config keys) given
// as environment variables, in an empty folder so no karyashala.yaml is
// picked up, and waits for /healthz.
func startKaryashala(t *testing.T, bin string, port int, settings map[string]string) *karyashala {
	t.Helper()
	dir := t.TempDir()
	env := cleanEnv()
	settings["http.addr"] = fmt.Sprintf("127.0.0.1:%d", port)
	if _, ok := settings["db.path"]; !ok {
		settings["db.path"] = filepath.Join(dir, "data", "karyashala.db")
	}
	for key, v := range settings {
		env = append(env, "KARYASHALA_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))+"="+v)
	}
	k := &karyashala{bin: bin, dir: dir, env: env, URL: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: filepath.Join(dir, "karyashala.log")}
	dumpLogsOnFailure(t, func() []string { return []string{k.logPath} })
	k.proc = startProcess(t, "karyashala", dir, env, k.logPath, bin, "serve")
	waitFor(t, 30*time.Second, "karyashala /healthz", func() error {
		if err := k.proc.running(); err != nil {
			return err
		}
		code, body, err := httpGet(k.URL + "/healthz")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %.200s", code, body)
		}
		return nil
	})
	return k
}

// token creates an operator API token against the same database.
func (k *karyashala) token(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "token", "create", "--role", "operator", "--name", "ci")
	cmd.Dir = k.dir
	cmd.Env = k.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("karyashala token create: %v\n%s", err, stderr.String())
	}
	tok := strings.TrimSpace(strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0])
	if tok == "" {
		t.Fatalf("karyashala token create printed no token (stderr: %s)", stderr.String())
	}
	return tok
}

// apiGet reads a JSON document from the operator API into v.
func (k *karyashala) apiGet(token, path string, q url.Values, v any) error {
	u := k.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %.300s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v in %.300s", path, err, body)
	}
	return nil
}

// apiMessage is the part of an operator API message the tests look at.
type apiMessage struct {
	ID         int64  `json:"id"`
	Direction  string `json:"direction"`
	Provider   string `json:"provider"`
	ProviderID string `json:"provider_id"`
	Phone      string `json:"phone"`
	Text       string `json:"text"`
	Lang       string `json:"lang"`
	Status     string `json:"status"`
	Segments   int    `json:"segments"`
	Error      string `json:"error"`
	ReplyTo    int64  `json:"reply_to"`
}

// messages lists the messages of one direction for one phone.
func (k *karyashala) messages(token, direction, phone string) ([]apiMessage, error) {
	var page struct {
		Items []apiMessage `json:"items"`
	}
	err := k.apiGet(token, "/api/v1/messages", url.Values{"direction": {direction}, "phone": {phone}}, &page)
	return page.Items, err
}

// ---- recording proxy ----

// exchange is one request that passed a recordingProxy and its answer.
type exchange struct {
	Path   string
	Query  url.Values
	Status int
	Body   string // the start of the answer's body
}

// recordingProxy forwards to a target and remembers every request, so the
// test can show exactly what Kannel asked of Karyashala and the reverse.
type recordingProxy struct {
	*httptest.Server
	mu  sync.Mutex
	log []exchange
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &recordingProxy{}
	fwd := httputil.NewSingleHostReverseProxy(u)
	rp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		fwd.ServeHTTP(sw, r)
		rp.mu.Lock()
		rp.log = append(rp.log, exchange{Path: r.URL.Path, Query: r.URL.Query(), Status: sw.status, Body: sw.body.String()})
		rp.mu.Unlock()
	}))
	t.Cleanup(rp.Close)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rp.mu.Lock()
		defer rp.mu.Unlock()
		var b strings.Builder
		for _, e := range rp.log {
			fmt.Fprintf(&b, "GET %s?%s -> %d %q\n", e.Path, redactQuery(e.Query), e.Status, e.Body)
		}
		t.Logf("---- requests through the proxy to %s ----\n%s", target, b.String())
	})
	return rp
}

// requests returns the exchanges on path so far.
func (rp *recordingProxy) requests(path string) []exchange {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []exchange
	for _, e := range rp.log {
		if e.Path == path {
			out = append(out, e)
		}
	}
	return out
}

// statusWriter keeps the status and the first bytes of the body.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if n := 200 - w.body.Len(); n > 0 {
		w.body.Write(b[:min(n, len(b))])
	}
	return w.ResponseWriter.Write(b)
}

// redactQuery hides the sendsms password in test output.
func redactQuery(q url.Values) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	if c.Has("password") {
		c.Set("password", "REDACTED")
	}
	s, _ := url.QueryUnescape(c.Encode())
	return s
}
