// Package state is muster's persistence layer: job versions and status,
// nodes, executions, content-addressed specs and documents, all kept in NATS
// JetStream.
//
// Open runs an embedded nats-server with JetStream file storage inside a state
// directory (one control plane per directory, guarded by a lock file) and
// connects to it in-process; Connect uses an external NATS server by URL. Both
// return a *Store whose methods behave the same.
//
// Layout (created on first use, file storage):
//
//	KV specs        <hex>                          canonical spec bytes, content addressed
//	KV jobs         status.<ns>.<name>             JobStatus: the commit point of a job
//	                version.<ns>.<name>.<N>.<hex>  version record N of a job (spec hex in the key)
//	KV nodes        <node id>                      Node
//	KV executions   <ns>.<name>.<execution id>     Execution
//	Object Store documents  <hex>                  document bytes, content addressed
//
// Every write that can race is a compare-and-set on the KV revision it read,
// so concurrent writers never lose an update: one wins, the others get a
// *ConflictError. A job's status key is its only commit point: version
// records are written before it and only those reachable from the status
// count, so a process killed between the two writes leaves the old version
// in force and the next commit simply proceeds.
package state
