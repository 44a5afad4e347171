// Package docker is the docker driver of muster: it runs one execution as
// one container of the local Docker Engine, through the Engine API client
// (github.com/moby/moby/client). It never pulls: the image of task.image must
// already be present on the node.
//
// # Containers
//
// Every execution is one container named "muster-<execution id>" (ids with
// characters Docker refuses in names are hashed instead) and labelled
// muster.execution_id=<id>, muster.job=<namespace>/<name> and
// muster.version=<MUSTER_JOB_VERSION>. The name makes a second create of the
// same execution fail, so a restarted control plane cannot duplicate it; the
// label is how Recover finds it again.
//
// task.entrypoint and task.cmd replace the image's when not empty, with the
// engine's rules (a new entrypoint also drops the image's cmd, as
// `docker run --entrypoint` does). The environment is Spec.Env plus
// MUSTER_ROOT=/. task.network is the network mode (none, bridge or host).
// task.resources.cpus becomes NanoCPUs (at least 0.01, at most the
// engine's CPU count), task.resources.memory the memory limit (at least the
// engine's minimum of 6 MiB) with no swap beyond it.
//
// # Inputs and outputs
//
// The execution root Spec.Root stands for the container's "/": a path P of
// the job is Root+P on the node and P in the container. The rules:
//
//   - Every input target T (a file the caller placed at Root+T before Start)
//     is bind-mounted read-only at T; it must exist.
//   - For every output path P, the directory dir(P) is bind-mounted
//     read-write from Root+dir(P), which is created (mode 0777, so that a
//     non-root user of the image may write). When one output directory holds
//     another (/out and /out/logs), only the outer one is mounted: it
//     carries the inner one's files. A mounted output directory hides what
//     the image has at that path, so outputs belong in directories of their
//     own (/out, not /etc).
//   - An output directly in "/" cannot be mounted (the container's root is
//     not a mount): it is copied out of the container to Root+P after the
//     container ends, before it is removed. A missing output is skipped.
//   - An input target inside an output directory is still mounted read-only
//     on top of it. An input target that is itself an output path (or an
//     output directory) is writable: the output wins. It is reached through
//     its output directory, or, in "/", mounted read-write from Root+T,
//     which then holds the output without a copy.
//
// Bind sources are paths on the engine's host, so the engine must share the
// node's file system (a local engine).
//
// # Lifecycle and logs
//
// Start creates and starts the container and follows its logs (stdout and
// stderr demultiplexed into Spec.Stdout and Spec.Stderr) in the background.
// When the container ends the driver reads its exit code and OOM flag,
// drains the logs, copies root-level outputs and removes the container
// (unless Options.KeepContainers); Wait returns after all of that. Stop is
// the engine's stop: SIGTERM, then SIGKILL after the grace period (rounded up
// to whole seconds, the engine's unit).
//
// Recover finds the container of an execution by name and label after a
// control-plane restart. A running container is re-attached; a container
// that ended meanwhile reports its exit code; a created but never started
// one is started. Logs are replayed from the container's start, so nothing
// written while no control plane listened is lost, at the price of lines the
// previous process already forwarded appearing again; RecoverSince takes a
// timestamp to resume from instead.
package docker
