package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// The job page shows at most this many versions (with their diffs),
// executions, launches and stored events.
const (
	maxVersions   = 20
	maxExecutions = 100
	maxLaunches   = 10
	maxEvents     = 30
)

// jobView is the job page.
type jobView struct {
	Job state.JobStatus
	// Type and Engine are the current spec's, as written ("(sensitive)"
	// for a sensitive value).
	Type, Engine any
	Live         jobLive
	Versions     versionsView
	Events       []state.Event
}

// versionsView is the versions block of the job page, which the script
// fetches again when an event names a newer version.
type versionsView struct {
	Job      state.JobStatus
	Versions []versionView
}

// jobLive is the part of the job page that the script renders again as
// events arrive.
type jobLive struct {
	Job     state.JobStatus
	Rollout *rolloutView
	// Executions are the newest executions, running ones first.
	Executions []state.Execution
	// More counts the executions not shown.
	More     int
	Launches []state.Launch
}

// versionView is one version with the changes from the one before it.
type versionView struct {
	state.Version
	Current bool
	Changes []plan.Change
	// Problem says why the changes could not be shown.
	Problem string
}

// job loads the job page; with ?part=live, only what its live block shows.
func (u *ui) job(ctx context.Context, r *http.Request, c *api.Client) (pageData, error) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	data := pageData{Title: ns + "/" + name, Events: jobEvents(ns, name)}
	if r.URL.Query().Get("part") == "versions" {
		job, err := c.Job(ctx, ns, name)
		if err != nil {
			return pageData{}, err
		}
		vs, _, err := loadVersions(ctx, c, ns, name, job.Version)
		data.Body = versionsView{Job: job, Versions: vs}
		return data, err
	}
	live, err := loadLive(ctx, c, ns, name)
	if err != nil {
		return pageData{}, err
	}
	if r.URL.Query().Get("part") == "live" {
		data.Body = live
		return data, nil
	}
	v := jobView{Job: live.Job, Live: live}
	if v.Events, err = c.JobEvents(ctx, ns, name, maxEvents); err != nil {
		return pageData{}, err
	}
	slices.Reverse(v.Events)
	v.Versions.Job = live.Job
	var newest spec
	if v.Versions.Versions, newest, err = loadVersions(ctx, c, ns, name, live.Job.Version); err != nil {
		return pageData{}, err
	}
	if newest.hash != live.Job.Hash {
		newest = readSpec(ctx, c, live.Job.Hash)
	}
	v.Type, v.Engine = newest.fields()
	data.Body = v
	return data, nil
}

// loadLive reads the job's status, newest rollout, executions and
// launches.
func loadLive(ctx context.Context, c *api.Client, ns, name string) (jobLive, error) {
	var l jobLive
	var err error
	if l.Job, err = c.Job(ctx, ns, name); err != nil {
		return l, err
	}
	execs, err := c.Executions(ctx, ns, name)
	if err != nil {
		return l, err
	}
	rollouts, err := c.Rollouts(ctx, ns, name)
	if err != nil {
		return l, err
	}
	if len(rollouts) > 0 {
		l.Rollout = newRolloutView(rollouts[len(rollouts)-1], execs)
	}
	l.Executions, l.More = newestExecutions(execs)
	if l.Launches, err = c.Launches(ctx, ns, name); err != nil {
		return l, err
	}
	l.Launches = newest(l.Launches, maxLaunches)
	return l, nil
}

// newestExecutions orders the executions the page shows: those not ended
// first, then by when they changed, newest first; and counts the rest.
func newestExecutions(execs []state.Execution) ([]state.Execution, int) {
	slices.SortStableFunc(execs, func(a, b state.Execution) int {
		return cmp.Or(cmpBool(a.Status.ComputeState.Ended(), b.Status.ComputeState.Ended()),
			b.UpdatedAt.Compare(a.UpdatedAt))
	})
	if len(execs) <= maxExecutions {
		return execs, 0
	}
	return execs[:maxExecutions], len(execs) - maxExecutions
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// newest returns the last n of s, newest first.
func newest[T any](s []T, n int) []T {
	s = s[max(len(s)-n, 0):]
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// loadVersions reads the newest versions, newest first, each with the
// changes from the version before it (sensitive values hidden), and the
// spec of the newest.
func loadVersions(ctx context.Context, c *api.Client, ns, name string, current int) ([]versionView, spec, error) {
	history, err := c.History(ctx, ns, name)
	if err != nil || len(history) == 0 {
		return nil, spec{}, err
	}
	start := max(len(history)-maxVersions, 0)
	specs := make([]spec, len(history))
	for i := max(start-1, 0); i < len(history); i++ {
		specs[i] = readSpec(ctx, c, history[i].Hash)
	}
	var out []versionView
	for i := len(history) - 1; i >= start; i-- {
		v := versionView{Version: history[i], Current: history[i].Version == current}
		if i > 0 {
			v.Changes, v.Problem = specs[i-1].diff(specs[i])
		}
		out = append(out, v)
	}
	return out, specs[len(specs)-1], nil
}

// spec is a stored spec with the paths of its sensitive values, or why it
// could not be read.
type spec struct {
	hash      string
	canonical []byte
	hidden    []string
	problem   string
}

// readSpec reads the spec hash and its sensitive paths.
func readSpec(ctx context.Context, c *api.Client, hash string) spec {
	b, err := c.Spec(ctx, hash)
	if err != nil {
		return spec{hash: hash, problem: "spec " + hash + ": " + err.Error()}
	}
	hidden, err := c.SensitivePaths(ctx, hash)
	if err != nil {
		return spec{hash: hash, problem: "the sensitive values of " + hash + ": " + err.Error()}
	}
	return spec{hash: hash, canonical: b, hidden: hidden}
}

// diff returns the changes from s to next, or why there are none to show.
func (s spec) diff(next spec) ([]plan.Change, string) {
	if p := cmp.Or(s.problem, next.problem); p != "" {
		return nil, p
	}
	changes, err := plan.DiffHiding(s.canonical, next.canonical, s.hidden, next.hidden)
	if err != nil {
		return nil, err.Error()
	}
	return changes, ""
}

// fields returns the type and engine of s, hiding sensitive values; nil
// when it could not be read.
func (s spec) fields() (typ, engine any) {
	var job struct {
		Type string `json:"type"`
		Task struct {
			Engine string `json:"engine"`
		} `json:"task"`
	}
	if s.problem != "" || json.Unmarshal(s.canonical, &job) != nil {
		return nil, nil
	}
	typ, _ = sensitive.HideValue("type", job.Type, s.hidden)
	engine, _ = sensitive.HideValue("task.engine", job.Task.Engine, s.hidden)
	return typ, engine
}
