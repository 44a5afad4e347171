package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// outputFlag is the -o flag, checked against the values a command offers.
type outputFlag struct {
	value   string
	allowed []string
}

func (o *outputFlag) register(c *cobra.Command, allowed ...string) {
	o.allowed = allowed
	c.Flags().StringVarP(&o.value, "output", "o", allowed[0], "output format: "+joinOr(allowed))
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
}

func (o *outputFlag) check() error {
	for _, a := range o.allowed {
		if o.value == a {
			return nil
		}
	}
	return fmt.Errorf("-o %q: use %s", o.value, joinOr(o.allowed))
}

func joinOr(list []string) string {
	switch len(list) {
	case 1:
		return list[0]
	case 2:
		return list[0] + " or " + list[1]
	}
	s := ""
	for i, e := range list {
		switch {
		case i == len(list)-1:
			s += ", or " + e
		case i > 0:
			s += ", " + e
		default:
			s += e
		}
	}
	return s
}
