package cue

import (
	"fmt"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"

	"github.com/muster-dev/muster/schema"
)

// maxUses is the number of files a worker parses before it is dropped: a
// cue.Context never frees the values it built, so a long-lived one grows
// with every file (about 14 KiB for a small job, measured with CUE
// v0.17.1). 200 files keep a worker under 3 MiB while a new one, whose
// #Job must be compiled again (about 2 ms), costs 10 µs per file.
const maxUses = 200

// defFilename names schema.CUEDefinition in positions, so that values
// filled in from #Job (defaults) are told apart from those of a job file.
const defFilename = "muster:job.cue"

// worker is one cue.Context with #Job compiled in it. It is used by one
// goroutine at a time.
type worker struct {
	ctx   *cue.Context
	scope cue.Value // the value of schema.CUEDefinition: #Job and its helpers
	def   cue.Value // #Job
	uses  int
}

var workers = sync.Pool{New: func() any { return newWorker() }}

func newWorker() *worker {
	ctx := cuecontext.New()
	f, err := parser.ParseFile(defFilename, schema.CUEDefinition)
	if err != nil {
		panic(fmt.Sprintf("lang/cue: schema.CUEDefinition does not parse: %v", errors.Details(err, nil)))
	}
	scope := ctx.BuildFile(f)
	def := scope.LookupPath(cue.MakePath(cue.Def("#Job")))
	if err := def.Err(); err != nil {
		panic(fmt.Sprintf("lang/cue: schema.CUEDefinition has no valid #Job: %v", errors.Details(err, nil)))
	}
	return &worker{ctx: ctx, scope: scope, def: def}
}

// getWorker takes a worker from the pool.
func getWorker() *worker { return workers.Get().(*worker) }

// putWorker returns w to the pool, or drops it once it is worn out or broken.
func putWorker(w *worker, broken bool) {
	w.uses++
	if broken || w.uses >= maxUses {
		return
	}
	workers.Put(w)
}
