package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karyashala/karyashala/sms/keywords"
)

// keywordsCmd groups the operator's SMS keyword tools.
func keywordsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keywords", Short: "work with SMS keyword files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "validate a keyword YAML file; prints every problem as FILE:LINE:COL: message",
		Long: "Checks a keyword file against the configured languages exactly as the server does\n" +
			"at start (every reply in every language, placeholders, clashing aliases).\n" +
			"Exit status 0 when valid, 1 when not.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			_, err = keywords.Load(args[0], cfg.Languages)
			var probs keywords.Problems
			switch {
			case errors.As(err, &probs):
				for _, p := range probs {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s)\n", len(probs))
				return exitError{1}
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s covers %v\n", args[0], cfg.Languages)
			return nil
		},
	})
	return cmd
}
