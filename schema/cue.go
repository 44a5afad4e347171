package schema

import _ "embed"

// CUEDefinition is the source of the CUE #Job definition (schema/job.cue):
// docs/spec.md section 2 written as a closed CUE definition with every constraint
// and default, including those that depend on the job type. lang/cue
// unifies every job of a .cue file with it; `muster schema --format cue`
// prints it. It is a complete CUE file without a package clause, so it can
// be passed to `cue vet -d '#Job'` beside a job file. It never changes at
// run time.
//
//go:embed job.cue
var CUEDefinition string
