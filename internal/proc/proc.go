// Package proc starts the programs that the load command and the crash
// test drive: a free loopback address to give one, and a start that
// returns once the program answers.
package proc

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"time"
)

// FreeAddr returns a loopback address whose port nobody listens on now.
// Another process could take it before the program binds it; on loopback
// that is rare enough for tests and load runs.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// StartAndWait starts c and returns once readyURL answers 200. A program
// that has not within timeout is killed and reaped.
func StartAndWait(c *exec.Cmd, readyURL string, timeout time.Duration) error {
	if err := c.Start(); err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := client.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	c.Process.Kill()
	c.Wait()
	return fmt.Errorf("%s did not answer 200 at %s within %s", c.Path, readyURL, timeout)
}
