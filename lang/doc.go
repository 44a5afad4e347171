// Package lang holds the value tree that every frontend (lang/yaml, lang/json,
// lang/hcl, lang/cue) produces, and the diagnostics they and the validator
// report.
//
// A job file becomes one *Value per job: a tree of maps, lists and scalars in
// which every node keeps the source Range it came from, so that the validator
// can point at file:line:col for any field path. The package is syntax-free:
// it parses nothing itself.
package lang
