// Package sensitive keeps the values of HCL `sensitive` variables out of
// everything muster prints (docs/spec.md section 4): plans, diffs, history, specs
// shown by get, events and errors.
//
// A job's sensitive values are named by paths in the syntax of plan diffs:
// `task.env.DB_PASSWORD`, `labels["app.kubernetes.io/name"]`, `task.cmd[2]`,
// `task.inputs["/data"].source` (inputs and outputs are keyed by target and
// path), `selector.match_expressions[1]` (the index in the sorted,
// canonical list). A path hides the whole value it names: a map or a list
// with its keys and elements. A set of paths is a plain []string; Union
// keeps it sorted and minimal.
//
// The package has no dependencies beyond the standard library, so that a
// node agent can redact its messages with it too: Values gives the texts a
// job's sensitive paths hold in its canonical spec, Redact replaces them in
// a message.
package sensitive

// Marker is what is shown in place of a sensitive value.
const Marker = "(sensitive)"
