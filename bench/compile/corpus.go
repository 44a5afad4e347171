package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/bench/jobgen"
)

// corpus is everything the cases read, written once before the runs.
type corpus struct {
	dir    string
	muster string
	files  []*jobgen.File
	jobs   int
	lines  map[string]float64 // mean lines per file, by format

	dirs  map[string]string   // format -> directory of the corpus
	paths map[string][]string // format -> its files, sorted

	// kubeconform: the YAML corpus with kind and apiVersion added to every
	// document, and the published schema with those two properties allowed.
	kubeDir, kubeSchema string
	// cue vet: the #Job definition as `muster schema --format cue` prints
	// it, and for the CUE files one self-contained file per job file
	// (definition + the file's text + one unification) and a few bundles.
	cueDef     string
	cueWrapped []string
	cueBundles []string
	cueBundled int // CUE files in all bundles

	broken []brokenCase
	batch  batchProof
}

// header is what kubeconform needs in every document to pick a schema.
var header = []jobgen.Member{
	jobgen.M("apiVersion", jobgen.S("muster.dev/v1")),
	jobgen.M("kind", jobgen.S("MusterJob")),
}

func writeCorpus(dir string, c config, muster string, peers peerSet) (*corpus, error) {
	corp := &corpus{
		dir:    dir,
		muster: muster,
		files:  jobgen.Generate(c.seed, c.n),
		lines:  map[string]float64{},
		dirs:   map[string]string{},
		paths:  map[string][]string{},
	}
	for _, f := range corp.files {
		corp.jobs += len(f.Jobs)
	}
	for _, fm := range c.formats {
		d := filepath.Join(dir, "corpus", fm)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		corp.dirs[fm] = d
		total := 0
		for _, f := range corp.files {
			src := jobgen.Render(f, jobgen.Format(fm))
			total += bytes.Count(src, []byte("\n"))
			p := filepath.Join(d, f.Base+"."+fm)
			if err := os.WriteFile(p, src, 0o644); err != nil {
				return nil, err
			}
			corp.paths[fm] = append(corp.paths[fm], p)
		}
		corp.lines[fm] = float64(total) / float64(len(corp.files))
	}

	// Schemas, exactly as muster publishes them.
	schemaJSON, err := exec.Command(muster, "schema").Output()
	if err != nil {
		return nil, fmt.Errorf("muster schema: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema.json"), schemaJSON, 0o644); err != nil {
		return nil, err
	}
	cueDef, err := exec.Command(muster, "schema", "--format", "cue").Output()
	if err != nil {
		return nil, fmt.Errorf("muster schema --format cue: %v", err)
	}
	corp.cueDef = filepath.Join(dir, "job.cue")
	if err := os.WriteFile(corp.cueDef, cueDef, 0o644); err != nil {
		return nil, err
	}

	if peers.kubeconform != "" {
		if err := corp.writeKubeconform(schemaJSON); err != nil {
			return nil, err
		}
	}
	if peers.cue != "" {
		if err := corp.writeCUEVet(string(cueDef), c); err != nil {
			return nil, err
		}
	}
	if err := corp.writeBroken(c, string(cueDef), peers); err != nil {
		return nil, err
	}
	return corp, nil
}

// writeKubeconform writes the kubeconform copy of the YAML corpus and the
// schema variant. kubeconform reads kind and apiVersion from every document
// to choose a schema (it reports "missing 'kind' key" otherwise), and the
// published schema forbids unknown top-level fields, so the variant only
// adds those two properties, each with a const.
func (corp *corpus) writeKubeconform(schemaJSON []byte) error {
	var s map[string]any
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		return fmt.Errorf("muster schema: %v", err)
	}
	props, ok := s["properties"].(map[string]any)
	if !ok {
		return fmt.Errorf("muster schema: no top-level properties")
	}
	props["apiVersion"] = map[string]any{"const": "muster.dev/v1"}
	props["kind"] = map[string]any{"const": "MusterJob"}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// A schema location that ends in "json" and holds no template is used
	// as is for every resource (kubeconform's registry.New).
	corp.kubeSchema = filepath.Join(corp.dir, "kubeconform-schema.json")
	if err := os.WriteFile(corp.kubeSchema, b, 0o644); err != nil {
		return err
	}
	corp.kubeDir = filepath.Join(corp.dir, "kubeconform", "yaml")
	if err := os.MkdirAll(corp.kubeDir, 0o755); err != nil {
		return err
	}
	for _, f := range corp.files {
		if err := os.WriteFile(filepath.Join(corp.kubeDir, f.Base+".yaml"), jobgen.RenderYAML(f, header), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cueVetFile is a self-contained file that `cue vet FILE` checks like muster
// checks a CUE job file: the #Job definition, the job file's text verbatim
// in a hidden field, and the unification of that field with #Job (or with
// a closed list of #Job for a file of several jobs).
//
// A CUE job file cannot be passed to `cue vet -d '#Job' job.cue f.cue`: -d
// applies only to data files, and CUE files on one command line are one
// instance, not one value each. Embedding #Job at a file's top level does
// not close it either (fields declared beside an embedding are allowed),
// so the explicit unification is needed for unknown fields to be errors.
func cueVetFile(def string, src []byte, jobs int) []byte {
	var b bytes.Buffer
	b.WriteString(def)
	b.WriteString("\n_in: {\n")
	b.Write(src)
	b.WriteString("\n}\n")
	if jobs > 1 {
		b.WriteString("close({jobs: [...#Job]}) & _in\n")
	} else {
		b.WriteString("#Job & _in\n")
	}
	return b.Bytes()
}

func (corp *corpus) writeCUEVet(def string, c config) error {
	d := filepath.Join(corp.dir, "cuevet")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	sample := len(corp.files)
	if c.cueSample > 0 && c.cueSample < sample {
		sample = c.cueSample
	}
	// Take the sample evenly over the corpus so it has its share of
	// multi-job and templated files.
	for i := range sample {
		f := corp.files[i*len(corp.files)/sample]
		p := filepath.Join(d, f.Base+".cue")
		if err := os.WriteFile(p, cueVetFile(def, jobgen.RenderCUE(f), len(f.Jobs)), 0o644); err != nil {
			return err
		}
		corp.cueWrapped = append(corp.cueWrapped, p)
	}
	// Bundles: every CUE file of the corpus, split over cueProcs files, each
	// job file under its own hidden field and unified with #Job. This is
	// the evaluation cost of cue alone, without one process per file.
	procs := max(1, c.cueProcs)
	for k := range procs {
		var b bytes.Buffer
		b.WriteString(def)
		for i := k; i < len(corp.files); i += procs {
			f := corp.files[i]
			fmt.Fprintf(&b, "\n_in%d: {\n%s\n}\n", i, jobgen.RenderCUE(f))
			if len(f.Jobs) > 1 {
				fmt.Fprintf(&b, "f%d: close({jobs: [...#Job]}) & _in%d\n", i, i)
			} else {
				fmt.Fprintf(&b, "f%d: #Job & _in%d\n", i, i)
			}
			corp.cueBundled++
		}
		p := filepath.Join(d, fmt.Sprintf("bundle-%d.cue", k))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return err
		}
		corp.cueBundles = append(corp.cueBundles, p)
	}
	return nil
}

// splitN splits paths into n interleaved, non-empty parts.
func splitN(paths []string, n int) [][]string {
	n = max(1, min(n, len(paths)))
	out := make([][]string, n)
	for i, p := range paths {
		out[i%n] = append(out[i%n], p)
	}
	return out
}

// excerpt shortens tool output for the report.
func excerpt(out string, lines int) string {
	out = strings.TrimSpace(out)
	ls := strings.Split(out, "\n")
	if len(ls) > lines {
		ls = append(ls[:lines], fmt.Sprintf("... (%d more lines)", len(ls)-lines))
	}
	return strings.Join(ls, "\n")
}

func runCmd(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
