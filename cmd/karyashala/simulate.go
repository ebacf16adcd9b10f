package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
	"github.com/karyashala/karyashala/ussd/africastalking"
)

// simulateCmd is a feature phone in the terminal: in-process against the
// configured menus and database, or over HTTP exactly as Africa's Talking
// posts. Scripted input (stdin not a terminal) plays one line per input; an
// empty line after a session ended dials again.
func simulateCmd() *cobra.Command {
	var phone, code, target, lang, network string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "an interactive feature-phone USSD session in the terminal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			p, err := domain.ParsePhone(phone, cfg.Region)
			if err != nil {
				return fmt.Errorf("--phone: %s", domain.ErrorMessage(err))
			}
			if code == "" {
				code = cfg.USSD.ShortCode
			}
			base, first := splitDial(code, cfg.USSD.ShortCode)
			var hop hopFunc
			if target != "" {
				if lang != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), "note: --lang is ignored with --url; the server uses the language the phone chose")
				}
				hop = httpHop(target, cfg.Callbacks.Token)
			} else {
				// The engine passes over a language it does not have, so an
				// unconfigured one would silently give the default.
				if lang != "" && !slices.Contains(cfg.Languages, lang) {
					return fmt.Errorf("--lang %s: not a configured language; use one of %s, or add it to languages in the configuration", lang, strings.Join(cfg.Languages, ", "))
				}
				s, err := openServices(cfg)
				if err != nil {
					return err
				}
				defer s.Close()
				eng, _, err := buildUSSD(s, cfg, nil)
				if err != nil {
					return err
				}
				hop = func(ctx context.Context, r ussd.Request) (string, error) {
					r.Lang = lang
					resp, err := eng.Handle(ctx, r)
					if err != nil && domain.ErrorCode(err) == domain.EINVALID {
						return "", err
					} else if err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
					}
					return resp.String(), nil
				}
			}
			sim := &simulator{hop: hop, phone: p, code: base, first: first, network: network,
				in: bufio.NewScanner(cmd.InOrStdin()), out: cmd.OutOrStdout(), interactive: isTerminal(cmd.InOrStdin())}
			return sim.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&phone, "phone", "+919800000001", "the caller's phone number (E.164, or national in the configured region)")
	cmd.Flags().StringVar(&code, "code", "", "what is dialed, e.g. \"*384#\" or a direct dial \"*384*1*2#\" (default ussd.short_code)")
	cmd.Flags().StringVar(&target, "url", "", "a running server (http://host:8080) to post to as Africa's Talking does; in-process when empty")
	cmd.Flags().StringVar(&lang, "lang", "", "language for the session (in-process only), e.g. hi")
	cmd.Flags().StringVar(&network, "network", "40410", "networkCode to send")
	return cmd
}

// hopFunc sends one hop and returns the "CON ..."/"END ..." answer.
type hopFunc func(ctx context.Context, r ussd.Request) (string, error)

// splitDial separates a direct dial such as *384*1*2# into the short code
// *384# and the inputs "1*2" it carries.
func splitDial(dialed, short string) (base, text string) {
	d := strings.TrimSpace(dialed)
	prefix := strings.TrimSuffix(short, "#") + "*"
	if strings.HasPrefix(d, prefix) && strings.HasSuffix(d, "#") {
		return short, strings.TrimSuffix(strings.TrimPrefix(d, prefix), "#")
	}
	return d, ""
}

// httpHop posts a hop to a running server's Africa's Talking callback.
func httpHop(target, token string) hopFunc {
	u := strings.TrimRight(target, "/")
	if pu, err := url.Parse(u); err == nil && (pu.Path == "" || pu.Path == "/") {
		u += africastalking.Path
	}
	if token != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "token=" + url.QueryEscape(token)
	}
	client := &http.Client{Timeout: 15 * time.Second} // Africa's Talking's own deadline
	return func(ctx context.Context, r ussd.Request) (string, error) {
		form := url.Values{"sessionId": {r.SessionID}, "serviceCode": {r.ServiceCode}, "phoneNumber": {r.Phone},
			"networkCode": {r.NetworkCode}, "text": {r.Text}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("post to %s: %w; is the server running (karyashala serve)?", u, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		if res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s answered %s: %s", u, res.Status, strings.TrimSpace(string(body)))
		}
		return string(body), nil
	}
}

type simulator struct {
	hop         hopFunc
	phone, code string
	first       string
	network     string
	in          *bufio.Scanner
	out         io.Writer
	interactive bool
}

func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "sim-" + hex.EncodeToString(b)
}

func (s *simulator) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		ended, err := s.session(ctx)
		if err != nil || !ended {
			return err
		}
		if s.interactive {
			fmt.Fprint(s.out, "dial again? [y/N] ")
		}
		if !s.in.Scan() {
			return nil
		}
		if ans := strings.TrimSpace(s.in.Text()); s.interactive && !strings.EqualFold(ans, "y") {
			return nil
		} else if !s.interactive && ans != "" {
			return fmt.Errorf("scripted input %q after the session ended; put an empty line to dial again", ans)
		}
		s.first = ""
	}
}

// session plays one dial; it reports whether the session ended (END) as
// opposed to the input running out (a dropped session, resumable).
func (s *simulator) session(ctx context.Context) (bool, error) {
	id := newSessionID()
	text := s.first
	fmt.Fprintf(s.out, "--- dialing %s from %s\n", s.code+directSuffix(s.first), domain.MaskPhone(s.phone))
	for {
		ans, err := s.hop(ctx, ussd.Request{SessionID: id, Phone: s.phone, ServiceCode: s.code, NetworkCode: s.network, Text: text})
		if err != nil {
			return false, err
		}
		screen, ended := strings.CutPrefix(ans, "END ")
		if !ended {
			screen = strings.TrimPrefix(ans, "CON ")
		}
		fmt.Fprintln(s.out, screen)
		if ended {
			fmt.Fprintln(s.out, "--- session ended")
			return true, nil
		}
		if s.interactive {
			fmt.Fprint(s.out, "> ")
		}
		if !s.in.Scan() {
			fmt.Fprintln(s.out, "--- input ended; the session is left open (dial again to resume)")
			return false, s.in.Err()
		}
		in := s.in.Text()
		if !s.interactive {
			fmt.Fprintln(s.out, "> "+in)
		}
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
	}
}

func directSuffix(first string) string {
	if first == "" {
		return ""
	}
	return " (direct: " + first + ")"
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
