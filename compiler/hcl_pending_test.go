package compiler

import "github.com/muster-dev/muster/lang/hcl"

// Until compiler/format.go registers the HCL frontend, the tests register it
// themselves so that the HCL examples and golden cases run.
func init() {
	if parsers[HCL] == nil {
		parsers[HCL] = hcl.Parse
	}
}
