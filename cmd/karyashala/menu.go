package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
)

// menuCmd groups the operator's menu tools.
func menuCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "menu", Short: "work with USSD menu files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE...",
		Short: "validate menu YAML; prints every problem as FILE:LINE:COL: message",
		Long: "Checks the files (and folders of .yaml files) as one menu set, against the configured\n" +
			"languages and page limits, exactly as the server does at start and on reload.\n" +
			"Exit status 0 when valid, 1 when not.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			reg := ussd.Builtins(domain.Services{}, ussd.BuiltinOptions{Currency: cfg.Currency, Languages: cfg.Languages})
			m, probs := ussd.LoadFiles(args, menuOptions(cfg, reg))
			out := cmd.OutOrStdout()
			if len(probs) > 0 {
				for _, p := range probs {
					fmt.Fprintln(out, p.String())
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s)\n", len(probs))
				return exitError{1}
			}
			fmt.Fprintf(out, "ok: %d screens, languages %v, pages within %d (GSM-7) / %d (UCS-2) characters\n",
				len(m.Screens), cfg.Languages, cfg.USSD.MaxCharsGSM7, cfg.USSD.MaxCharsUCS2)
			return nil
		},
	})
	return cmd
}
