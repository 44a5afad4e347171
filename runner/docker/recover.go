package docker

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
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

// copyOutput copies output p (a file in "/") out of the ended container to
// Root+p. A missing output is skipped, as the spec says.
func (h *handle) copyOutput(ctx context.Context, p string) error {
	if h.root == "" {
		return fmt.Errorf("the execution root is empty")
	}
	res, err := h.cli.CopyFromContainer(ctx, h.id, client.CopyFromContainerOptions{SourcePath: p})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if !res.Stat.Mode.IsRegular() {
		return errNotFile
	}
	tr := tar.NewReader(res.Content)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg || path.Base(hdr.Name) != path.Base(p) {
			continue
		}
		dst := hostPath(h.root, p)
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.FileMode(hdr.Mode).Perm())
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
}
