package main

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karyashala/karyashala/config"
)

// listenLog records serve's log messages and, when "karyashala listening"
// is logged, whether the address took a connection at that moment.
type listenLog struct {
	mu       sync.Mutex
	msgs     []string
	addr     string
	bound    bool
	listened chan struct{}
}

func (l *listenLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *listenLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *listenLog) WithGroup(string) slog.Handler            { return l }
func (l *listenLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	if r.Message == "karyashala listening" {
		if c, err := net.DialTimeout("tcp", l.addr, time.Second); err == nil {
			l.bound = true
			c.Close()
		}
		close(l.listened)
	}
	return nil
}

func captureLog(t *testing.T, addr string) *listenLog {
	l := &listenLog{addr: addr, listened: make(chan struct{})}
	old := slog.Default()
	slog.SetDefault(slog.New(l))
	t.Cleanup(func() { slog.SetDefault(old) })
	return l
}

func serveConfig(t *testing.T, addr string) config.Config {
	cfg := config.Default()
	cfg.HTTP.Addr = addr
	cfg.DB.Path = filepath.Join(t.TempDir(), "k.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// "karyashala listening" means the port is bound: it is logged once a
// connection can be made, and never for a port someone else holds.
func TestServeSaysListeningOnceBound(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	l := captureLog(t, taken.Addr().String())
	err = serve(context.Background(), serveConfig(t, taken.Addr().String()), false)
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "KARYASHALA_HTTP_ADDR") {
		t.Fatalf("serve on a taken port: %v, want the bind error and what to set", err)
	}
	for _, m := range l.msgs {
		if m == "karyashala listening" {
			t.Fatalf("logged %q for a port it could not bind: %q", m, l.msgs)
		}
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l = captureLog(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, serveConfig(t, addr), false) }()
	select {
	case <-l.listened:
	case err := <-done:
		t.Fatalf("serve ended before it said it was listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve never said it was listening")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !l.bound {
		t.Fatalf("%s took no connection when serve logged it was listening", addr)
	}
}
