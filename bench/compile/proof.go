package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/bench/jobgen"
)

// A mutation breaks one rule of a valid job. Every tool must reject the
// result; schemaCannot marks rules that a JSON Schema cannot state (the
// published schema leaves them to muster validate), so that kubeconform
// missing them is expected, not a broken setup.
type mutation struct {
	name         string
	schemaCannot bool
	apply        func(j *jobgen.Node)
}

var mutations = []mutation{
	{name: "valid (control)", apply: func(j *jobgen.Node) {}},
	{name: "unknown field nmae", apply: func(j *jobgen.Node) { j.Set("nmae", jobgen.S("web")) }},
	{name: "name Web_Server", apply: func(j *jobgen.Node) { j.Set("name", jobgen.S("Web_Server")) }},
	{name: "count on an ops job", apply: func(j *jobgen.Node) { j.Set("type", jobgen.S("ops")) }},
	{name: "engine dockr", apply: func(j *jobgen.Node) { j.Get("task").Set("engine", jobgen.S("dockr")) }},
	{name: "memory 2X", apply: func(j *jobgen.Node) { j.Get("task").Get("resources").Set("memory", jobgen.S("2X")) }},
	{name: "priority 101", apply: func(j *jobgen.Node) { j.Set("priority", jobgen.I("101")) }},
	{name: "image on an exec task", apply: func(j *jobgen.Node) {
		t := j.Get("task")
		t.Set("engine", jobgen.S("exec"))
		t.Set("cmd", jobgen.L(jobgen.S("/bin/true")))
	}},
	{name: "canary_count with rolling", apply: func(j *jobgen.Node) { j.Get("rollout").Set("canary_count", jobgen.I("2")) }},
	{name: "selector region in us-east", apply: func(j *jobgen.Node) {
		j.Set("selector", jobgen.O(jobgen.M("match_expressions", jobgen.L(jobgen.S("region in us-east")))))
	}},
	{name: "input target used twice", schemaCannot: true, apply: func(j *jobgen.Node) {
		in := j.Get("task").Get("inputs")
		in.List = append(in.List, jobgen.O(jobgen.M("source", jobgen.S("https://b.example.com/y")), jobgen.M("target", jobgen.S("/in/x"))))
	}},
}

// baseJob is valid and touches every part the mutations change.
func baseJob() *jobgen.File {
	j := jobgen.O(
		jobgen.M("name", jobgen.S("web")),
		jobgen.M("type", jobgen.S("service")),
		jobgen.M("count", jobgen.I("2")),
		jobgen.M("labels", jobgen.O(jobgen.M("team", jobgen.S("payments")))),
		jobgen.M("task", jobgen.O(
			jobgen.M("engine", jobgen.S("docker")),
			jobgen.M("image", jobgen.S("registry.local/web:1.4")),
			jobgen.M("resources", jobgen.O(jobgen.M("cpus", jobgen.S("500m")), jobgen.M("memory", jobgen.S("512M")))),
			jobgen.M("inputs", jobgen.L(jobgen.O(jobgen.M("source", jobgen.S("https://a.example.com/x")), jobgen.M("target", jobgen.S("/in/x"))))),
		)),
		jobgen.M("rollout", jobgen.O(jobgen.M("strategy", jobgen.S("rolling")))),
	)
	return &jobgen.File{Base: "broken", Jobs: []*jobgen.Node{j}}
}

// brokenCase is one mutation written for every tool.
type brokenCase struct {
	m       mutation
	files   map[string]string // format -> file for muster
	kube    string            // kubeconform copy
	yaml    string            // plain YAML for cue vet -d
	cueWrap string            // self-contained file for cue vet
}

// batchProof hides one broken job among valid ones, for each way a tool is
// run on many files at once.
type batchProof struct {
	name       string
	musterDir  string
	kubeDir    string
	cueYAML    []string
	cueBundle  string
	validCount int
}

func (corp *corpus) writeBroken(c config, cueDef string, peers peerSet) error {
	d := filepath.Join(corp.dir, "broken")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	slug := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, s)
	}
	for i, m := range mutations {
		f := baseJob()
		m.apply(f.Jobs[0])
		base := filepath.Join(d, fmt.Sprintf("%02d-%s", i, slug(m.name)))
		bc := brokenCase{m: m, files: map[string]string{}}
		for _, fm := range c.formats {
			p := base + "." + fm
			if err := os.WriteFile(p, jobgen.Render(f, jobgen.Format(fm)), 0o644); err != nil {
				return err
			}
			bc.files[fm] = p
		}
		bc.yaml = base + ".yaml"
		if bc.files["yaml"] == "" {
			if err := os.WriteFile(bc.yaml, jobgen.RenderYAML(f, nil), 0o644); err != nil {
				return err
			}
		}
		bc.kube = base + ".kube.yaml"
		if err := os.WriteFile(bc.kube, jobgen.RenderYAML(f, header), 0o644); err != nil {
			return err
		}
		bc.cueWrap = base + ".vet.cue"
		if err := os.WriteFile(bc.cueWrap, cueVetFile(cueDef, jobgen.RenderCUE(f), 1), 0o644); err != nil {
			return err
		}
		corp.broken = append(corp.broken, bc)
	}

	// The batch: the first 100 files of the corpus and "count on an ops
	// job" (a rule that depends on another field) in the middle.
	var bad brokenCase
	for _, bc := range corp.broken {
		if bc.m.name == "count on an ops job" {
			bad = bc
		}
	}
	n := min(100, len(corp.files))
	bp := batchProof{name: "1 broken among " + fmt.Sprint(n) + " valid", validCount: n}
	bp.musterDir = filepath.Join(d, "batch-muster")
	bp.kubeDir = filepath.Join(d, "batch-kubeconform")
	for _, dir := range []string{bp.musterDir, bp.kubeDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	var bundle strings.Builder
	bundle.WriteString(cueDef)
	for i, f := range corp.files[:n] {
		if err := os.WriteFile(filepath.Join(bp.musterDir, f.Base+".yaml"), jobgen.RenderYAML(f, nil), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(bp.kubeDir, f.Base+".yaml"), jobgen.RenderYAML(f, header), 0o644); err != nil {
			return err
		}
		bp.cueYAML = append(bp.cueYAML, filepath.Join(bp.musterDir, f.Base+".yaml"))
		root := "#Job"
		if len(f.Jobs) > 1 {
			root = "close({jobs: [...#Job]})"
		}
		fmt.Fprintf(&bundle, "\n_in%d: {\n%s\n}\nf%d: %s & _in%d\n", i, jobgen.RenderCUE(f), i, root, i)
		if i == n/2 {
			src, err := os.ReadFile(bad.yaml)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(bp.musterDir, "job-broken.yaml"), src, 0o644); err != nil {
				return err
			}
			bp.cueYAML = append(bp.cueYAML, filepath.Join(bp.musterDir, "job-broken.yaml"))
			if src, err = os.ReadFile(bad.kube); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(bp.kubeDir, "job-broken.yaml"), src, 0o644); err != nil {
				return err
			}
			bf := baseJob()
			bad.m.apply(bf.Jobs[0])
			fmt.Fprintf(&bundle, "\n_inbroken: {\n%s\n}\nfbroken: #Job & _inbroken\n", jobgen.RenderCUE(bf))
		}
	}
	bp.cueBundle = filepath.Join(d, "batch-bundle.cue")
	if err := os.WriteFile(bp.cueBundle, []byte(bundle.String()), 0o644); err != nil {
		return err
	}
	corp.batch = bp
	return nil
}

// availability says which muster formats work and which peer cases
// accepted the valid corpus.
type availability struct {
	muster map[string]string // format -> "" when usable, else why not
}

// preflight checks, untimed, that every tool accepts the valid corpus and
// rejects every broken file, alone and inside a batch; the results go into
// the report.
func preflight(ctx context.Context, corp *corpus, peers peerSet, c config, rep *Report, log *logger) availability {
	av := availability{muster: map[string]string{}}
	add := func(p Proof) {
		rep.Proofs = append(rep.Proofs, p)
		if !p.OK {
			log.printf("proof failed: %s / %s %s: expected %s, got %s: %s", p.Check, p.Tool, p.Format, p.Expect, p.Got, firstLine(p.Output))
		}
	}
	check := func(check, tool, format, expect string, out string, err error) {
		got := "accept"
		if err != nil {
			got = "reject"
			if _, ok := err.(interface{ ExitCode() int }); !ok {
				got = "error: " + err.Error()
			}
		}
		add(Proof{Check: check, Tool: tool, Format: format, Expect: expect, Got: got, OK: got == expect, Output: excerpt(out, 6)})
	}

	// The valid corpus.
	for _, fm := range c.formats {
		out, err := runCmd(ctx, corp.dir, corp.muster, "validate", "-o", "json", corp.dirs[fm])
		why := ""
		if err != nil {
			why = musterProblem(out)
		}
		av.muster[fm] = why
		if strings.Contains(why, "unsupported format") {
			add(Proof{Check: fmt.Sprintf("valid corpus (%d files)", len(corp.paths[fm])), Tool: "muster validate", Format: fm,
				Expect: "accept", Got: "skipped: no " + fm + " frontend in this build", OK: true})
			continue
		}
		check(fmt.Sprintf("valid corpus (%d files)", len(corp.paths[fm])), "muster validate", fm, "accept", out, err)
	}
	if peers.kubeconform != "" {
		out, err := runCmd(ctx, corp.dir, peers.kubeconform, kubeArgs("2", corp.kubeSchema, corp.kubeDir)...)
		check(fmt.Sprintf("valid corpus (%d files)", len(corp.files)), "kubeconform", "yaml", "accept", out, err)
	}
	if peers.cue != "" {
		if paths := corp.paths["yaml"]; len(paths) > 0 {
			out, err := runCmd(ctx, corp.dir, peers.cue, append([]string{"vet", "-d", "#Job", corp.cueDef}, paths...)...)
			check(fmt.Sprintf("valid corpus (%d files)", len(paths)), "cue vet -d #Job", "yaml", "accept", out, err)
		}
		var firstErr error
		var firstOut string
		for _, p := range corp.cueWrapped {
			if out, err := runCmd(ctx, corp.dir, peers.cue, "vet", p); err != nil && firstErr == nil {
				firstErr, firstOut = err, p+": "+out
			}
		}
		check(fmt.Sprintf("valid corpus (sample of %d files, one process each)", len(corp.cueWrapped)), "cue vet", "cue", "accept", firstOut, firstErr)
		for _, b := range corp.cueBundles {
			out, err := runCmd(ctx, corp.dir, peers.cue, "vet", b)
			check(fmt.Sprintf("valid corpus (%s, %d files)", filepath.Base(b), (corp.cueBundled+len(corp.cueBundles)-1)/len(corp.cueBundles)), "cue vet (bundle)", "cue", "accept", out, err)
		}
	}

	// Every broken file, alone.
	for _, bc := range corp.broken {
		expect := "reject"
		if bc.m.name == "valid (control)" {
			expect = "accept"
		}
		for _, fm := range c.formats {
			if strings.Contains(av.muster[fm], "unsupported format") {
				continue
			}
			out, err := runCmd(ctx, corp.dir, corp.muster, "validate", bc.files[fm])
			check(bc.m.name, "muster validate", fm, expect, out, err)
		}
		if peers.kubeconform != "" {
			out, err := runCmd(ctx, corp.dir, peers.kubeconform, kubeArgs("2", corp.kubeSchema, bc.kube)...)
			e := expect
			if bc.m.schemaCannot {
				e = "accept" // the JSON Schema cannot state it; see mutation
			}
			check(bc.m.name, "kubeconform", "yaml", e, out, err)
		}
		if peers.cue != "" {
			out, err := runCmd(ctx, corp.dir, peers.cue, "vet", "-d", "#Job", corp.cueDef, bc.yaml)
			check(bc.m.name, "cue vet -d #Job", "yaml", expect, out, err)
			out, err = runCmd(ctx, corp.dir, peers.cue, "vet", bc.cueWrap)
			check(bc.m.name, "cue vet", "cue", expect, out, err)
		}
	}

	// One broken file inside a batch, for each way of running many files.
	bp := corp.batch
	out, err := runCmd(ctx, corp.dir, corp.muster, "validate", bp.musterDir)
	check(bp.name, "muster validate", "yaml", "reject", out, err)
	if peers.kubeconform != "" {
		out, err := runCmd(ctx, corp.dir, peers.kubeconform, kubeArgs("2", corp.kubeSchema, bp.kubeDir)...)
		check(bp.name, "kubeconform", "yaml", "reject", out, err)
	}
	if peers.cue != "" {
		out, err := runCmd(ctx, corp.dir, peers.cue, append([]string{"vet", "-d", "#Job", corp.cueDef}, bp.cueYAML...)...)
		check(bp.name, "cue vet -d #Job", "yaml", "reject", out, err)
		out, err = runCmd(ctx, corp.dir, peers.cue, "vet", bp.cueBundle)
		check(bp.name, "cue vet (bundle)", "cue", "reject", out, err)
	}
	return av
}

// kubeArgs runs kubeconform on paths with the schema variant: -strict also
// rejects duplicate keys, -summary prints the counts.
func kubeArgs(n, schema string, paths ...string) []string {
	args := []string{"-strict", "-summary", "-schema-location", schema}
	if n != "" {
		args = append(args, "-n", n)
	}
	return append(args, paths...)
}

// musterProblem summarizes the diagnostics of `muster validate -o json`.
func musterProblem(out string) string {
	var diags []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(out), &diags); err != nil || len(diags) == 0 {
		return excerpt(out, 3)
	}
	d := diags[0]
	return fmt.Sprintf("%d diagnostics; first: %s:%d: %s", len(diags), filepath.Base(d.File), d.Line, d.Message)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
