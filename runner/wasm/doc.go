// Package wasm is the wasm driver: it runs a WebAssembly module with WASI
// preview1 in wazero (pure Go, no cgo), registered as the "wasm" engine.
//
// What a task gets:
//
//   - Module: task.image, resolved to a file on the node by Driver.Resolve
//     before the run. The default accepts only absolute paths; http(s)://
//     and sha256: modules are fetched by the node before Start, which sets
//     Resolve to map the image to where it placed the bytes (for example
//     inside the execution directory). Compiled modules are kept per path
//     (recompiled when the file's size or mtime changes), and wazero's
//     compilation cache is shared by every execution of the driver.
//   - File system: the execution root is preopened as "/", so input
//     targets and output paths are the same paths inside the module as in
//     the job. Nothing else of the node is visible, and the root is a
//     boundary: it is mounted through an os.Root-backed file system, which
//     resolves every path inside the root and never follows a symbolic link
//     out of it. Opening, reading, writing, renaming, linking, listing or
//     removing through a link that leaves the root (absolute or relative,
//     at the end of a path or in its middle) fails with EPERM, and so does
//     making a link that is absolute or climbs out of the root as written.
//     Links that stay inside work as usual. task.workdir is created through
//     the same root.
//   - Arguments: task.image, then task.cmd.
//   - Environment: exactly Spec.Env, plus MUSTER_ROOT=/ and PWD. WASI has
//     no working directory: PWD is task.workdir (created in the root when
//     missing) or "/", which is what Go's and wasi-libc's runtimes use to
//     resolve relative paths.
//   - Stdin is empty; stdout and stderr go to Spec.Stdout and Spec.Stderr.
//     Clocks are the node's, sleeping is real, random numbers come from
//     crypto/rand.
//   - Memory: the module's linear memory cannot grow past
//     task.resources.memory (at most 4 GiB, the wasm32 maximum). A grow
//     beyond it fails as memory.grow fails in WebAssembly; when the module
//     then fails, the Result says out of memory. A module whose initial
//     memory is over the limit does not start.
//   - CPU: not limited; task.resources.cpus is not enforced.
//   - Network: none (WASI preview1 has no sockets here). A module cannot
//     listen, so it has no use for task.ports: the agent gives them and
//     sets MUSTER_PORT_<NAME> as for any engine, but nothing answers
//     there. The handle runs no command inside a module (it is no
//     runner.Execer), so an exec probe fails saying so.
//
// Stop cancels the module's context: wazero ends it at the next function
// call or loop iteration (and sleeps end early), so a busy loop stops too;
// there is no SIGTERM to catch, so the grace period is not used. Modules do
// not survive the node process: Recover returns runner.ErrNotRecoverable.
package wasm
