// Command muster compiles, validates, plans and applies declarative jobs.
// See the cli package and README.md.
package main

import (
	"os"

	"github.com/muster-dev/muster/cli"
)

func main() { os.Exit(cli.Main()) }
