// Package schema is the muster job model of docs/spec.md section 2: the Go types,
// their defaults, normalization and the canonical RFC 8785 (JCS) encoding
// whose SHA-256 is a job's content address.
//
// The package does no I/O. Frontends (package lang and below) parse files
// into value trees; package validate decodes those trees into a Job, checks
// every rule and calls Normalize. Fields describes every field once; the JSON
// Schema, the CUE #Job definition and docs/jobspec.md are generated from or
// checked against it.
package schema

// APIVersion is the api_version every canonical document carries.
const APIVersion = "muster/v1"
