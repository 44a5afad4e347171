// Package validate decodes the value tree of one job (see package lang) into a
// schema.Job, checks every rule of docs/spec.md section 2, fills the defaults and
// normalizes it.
//
// Every problem becomes a lang.Diagnostic with the source range and the
// field path it is about; all problems of a job are reported, not only the
// first, and unknown fields at any depth get a "did you mean" suggestion when
// a known field is close.
package validate
