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
//
// # Ports and probes
//
// The host ports the agent gave the execution (Spec.Ports, also in
// MUSTER_PORT_<NAME>) are published on a bridge container as `docker run
// -p HOST:TO` publishes them: to the entry's `to` inside the container, or
// to the same port when `to` is not set, TCP, on every interface of the
// host (no host IP: the engine's default), so that the node's probes
// reach them on 127.0.0.1 and other machines on the node's addresses. A
// host-network container listens on its host port itself: nothing is
// published. A container without a network (none) can be probed by exec
// only.
//
// An exec probe runs in the container as `docker exec` does (the
// container's environment, user and working directory; its exit code
// says). At the probe's timeout the driver kills the command's process by
// the host pid the engine reports, which takes a local engine and an agent
// allowed to signal it (root); what the command started itself is left to
// end on its own.
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
// # The execution root is a boundary
//
// A container, often running as root, writes into its output directories
// on the node: it can plant there symbolic links to any node path
// (/etc/shadow), FIFOs, sockets and device nodes. Nothing the driver or the
// agent does follows them out of the root:
//
//   - Output directories are created and opened up (chmod) through an
//     os.Root of the execution root, and every bind source, output
//     directory or input, is handed to the engine only once it is checked
//     to be a real directory or regular file inside the root with no
//     symbolic link on its path (the engine would resolve such a link on
//     the host). A root prepared otherwise is refused before anything runs.
//   - The agent reads outputs through the root too (package runner): a link
//     leaving the root is skipped, a link inside is followed, and what is
//     not a regular file is never opened. Each skip is recorded on the
//     execution with its reason.
//   - Root-level outputs come out through the engine's archive API: only a
//     regular file is copied (the engine's stat of the path and the
//     archive's single entry must both be a regular file of that name; a
//     link, a directory, a FIFO or any other entry is refused), it is
//     written through the root as a regular file (never through a link
//     leaving the root, never into a FIFO), and only within
//     Spec.MaxOutputSize. What is refused is reported in Result.Skipped
//     with the reason.
//
// What a container leaves in its output directories that is not collected
// (a device node, a setuid file) stays in the execution root on the node's
// disk, which is private to the execution and never executed by muster.
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
