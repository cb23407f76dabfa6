package main

import (
	"github.com/spf13/cobra"

	"github.com/edgectl/edgectl/schemas"
)

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the CUE schema every document is checked against",
		Long: `Print the CUE schema of every document kind. Schema findings point at the
offending value in your repository and, as a note, at the line of this schema
that constrains it, as (edgectl schema):LINE:COL.`,
		Example: `  edgectl schema > edgectl.cue
  cue vet -d '#VirtualHost' edgectl.cue vhosts/shop.yaml`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(schemas.Source)
			return err
		},
	}
}
