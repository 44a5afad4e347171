// Package cue is the CUE frontend. A .cue file's top-level value is one job,
// or holds a field jobs with a list of jobs. Every job is unified with the
// built-in #Job definition (schema.CUEDefinition), which closes it, checks it
// and fills its defaults; a job that is not concrete afterwards is an error.
// Parse returns the exported job, defaults included, as a lang.Value tree in
// which every node written in the file keeps its position.
//
// Variables (--var, --var-file, MUSTER_VAR_*) fill @tag(name) attributes as
// `cue -t` does: the value is unified with the field it is attached to, read
// as a string unless the attribute says type=int, type=number or type=bool.
// A job file may refer to #Job and the other definitions of
// schema.CUEDefinition without declaring them.
//
// # Errors
//
// A problem is reported once, by whoever explains it best. When a job does
// not unify with #Job, Parse builds the tree of the job as the user wrote it
// (without #Job) and runs package validate on it, which names unknown fields
// with a "did you mean" and states each rule in words. CUE's own errors are
// kept for what the validator cannot see: values that conflict inside the
// file, values that are not concrete, references that do not resolve, and
// anything #Job rejects that the validator accepts. Such a job yields no
// tree, only diagnostics.
//
// # Performance
//
// A cue.Context is not safe for concurrent use and keeps memory for every
// value it ever built, so Parse takes one from a sync.Pool per call, with
// #Job compiled in it once, and retires it after maxUses files. A context
// whose evaluation its caller stopped waiting for (ParseContext) is dropped:
// the evaluator cannot be interrupted, and what a runaway file built must
// not be kept.
package cue
