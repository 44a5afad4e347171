package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// Recover re-attaches to the container of spec.ExecutionID that an earlier
// process started, replaying its logs from the container's start into
// spec.Stdout and spec.Stderr. It returns an error wrapping
// runner.ErrNotRecoverable when no such container exists, and a plain error
// when the engine does not answer (try again later).
func (d *Driver) Recover(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	return d.RecoverSince(ctx, spec, time.Time{})
}

// RecoverSince is Recover with the logs resumed from since instead of the
// container's start; the zero time means from the start. A caller that
// recorded when it last forwarded a line passes that time to avoid repeats.
//
// A running (or paused, or restarting) container is followed as if Start
// had returned it; one that ended reports its exit code through Wait and is
// then removed; one that was created but never started (the previous
// process died between the two) is started. If this driver already follows
// the execution, its handle is returned.
func (d *Driver) RecoverSince(ctx context.Context, spec *runner.Spec, since time.Time) (runner.Handle, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	cli, err := d.client(ctx)
	if err != nil {
		return nil, err
	}
	if h := d.live(spec.ExecutionID); h != nil {
		return h, nil
	}
	c, err := find(ctx, cli, spec.ExecutionID)
	if err != nil {
		return nil, err
	}
	if c.State != nil && c.State.Status == container.StateCreated {
		if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
			return nil, fmt.Errorf("docker: start the recovered container of execution %s: %w", spec.ExecutionID, err)
		}
	}
	plan, err := planMounts(spec.Job.Task.Inputs, spec.Job.Task.Outputs)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	h := d.newHandle(cli, spec, c.ID, plan.copyOut)
	if c.HostConfig != nil && c.HostConfig.Memory > 0 {
		h.memory = c.HostConfig.Memory
	}
	ts := ""
	if !since.IsZero() {
		ts = since.UTC().Format(time.RFC3339Nano)
	}
	if err := d.track(h, ts); err != nil {
		return nil, err
	}
	return h, nil
}

// find returns the container of an execution: by its name, then by its
// label (a container renamed by hand). A container of that name whose
// label names another execution is not taken.
func find(ctx context.Context, cli *client.Client, execID string) (container.InspectResponse, error) {
	ins, err := cli.ContainerInspect(ctx, ContainerName(execID), client.ContainerInspectOptions{})
	if err == nil && ins.Container.Config != nil && ins.Container.Config.Labels[LabelExecutionID] == execID {
		return ins.Container, nil
	}
	if err != nil && !cerrdefs.IsNotFound(err) {
		return container.InspectResponse{}, fmt.Errorf("docker: look up execution %s: %w", execID, err)
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", LabelExecutionID+"="+execID),
	})
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("docker: look up execution %s: %w", execID, err)
	}
	var newest *container.Summary
	for i := range list.Items {
		if newest == nil || list.Items[i].Created > newest.Created {
			newest = &list.Items[i]
		}
	}
	if newest == nil {
		return container.InspectResponse{}, fmt.Errorf("%w: no container labelled %s=%s", runner.ErrNotRecoverable, LabelExecutionID, execID)
	}
	ins, err = cli.ContainerInspect(ctx, newest.ID, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return container.InspectResponse{}, fmt.Errorf("%w: the container of execution %s is gone", runner.ErrNotRecoverable, execID)
	}
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("docker: look up execution %s: %w", execID, err)
	}
	return ins.Container, nil
}

// copyOutputs copies the root-level outputs out of the ended container
// into the root, recording on the result those it refused and why.
func (h *handle) copyOutputs(ctx context.Context) {
	if len(h.copyOut) == 0 {
		return
	}
	if h.root == "" {
		h.note("outputs: the execution root is empty")
		return
	}
	r, err := runner.OpenRoot(h.root)
	if err != nil {
		h.note("outputs: %v", err)
		return
	}
	defer r.Close()
	for _, p := range h.copyOut {
		reason, err := h.copyOutput(ctx, r, p)
		switch {
		case err != nil:
			h.note("output %s: %v", p, err)
		case reason != "":
			h.res.Skipped = append(h.res.Skipped, state.SkippedOutput{Path: p, Reason: reason})
		}
	}
}

// copyOutput copies output p (a file in "/") out of the ended container to
// Root+p, through r. A missing output is skipped, as the spec says. Only a
// regular file is copied, and only while the execution stays under its
// output limit: a link, a directory or any other kind of file in the
// container (or an archive entry that is not a regular file) is refused,
// and the reason says why.
func (h *handle) copyOutput(ctx context.Context, r *os.Root, p string) (reason string, err error) {
	rel, err := runner.RelPath(p)
	if err != nil {
		return "", err
	}
	res, err := h.cli.CopyFromContainer(ctx, h.id, client.CopyFromContainerOptions{SourcePath: p})
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer res.Content.Close()
	if !res.Stat.Mode.IsRegular() {
		return "not a regular file (" + runner.Kind(res.Stat.Mode) + ")", nil
	}
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if err != nil {
		return "", fmt.Errorf("read archive: %w", err)
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Name != path.Base(p) {
		return fmt.Sprintf("the engine's archive holds %q (type %q), not the regular file", hdr.Name, hdr.Typeflag), nil
	}
	if h.maxOut > 0 && hdr.Size > h.maxOut-h.copied {
		return fmt.Sprintf("output limit %s reached (this file has %d bytes)", runner.SizeText(h.maxOut), hdr.Size), nil
	}
	f, err := runner.CreateRegular(r, rel, os.FileMode(hdr.Mode).Perm())
	var nre *runner.NotRegularError
	if errors.As(err, &nre) {
		return nre.Reason, nil
	}
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(tr, hdr.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	h.copied += n
	return "", err
}
