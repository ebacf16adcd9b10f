package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/demo"
	"github.com/karyashala/karyashala/domain"
)

func loadDemo(ctx context.Context, s *services, cfg config.Config) error {
	loaded, err := demo.Load(ctx, s.Services, s.DB, cfg.Languages, s.DB.Now())
	if err != nil {
		return fmt.Errorf("%w; nothing was written: --demo fills a database without the demo's phones, so point db.path (or KARYASHALA_DB_PATH) at a new file", err)
	}
	if loaded {
		slog.Info("demo data loaded", "leader", domain.MaskPhone(demo.LeaderPhone), "worker", domain.MaskPhone(demo.WorkerPhone))
	} else {
		slog.Info("demo data not loaded: the database already has a workshop", "db", cfg.DB.Path)
	}
	return nil
}
