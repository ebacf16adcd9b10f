package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/config"
)

// withServices loads the configuration, opens (and so migrates) the
// database, runs fn and closes it: the frame of every one-shot command.
func withServices(cmd *cobra.Command, fn func(cfg config.Config, s *services) error) error {
	cfg, err := loadConfig(cmd, nil)
	if err != nil {
		return err
	}
	return servicesOn(cfg, fn)
}

// withDatabase is withServices for commands that read what a database
// holds: opening creates and migrates one, so a missing file is refused
// first rather than answered with an empty database and a success.
func withDatabase(cmd *cobra.Command, fn func(cfg config.Config, s *services) error) error {
	cfg, err := loadConfig(cmd, nil)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DB.Path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s; check db.path (or --config) and the working folder", cfg.DB.Path)
	}
	return servicesOn(cfg, fn)
}

func servicesOn(cfg config.Config, fn func(cfg config.Config, s *services) error) error {
	s, err := openServices(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(cfg, s)
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "apply pending database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServices(cmd, func(cfg config.Config, s *services) error {
				names, err := s.DB.AppliedMigrations(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "database %s is at migration %s (%d applied)\n", cfg.DB.Path, names[len(names)-1], len(names))
				return nil
			})
		},
	}
}

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "manage operator API tokens"}
	var role, name string
	create := &cobra.Command{
		Use:   "create --role ROLE --name NAME",
		Short: "print a new API token once (only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withServices(cmd, func(_ config.Config, s *services) error {
				secret, t, err := s.Tokens.CreateToken(cmd.Context(), role, name)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %d for %s (%s) created; it is shown only now, keep it safe\n", t.ID, t.Name, t.Role)
				return nil
			})
		},
	}
	create.Flags().StringVar(&role, "role", "", "operator or leader")
	create.Flags().StringVar(&name, "name", "", "who the token is for")
	_ = create.MarkFlagRequired("role")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}

func backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "write a consistent copy of the database to FILE while the service runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDatabase(cmd, func(cfg config.Config, s *services) error {
				if err := s.DB.Backup(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", cfg.DB.Path, args[0])
				return nil
			})
		},
	}
}
