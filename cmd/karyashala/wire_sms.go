package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/ratelimit"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/africastalking"
	"github.com/karyashala/karyashala/sms/kannel"
	"github.com/karyashala/karyashala/sms/keywords"
	"github.com/karyashala/karyashala/sms/twilio"
	"github.com/karyashala/karyashala/storage"
)

// mountSMS adds every carrier's SMS callbacks (any of them may deliver
// inbound messages, whichever one sends), makes the complaint service write
// its notifications with the SMS templates, and returns the outbox
// dispatcher as the component's background work.
func mountSMS(app *fiber.App, s *services, cfg config.Config) (*component, error) {
	kw, err := keywords.Load(cfg.Keywords.Path, cfg.Languages)
	if err != nil {
		return nil, fmt.Errorf("sms keywords:\n%w", err)
	}
	sender, err := smsSender(cfg)
	if err != nil {
		return nil, err
	}
	d := &sms.Dispatcher{
		Outbox:      storage.NewOutbox(s.DB),
		Sender:      sender,
		Workers:     cfg.SMS.Workers,
		Rate:        cfg.SMS.RatePerSecond,
		MaxAttempts: cfg.SMS.MaxAttempts,
	}
	inbox := &sms.Inbox{
		Atomic:     s.DB,
		Messages:   s.Messages,
		Outbox:     d.Outbox,
		Complaints: s.Complaints,
		Members:    s.Members,
		Ledger:     s.Ledger,
		Keywords:   kw,
		Region:     cfg.Region,
		Currency:   cfg.Currency,
		Kick:       d.Kick,
		Limit:      ratelimit.PerMinute(cfg.RateLimit.SMSPerMinute),
	}
	s.complaints.NotifyText = inbox.NotifyText

	(&africastalking.Handler{Receiver: inbox}).Routes(app)
	(&twilio.Handler{Receiver: inbox, AuthToken: cfg.SMS.Twilio.AuthToken, AccountSID: cfg.SMS.Twilio.AccountSID, PublicURL: cfg.PublicURL}).Routes(app)
	(&kannel.Handler{Receiver: inbox}).Routes(app)

	if cfg.PublicURL == "" && (sender.Name() == twilio.Name || sender.Name() == kannel.Name) {
		slog.Warn("public_url is not set: no delivery reports will be asked for", "sender", sender.Name())
	}
	slog.Info("sms ready", "sender", sender.Name(), "workers", cfg.SMS.Workers, "rate_per_second", cfg.SMS.RatePerSecond, "keywords", keywordsSource(cfg))
	return &component{Name: "sms", Run: func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { inbox.Run(ctx) })
		d.Run(ctx)
		wg.Wait()
	}}, nil
}

// smsSender builds the configured sms.sender.
func smsSender(cfg config.Config) (sms.Sender, error) {
	switch cfg.SMS.Sender {
	case "", "log":
		return sms.LogSender{}, nil
	case africastalking.Name:
		a := cfg.SMS.AfricasTalking
		return &africastalking.Sender{Username: a.Username, APIKey: a.APIKey, From: a.From, BaseURL: a.BaseURL}, nil
	case twilio.Name:
		t := cfg.SMS.Twilio
		return &twilio.Sender{AccountSID: t.AccountSID, AuthToken: t.AuthToken, From: t.From, BaseURL: t.BaseURL,
			PublicURL: cfg.PublicURL, CallbackToken: cfg.Callbacks.Token}, nil
	case kannel.Name:
		k := cfg.SMS.Kannel
		return &kannel.Sender{SendSMSURL: k.SendSMSURL, Username: k.Username, Password: k.Password, From: k.From,
			PublicURL: cfg.PublicURL, CallbackToken: cfg.Callbacks.Token}, nil
	}
	return nil, fmt.Errorf("sms.sender: %q is not one of log, africastalking, twilio, kannel", cfg.SMS.Sender)
}

func keywordsSource(cfg config.Config) string {
	if cfg.Keywords.Path == "" {
		return "built-in"
	}
	return cfg.Keywords.Path
}
