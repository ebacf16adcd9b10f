package proc

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the program being started: with
// PROC_TEST_SERVE=ADDR it serves 200 on ADDR.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PROC_TEST_SERVE"); addr != "" {
		http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStartAndWait(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("FreeAddr = %q, want a loopback address", addr)
	}
	c := exec.Command(os.Args[0])
	c.Env = append(os.Environ(), "PROC_TEST_SERVE="+addr)
	if err := StartAndWait(c, "http://"+addr+"/", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Process.Kill()
	c.Wait()

	// A program that never answers is killed once the time is up.
	never, _ := FreeAddr()
	c = exec.Command("sleep", "60")
	start := time.Now()
	err = StartAndWait(c, "http://"+never+"/", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("StartAndWait of a silent program: %v", err)
	}
	if c.ProcessState == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("the silent program was not killed and reaped (state %v, after %s)", c.ProcessState, time.Since(start))
	}
}
