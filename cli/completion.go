package cli

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/state"
)

// completionHelp documents shell completion in 'muster completion --help'.
const completionHelp = `Completion prints a script that makes your shell complete muster's commands,
flags, and their values: job names (of the state the command would read:
--state-dir, --addr, --nats), namespaces for -n, executions for --execution,
versions for --version and --to-version, and the formats of -o. Completing
never creates a state directory and never waits for a busy one.

  bash:        source <(muster completion bash)
               (needs the bash-completion package)
  zsh:         source <(muster completion zsh)
               (with 'autoload -U compinit; compinit' in ~/.zshrc)
  fish:        muster completion fish | source
  powershell:  muster completion powershell | Out-String | Invoke-Expression

Put the line in your shell's startup file to keep it. See the help of each
shell's subcommand for installing the script system-wide.`

// completionTimeout bounds how long completing a value may read the state.
const completionTimeout = 5 * time.Second

// addCompletions makes the commands under root complete their values: the
// JOB (or REF) argument with job names, and the flags -n/--namespace,
// --execution, --version, --to-version and --state-dir. It also documents
// the completion command that cobra adds.
func addCompletions(root *cobra.Command) {
	root.CompletionOptions.HiddenDefaultCmd = false
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Long = completionHelp
			c.Example = "  source <(muster completion bash)\n  muster completion zsh > \"${fpath[1]}/_muster\""
		}
	}
	walk(root, func(c *cobra.Command) {
		if c.ValidArgsFunction == nil && takesJob(c) {
			c.ValidArgsFunction = completeJobs
		}
		flags := map[string]cobra.CompletionFunc{
			"namespace":  completeNamespaces,
			"execution":  completeExecutions,
			"to-version": completeVersions,
			"state-dir": func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveFilterDirs
			},
		}
		if c.Name() == "logs" {
			flags["version"] = completeVersions
		}
		for name, f := range flags {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, f)
			}
		}
	})
}

// walk calls f on c and every command under it.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// takesJob reports whether c's first argument names a job (its use line
// says JOB, [JOB] or REF).
func takesJob(c *cobra.Command) bool {
	fields := strings.Fields(c.Use)
	if len(fields) < 2 {
		return false
	}
	switch fields[1] {
	case "JOB", "[JOB]", "REF":
		return true
	}
	return false
}

// completionState opens, for completing, the state the command c would
// read: read only, creating nothing, failing at once on a busy directory.
func completionState(c *cobra.Command) (context.Context, *plane, func(), bool) {
	sf := stateFlags{
		dir:      flagOr(c, "state-dir", envOr("MUSTER_STATE_DIR", ".muster")),
		addr:     flagOr(c, "addr", ""),
		nats:     flagOr(c, "nats", ""),
		tlsCA:    flagOr(c, "tls-ca", ""),
		readOnly: true,
		cmd:      c,
	}
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	st, err := sf.open(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, false
	}
	return ctx, st, func() { st.Close(); cancel() }, true
}

// flagOr is the value of c's flag name, or def when c has no such flag.
func flagOr(c *cobra.Command, name, def string) string {
	if f := c.Flags().Lookup(name); f != nil {
		return f.Value.String()
	}
	return def
}

// completeJobs completes a job argument: NAME for the jobs of the default
// namespace, NAMESPACE/NAME for every job.
func completeJobs(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, st, done, ok := completionState(c)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	jobs, err := st.Jobs(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, js := range jobs {
		if js.Namespace == "default" {
			out = append(out, js.Name)
		}
		out = append(out, js.Namespace+"/"+js.Name)
	}
	return keepPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces completes -n with the namespaces that hold jobs.
func completeNamespaces(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx, st, done, ok := completionState(c)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	jobs, err := st.Jobs(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	seen := map[string]bool{}
	var out []cobra.Completion
	for _, js := range jobs {
		if !seen[js.Namespace] {
			seen[js.Namespace] = true
			out = append(out, js.Namespace)
		}
	}
	return keepPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeExecutions completes --execution with the ids of the executions
// of the job argument, each with its version, node and state.
func completeExecutions(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	forJob(c, args, func(ctx context.Context, st *plane, ns, name string) {
		execs, err := st.Executions(ctx, ns, name)
		if err != nil {
			return
		}
		for _, x := range execs {
			if strings.HasPrefix(x.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(x.ID, "version "+strconv.Itoa(x.JobVersion)+" on "+x.NodeID+", "+string(x.Status.ComputeState)))
			}
		}
	})
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// completeVersions completes a version flag with the versions of the job
// argument, newest first.
func completeVersions(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	forJob(c, args, func(ctx context.Context, st *plane, ns, name string) {
		versions, err := st.History(ctx, ns, name)
		if err != nil {
			return
		}
		for i := len(versions) - 1; i >= 0; i-- {
			v := versions[i]
			n := strconv.Itoa(v.Version)
			if strings.HasPrefix(n, toComplete) {
				out = append(out, cobra.CompletionWithDesc(n, shortHash(v.Hash)+" "+v.CreatedAt.UTC().Format(time.RFC3339)))
			}
		}
	})
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// forJob calls f with the state and the job of the command's first
// argument, when there is one and the state opens.
func forJob(c *cobra.Command, args []string, f func(ctx context.Context, st *plane, ns, name string)) {
	if len(args) == 0 {
		return
	}
	ns, name, err := splitJob(args[0])
	if err != nil {
		return
	}
	ctx, st, done, ok := completionState(c)
	if !ok {
		return
	}
	defer done()
	if _, err := st.Job(ctx, ns, name); errors.Is(err, state.ErrNotFound) {
		return
	}
	f(ctx, st, ns, name)
}

// keepPrefix keeps the candidates that start with prefix, sorted.
func keepPrefix(list []cobra.Completion, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
