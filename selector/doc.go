// Package selector parses, prints and matches the node selector expressions
// of docs/spec.md section 2, with Kubernetes label semantics: `!=` and `notin` also
// match nodes that lack the key.
//
// Accepted forms (spaces around operators and after commas are allowed):
//
//	key=value   key==value   key!=value
//	key in (a,b)   key notin (a,b)
//	key         (the label exists)
//	!key        (the label is absent)
//
// String prints the one canonical form: no spaces around operators, `==`
// as `=`, the values of a set sorted, de-duplicated and joined by commas.
package selector
