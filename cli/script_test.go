package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"muster": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the CLI end to end through testdata/script/*.txtar.
// Set MUSTER_UPDATE=1 to rewrite the expected output of cmp commands.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       os.Getenv("MUSTER_UPDATE") != "",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("MUSTER_STATE_DIR", env.WorkDir+"/.muster")
			return nil
		},
	})
}
