package main

import (
	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/config"
)

// mountAPI adds the operator API under /api/v1.
func mountAPI(app *fiber.App, s *services, cfg config.Config) (*component, error) {
	api.New(api.Deps{
		Services:  s.Services,
		Region:    cfg.Region,
		Languages: cfg.Languages,
		Currency:  cfg.Currency,
		Location:  regionLocation(cfg.Region),
	}).Routes(app)
	return &component{Name: "api"}, nil
}
