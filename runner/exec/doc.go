// Package exec is the exec driver: it runs task.cmd as a plain process on
// the node, registered as the "exec" engine.
//
// What a task gets:
//
//   - Program: cmd[0]. A name without a slash is looked up in the node's
//     PATH (the PATH of the node process when the driver was made); a
//     relative path with a slash ("./bin/tool") is relative to the working
//     directory, so it names a file inside the execution root; an absolute
//     path is a path on the node. There is no chroot: the root is the
//     task's working area, not its whole view of the file system.
//   - Arguments: cmd[1:].
//   - Working directory: the execution root, or root+task.workdir when
//     workdir is set (created when missing). Input targets and output
//     paths are root+path, so a task reaches its inputs as
//     $MUSTER_ROOT/<target> or relative to the root.
//   - Environment: exactly Spec.Env (task.env and the MUSTER_* variables of
//     docs/spec.md section 4), plus PATH (the node's, which task.env cannot set),
//     HOME (the execution root, unless task.env sets HOME) and MUSTER_ROOT
//     (the execution root). Nothing else of the node's environment leaks
//     in, so an execution does not depend on how the node was started.
//   - Stdin is empty (/dev/null); stdout and stderr go to Spec.Stdout and
//     Spec.Stderr (straight to the file when they are *os.File, through a
//     pipe otherwise).
//   - A process group of its own: Stop sends SIGTERM to the whole group,
//     then SIGKILL after the grace period. When the program exits, whatever
//     it left running in its group (and its cgroup) is killed: an execution
//     ends with its program.
//   - Limits: where cgroup v2 is writable, each execution runs in a cgroup
//     of its own with memory.max (task.resources.memory, swap off, the
//     whole cgroup killed on OOM) and cpu.max (task.resources.cpus per
//     100ms period); the process is placed in it at clone time
//     (CLONE_INTO_CGROUP), and the cgroup is removed after the run.
//     Elsewhere the task runs without limits and Limits says so.
//   - Network: not isolated; exec tasks share the node's network whatever
//     task.network says.
//   - Ports: nothing is mapped. The task listens itself on the host port
//     the agent gave it, MUSTER_PORT_<NAME> (on every interface, or at
//     least on 127.0.0.1, where the node's probes connect).
//   - Exec probes: the handle is a runner.Execer. The probe's command runs
//     as the task's program does (the same PATH lookup, working directory
//     and environment, MUSTER_* included) in a process group of its own,
//     killed whole at the probe's timeout; it is not put in the
//     execution's cgroup.
//   - No sandbox: the task runs as the node process's own user and may
//     read or write whatever that user may, the root being only its working
//     area. The boundary muster enforces is on its own side: the agent and
//     the driver never copy or write anything outside the root on the
//     task's behalf. task.workdir is created through an os.Root of the
//     root; outputs are collected through one (a link the task planted to
//     a node file is skipped, never followed; a FIFO never blocks the
//     agent); the process-group note beside the root is written through an
//     os.Root of the execution directory.
//
// Processes do not survive the node process in this design: the child is
// started with a parent-death signal (SIGKILL) and Recover always returns
// runner.ErrNotRecoverable.
package exec
