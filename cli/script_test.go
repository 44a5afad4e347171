package cli

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"corrupt": corruptStream,
		},
	})
}

// corruptStream is the script command "corrupt STREAM N": it overwrites N
// bytes before the end of the newest message block of a stream of the
// state directory with random bytes, as a failing disk would.
func corruptStream(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: corrupt STREAM BYTES")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("corrupt: %v", err)
	}
	blocks, _ := filepath.Glob(ts.MkAbs(filepath.Join(".muster", "jetstream", "*", "streams", args[0], "msgs", "*.blk")))
	if len(blocks) == 0 {
		ts.Fatalf("corrupt: stream %s has no message blocks", args[0])
	}
	p := blocks[len(blocks)-1]
	b, err := os.ReadFile(p)
	ts.Check(err)
	r := rand.New(rand.NewPCG(1, 2))
	for i := max(0, len(b)-n-100); i < len(b)-100; i++ {
		b[i] = byte(r.IntN(256))
	}
	ts.Check(os.WriteFile(p, b, 0o600))
}
