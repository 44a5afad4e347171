// Package plan diffs desired jobs against stored state and places them on
// nodes. A Plan is data: for each job the action, the versions and hashes
// before and after, a field-level diff, a change class, the placement
// (matched nodes, canary, waves) and the base revision it was computed
// against, which apply checks before it records anything.
//
// Plans are deterministic: the same jobs, state and nodes give the same plan,
// byte for byte, and a job whose canonical spec is unchanged shows no diff.
package plan

// FormatVersion is the format_version of the plan JSON (docs/spec.md section 5).
const FormatVersion = "1"
