package ui

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

// jobsView is the jobs page.
type jobsView struct {
	Jobs []jobRow
}

// jobRow is a job on the jobs page with its executions that have not
// ended.
type jobRow struct {
	state.JobStatus
	Active []state.Execution
	// More counts the executions not ended that are not shown.
	More int
	// Unread says the page did not read the job's executions: it lists
	// more jobs than maxJobsWithExecutions.
	Unread bool
}

// maxActive is how many executions not ended a row of the jobs page
// shows; maxJobsWithExecutions is how many jobs' executions the page reads
// (one listing each), so that a page of thousands of jobs stays quick.
const (
	maxActive             = 12
	maxJobsWithExecutions = 200
)

// jobs loads the jobs page: every job the token may read.
func (u *ui) jobs(ctx context.Context, r *http.Request, c *api.Client) (pageData, error) {
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return pageData{}, err
	}
	slices.SortFunc(jobs, func(a, b state.JobStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	rows := make([]jobRow, len(jobs))
	for i, j := range jobs {
		rows[i] = jobRow{JobStatus: j}
		if i >= maxJobsWithExecutions {
			rows[i].Unread = true
			continue
		}
		execs, err := c.Executions(ctx, j.Namespace, j.Name)
		if err != nil {
			return pageData{}, err
		}
		for _, e := range execs {
			if !e.Status.ComputeState.Ended() {
				rows[i].Active = append(rows[i].Active, e)
			}
		}
		if n := len(rows[i].Active); n > maxActive {
			rows[i].Active, rows[i].More = rows[i].Active[:maxActive], n-maxActive
		}
	}
	return pageData{Title: "Jobs", Events: apiPrefix + "/v1/events", Body: jobsView{Jobs: rows}}, nil
}

// nodesView is the nodes page.
type nodesView struct {
	Nodes []api.NodeView
}

// nodes loads the nodes page.
func (u *ui) nodes(ctx context.Context, r *http.Request, c *api.Client) (pageData, error) {
	nodes, err := c.NodeViews(ctx)
	if err != nil {
		return pageData{}, err
	}
	slices.SortFunc(nodes, func(a, b api.NodeView) int { return cmp.Compare(a.ID, b.ID) })
	return pageData{Title: "Nodes", Events: apiPrefix + "/v1/events", Body: nodesView{Nodes: nodes}}, nil
}

// jobEvents is the path of the event stream of job ns/name, for the
// page's script.
func jobEvents(ns, name string) string {
	return apiPrefix + "/v1/events?" + url.Values{"namespace": {ns}, "name": {name}}.Encode()
}

// executionView is the page of one execution.
type executionView struct {
	Job       state.JobStatus
	Execution state.Execution
	// Logs is the path of the execution's logs, for the page's script.
	Logs string
}

// execution loads the page of one execution of a job.
func (u *ui) execution(ctx context.Context, r *http.Request, c *api.Client) (pageData, error) {
	ns, name, id := r.PathValue("ns"), r.PathValue("name"), r.PathValue("id")
	job, err := c.Job(ctx, ns, name)
	if err != nil {
		return pageData{}, err
	}
	execs, err := c.Executions(ctx, ns, name)
	if err != nil {
		return pageData{}, err
	}
	i := slices.IndexFunc(execs, func(e state.Execution) bool { return e.ID == id })
	if i < 0 {
		return pageData{}, &api.Error{Status: http.StatusNotFound, Message: "job " + ns + "/" + name + " has no execution " + id}
	}
	logs := apiPrefix + "/v1/jobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name) + "/executions/" + url.PathEscape(id) + "/logs"
	return pageData{Title: "Execution " + id, Events: jobEvents(ns, name),
		Body: executionView{Job: job, Execution: execs[i], Logs: logs}}, nil
}
