package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// The labels every container of the driver carries.
const (
	LabelExecutionID = "muster.execution_id"
	LabelJob         = "muster.job"
	LabelVersion     = "muster.version"
)

// minMemory is the smallest memory limit the engine accepts (6 MiB); smaller
// task limits are raised to it.
const minMemory = 6 << 20

// minNanoCPUs is the smallest CPU limit the engine accepts (0.01 CPU).
const minNanoCPUs = 1e7

// ImageMissingError is returned by Start when task.image is not present on
// the node: the driver never pulls.
type ImageMissingError struct {
	Image string
	// Err is the engine's answer.
	Err error
}

func (e *ImageMissingError) Error() string {
	return fmt.Sprintf("image %s is not present on this node and muster does not pull; load or build it first", e.Image)
}

func (e *ImageMissingError) Unwrap() error { return e.Err }

// ContainerName is the name of the container of an execution:
// "muster-<id>", or "muster-<sha256 of id>" when the id holds characters
// Docker refuses in names.
func ContainerName(executionID string) string {
	ok := executionID != ""
	for _, r := range executionID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			ok = false
			break
		}
	}
	if ok && len(executionID) <= 200 {
		return "muster-" + executionID
	}
	sum := sha256.Sum256([]byte(executionID))
	return "muster-" + hex.EncodeToString(sum[:16])
}

// checkSpec refuses a spec the driver cannot run.
func checkSpec(spec *runner.Spec) error {
	switch {
	case spec == nil || spec.Job == nil:
		return errors.New("docker: spec without a job")
	case spec.ExecutionID == "":
		return errors.New("docker: spec without an execution id")
	case spec.Job.Task.Image == "":
		return errors.New("docker: task.image is empty")
	}
	return nil
}

// Start creates and starts the container of spec and returns at once; see
// the package documentation for what it maps and mounts. If the execution
// already has a container (a previous process started it), Start fails and
// leaves it alone: Recover attaches to it.
func (d *Driver) Start(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	cli, err := d.client(ctx)
	if err != nil {
		return nil, err
	}
	task := &spec.Job.Task
	plan, err := planMounts(task.Inputs, task.Outputs)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	mounts, err := plan.prepare(spec.Root)
	if err != nil {
		return nil, fmt.Errorf("docker: %w", err)
	}
	cfg, hc := d.containerConfig(spec)
	hc.Mounts = mounts
	name := ContainerName(spec.ExecutionID)
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: name})
	switch {
	case err == nil:
	case cerrdefs.IsNotFound(err):
		return nil, &ImageMissingError{Image: task.Image, Err: err}
	case cerrdefs.IsConflict(err):
		return nil, fmt.Errorf("docker: execution %s already has a container %s; Recover attaches to it: %w", spec.ExecutionID, name, err)
	default:
		return nil, fmt.Errorf("docker: create container for execution %s: %w", spec.ExecutionID, err)
	}
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		cli.ContainerRemove(rctx, created.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		return nil, fmt.Errorf("docker: start container for execution %s: %w", spec.ExecutionID, err)
	}
	h := d.newHandle(cli, spec, created.ID, plan.copyOut)
	h.warnings = created.Warnings
	if err := d.track(h, ""); err != nil {
		return nil, err
	}
	return h, nil
}

// containerConfig maps the task to the engine's container configuration.
func (d *Driver) containerConfig(spec *runner.Spec) (*container.Config, *container.HostConfig) {
	task := &spec.Job.Task
	env := make([]string, 0, len(spec.Env)+1)
	for k, v := range spec.Env {
		if k != "MUSTER_ROOT" {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "MUSTER_ROOT=/")
	sort.Strings(env)
	cfg := &container.Config{
		Image:      task.Image,
		Env:        env,
		WorkingDir: task.Workdir,
		Labels: map[string]string{
			LabelExecutionID: spec.ExecutionID,
			LabelJob:         spec.Job.Namespace + "/" + spec.Job.Name,
			LabelVersion:     spec.Env["MUSTER_JOB_VERSION"],
		},
	}
	// Empty means the image's: nil, not an empty list, which the engine
	// would take as "no entrypoint".
	if len(task.Entrypoint) > 0 {
		cfg.Entrypoint = task.Entrypoint
	}
	if len(task.Cmd) > 0 {
		cfg.Cmd = task.Cmd
	}
	mode := task.Network
	if mode == "" {
		mode = schema.NetworkNone
	}
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(mode)}
	if mode == schema.NetworkBridge {
		cfg.ExposedPorts, hc.PortBindings = publish(task.Ports, spec.Ports)
	}
	if cpus := task.Resources.CPUs; cpus > 0 {
		if d.ncpu > 0 && cpus > float64(d.ncpu) {
			cpus = float64(d.ncpu)
		}
		hc.NanoCPUs = max(int64(math.Round(cpus*1e9)), minNanoCPUs)
	}
	if mem := task.Resources.Memory.Bytes(); mem > 0 {
		mem = max(mem, minMemory)
		hc.Memory = mem
		hc.MemorySwap = mem // no swap beyond the limit
	}
	return cfg, hc
}

// publish maps the host ports of a bridge task (hosts, by the names of
// ports) to their ports in the container: an entry's To, or the host port
// itself when To is 0. Each is published as `docker run -p HOST:TO` does,
// on every interface of the host (the engine's default host IP), TCP; so
// the node's probes reach it on 127.0.0.1 and other machines on the node's
// addresses. Nil maps when there is nothing to publish.
func publish(ports []schema.Port, hosts map[string]int) (network.PortSet, network.PortMap) {
	if len(hosts) == 0 {
		return nil, nil
	}
	exposed, bindings := network.PortSet{}, network.PortMap{}
	for _, p := range ports {
		host, ok := hosts[p.Name]
		if !ok || host <= 0 || host > math.MaxUint16 {
			continue
		}
		to := p.To
		if to <= 0 || to > math.MaxUint16 {
			to = host
		}
		cp, _ := network.PortFrom(uint16(to), network.TCP)
		exposed[cp] = struct{}{}
		bindings[cp] = append(bindings[cp], network.PortBinding{HostPort: strconv.Itoa(host)})
	}
	if len(exposed) == 0 {
		return nil, nil
	}
	return exposed, bindings
}
