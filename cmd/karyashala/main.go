// Command karyashala runs the SMS/USSD gateway for community micro-workshop
// programmes, and the operator's tools around it. It wires the packages
// together and holds no business logic.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := rootCmd().Execute(); err != nil {
		if _, quiet := err.(exitError); !quiet {
			fmt.Fprintln(os.Stderr, "karyashala:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a process exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	if e, ok := err.(exitError); ok {
		return e.code
	}
	return 1
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "karyashala",
		Short:         "SMS/USSD gateway for community micro-workshop programmes",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "configuration file (default ./karyashala.yaml when present)")
	root.AddCommand(serveCmd(), migrateCmd(), tokenCmd(), versionCmd(), backupCmd(), loadtestCmd(), keywordsCmd(), menuCmd(), simulateCmd())
	return root
}

// loadConfig reads the configuration named by --config (or the default file)
// with set applied on top, and sets up logging from it.
func loadConfig(cmd *cobra.Command, set map[string]any) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	cfg, err := config.Load(path, set)
	if err != nil {
		return cfg, err
	}
	setupLogging(cfg.Log.Level)
	return cfg, nil
}

func setupLogging(level string) {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})))
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "karyashala", version)
		},
	}
}
