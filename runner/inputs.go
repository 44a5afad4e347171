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
	"path/filepath"
	"strings"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// httpClient fetches http(s) inputs.
var httpClient = &http.Client{Timeout: 5 * time.Minute}

// placeInputs puts every input at its target under root and returns what
// was read, each with its content hash.
func (a *Agent) placeInputs(ctx context.Context, root string, j *schema.Job) ([]state.Document, error) {
	var docs []state.Document
	for _, in := range j.Task.Inputs {
		dst := filepath.Join(root, filepath.FromSlash(in.Target))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		got, err := a.placeInput(ctx, in, dst)
		if err != nil {
			return nil, fmt.Errorf("input %s -> %s: %w", in.Source, in.Target, err)
		}
		docs = append(docs, got...)
	}
	return docs, nil
}

func (a *Agent) placeInput(ctx context.Context, in schema.Input, dst string) ([]state.Document, error) {
	s := in.Source
	switch {
	case strings.HasPrefix(s, "file://"):
		f, err := os.Open(strings.TrimPrefix(s, "file://"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		d, err := writeFile(dst, f)
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s, nil)
		if err != nil {
			return nil, err
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET answered %s", resp.Status)
		}
		d, err := writeFile(dst, resp.Body)
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "sha256:"):
		d, err := a.placeDocument(ctx, s, dst)
		return one(in.Target, d, err)
	case strings.HasPrefix(s, "job:"):
		return a.placeJobOutputs(ctx, s, in.Target, dst)
	}
	return nil, fmt.Errorf("unsupported source")
}

func one(target string, d state.Document, err error) ([]state.Document, error) {
	if err != nil {
		return nil, err
	}
	d.Path = target
	return []state.Document{d}, nil
}

func (a *Agent) placeDocument(ctx context.Context, hash, dst string) (state.Document, error) {
	r, err := a.Store.Document(ctx, hash)
	if errors.Is(err, state.ErrNotFound) {
		return state.Document{}, fmt.Errorf("document %s is not in the document store (add it with 'muster doc put')", hash)
	}
	if err != nil {
		return state.Document{}, err
	}
	defer r.Close()
	d, err := writeFile(dst, r)
	if err == nil && d.Hash != hash {
		return d, fmt.Errorf("document %s read back as %s", hash, d.Hash)
	}
	return d, err
}

// placeJobOutputs places the outputs of a job version: one output at dst
// when the reference names it (#/path), else every output under dst at its
// own path.
func (a *Agent) placeJobOutputs(ctx context.Context, src, target, dst string) ([]state.Document, error) {
	ref, want, _ := strings.Cut(strings.TrimPrefix(src, "job:"), "#")
	jobID, hash, _ := strings.Cut(ref, "@")
	ns, name, _ := strings.Cut(jobID, "/")
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
		to := dst
		if want == "" {
			to = filepath.Join(dst, filepath.FromSlash(o.Path))
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return nil, err
			}
		}
		d, err := a.placeDocument(ctx, o.Hash, to)
		if err != nil {
			return nil, err
		}
		d.Path = path.Join(target, o.Path)
		if want != "" {
			d.Path = target
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s version %d has no output %s", jobID, version, want)
	}
	return docs, nil
}

// writeFile copies r to dst and returns its hash and size.
func writeFile(dst string, r io.Reader) (state.Document, error) {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return state.Document{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return state.Document{Hash: schema.HashPrefix + hex.EncodeToString(h.Sum(nil)), Size: n}, err
}
