package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// httpClient fetches http(s) inputs.
var httpClient = &http.Client{Timeout: 5 * time.Minute}

// placeInputs puts every input at its target under root, through an
// os.Root, and returns what was read, each with its content hash.
func (a *Agent) placeInputs(ctx context.Context, root string, j *schema.Job) ([]state.Document, error) {
	if len(j.Task.Inputs) == 0 {
		return nil, nil
	}
	r, err := OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var docs []state.Document
	for _, in := range j.Task.Inputs {
		got, err := a.placeInput(ctx, r, j, in)
		if err != nil {
			return nil, fmt.Errorf("input %s -> %s: %w", in.Source, in.Target, err)
		}
		docs = append(docs, got...)
	}
	return docs, nil
}

func (a *Agent) placeInput(ctx context.Context, r *os.Root, j *schema.Job, in schema.Input) ([]state.Document, error) {
	rel, err := RelPath(in.Target)
	if err != nil {
		return nil, err
	}
	s := in.Source
	switch {
	case strings.HasPrefix(s, "file://"):
		f, err := openSource(strings.TrimPrefix(s, "file://"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		d, err := writeInRoot(r, rel, f)
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		body, err := get(ctx, s)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		d, err := writeInRoot(r, rel, body)
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "sha256:"):
		d, err := a.placeDocument(ctx, s, func(src io.Reader) (state.Document, error) { return writeInRoot(r, rel, src) })
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "job:"):
		return a.placeJobOutputs(ctx, r, j, s, in.Target)
	case strings.HasPrefix(s, schema.SecretRefPrefix):
		return nil, placeSecret(ctx, r, j, rel, s)
	}
	return nil, fmt.Errorf("unsupported source")
}

// openSource opens a file:// input on the node: only a regular file, never
// opening anything else (a device), and without blocking on a FIFO
// swapped in meanwhile.
func openSource(name string) (*os.File, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := notRegular(fi.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	if fi, err = f.Stat(); err == nil {
		err = notRegular(fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// get fetches an http(s) URL and returns its body.
func get(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s answered %s", url, resp.Status)
	}
	return resp.Body, nil
}

func one(target string, d state.Document, err error) ([]state.Document, error) {
	if err != nil {
		return nil, err
	}
	d.Path = target
	return []state.Document{d}, nil
}

// placeDocument reads document hash from the store into write, and checks
// that what was written hashes to it.
func (a *Agent) placeDocument(ctx context.Context, hash string, write func(io.Reader) (state.Document, error)) (state.Document, error) {
	rd, err := a.Store.Document(ctx, hash)
	if errors.Is(err, state.ErrNotFound) {
		return state.Document{}, fmt.Errorf("document %s is not in the document store (add it with 'muster doc put')", hash)
	}
	if err != nil {
		return state.Document{}, err
	}
	defer rd.Close()
	d, err := write(rd)
	if err == nil && d.Hash != hash {
		return d, fmt.Errorf("document %s read back as %s", hash, d.Hash)
	}
	return d, err
}

// errOtherNamespace refuses a job: input of another namespace.
var errOtherNamespace = errors.New("a job may refer only to its own namespace's outputs")

// placeJobOutputs places the outputs of a job version of j's namespace: one
// output at target when the reference names it (#/path), else every
// output under target at its own path.
func (a *Agent) placeJobOutputs(ctx context.Context, r *os.Root, j *schema.Job, src, target string) ([]state.Document, error) {
	ref, want, _ := strings.Cut(strings.TrimPrefix(src, "job:"), "#")
	jobID, hash, _ := strings.Cut(ref, "@")
	ns, name, _ := strings.Cut(jobID, "/")
	if ns != j.Namespace {
		return nil, fmt.Errorf("job %s is in namespace %q, this job in %q: %w", jobID, ns, j.Namespace, errOtherNamespace)
	}
	versions, err := a.Store.History(ctx, ns, name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	var version int
	for _, v := range versions {
		if v.Hash == hash {
			version = v.Version
		}
	}
	if version == 0 {
		return nil, fmt.Errorf("job %s has no version %s", jobID, hash)
	}
	execs, err := a.Store.Executions(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	var outputs []state.Document
	for _, e := range execs {
		if e.JobVersion == version && e.Status.ComputeState == state.ComputeComplete {
			outputs = e.Outputs
			break
		}
	}
	if len(outputs) == 0 {
		return nil, fmt.Errorf("no completed execution of %s version %d has outputs", jobID, version)
	}
	var docs []state.Document
	for _, o := range outputs {
		if want != "" && o.Path != want {
			continue
		}
		// The stored path is where the file goes: it must stay a clean
		// absolute path, whoever wrote the record.
		if _, err := RelPath(o.Path); err != nil {
			return nil, fmt.Errorf("%s version %d: output %w", jobID, version, err)
		}
		to := target
		if want == "" {
			to = path.Join(target, o.Path)
		}
		rel, err := RelPath(to)
		if err != nil {
			return nil, err
		}
		d, err := a.placeDocument(ctx, o.Hash, func(src io.Reader) (state.Document, error) { return writeInRoot(r, rel, src) })
		if err != nil {
			return nil, err
		}
		d.Path = to
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s version %d has no output %s", jobID, version, want)
	}
	return docs, nil
}

// writeInRoot copies src to name inside r (creating its directory) as a
// regular file, and returns its hash and size. It never writes through a
// link that leaves r, nor into a FIFO, socket or device.
func writeInRoot(r *os.Root, name string, src io.Reader) (state.Document, error) {
	f, err := CreateRegular(r, name, 0o644)
	if err != nil {
		return state.Document{}, err
	}
	return copyHashed(f, src)
}

// writeFile copies src to the node file dst (the module cache, outside any
// root) and returns its hash and size.
func writeFile(dst string, src io.Reader) (state.Document, error) {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return state.Document{}, err
	}
	return copyHashed(f, src)
}

// copyHashed copies src to f, closes f and returns the hash and size.
func copyHashed(f *os.File, src io.Reader) (state.Document, error) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return state.Document{Hash: schema.HashPrefix + hex.EncodeToString(h.Sum(nil)), Size: n}, err
}
