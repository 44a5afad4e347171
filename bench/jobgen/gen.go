package jobgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Generate returns n files. File i depends only on seed and i, so a corpus
// of 200 files is a prefix of a corpus of 2,000 with the same seed. About
// one file in ten holds two or three jobs; about one in four uses variables
// in its HCL and CUE renderings.
func Generate(seed uint64, n int) []*File {
	files := make([]*File, n)
	for i := range files {
		files[i] = GenerateFile(seed, i)
	}
	return files
}

// GenerateFile returns file i of the corpus of seed.
func GenerateFile(seed uint64, i int) *File {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i)))}
	f := &File{Base: fmt.Sprintf("job-%05d", i)}
	if g.chance(0.4) {
		f.Comment = g.pick(headerComments)
	}
	templated := g.chance(0.25)
	if templated {
		g.vars = map[string]string{}
		f.Vars = nil
	}
	jobs := 1
	if g.chance(0.1) {
		jobs = 2 + g.r.IntN(2)
	}
	for k := range jobs {
		name := fmt.Sprintf("%s-%05d", g.pick(nameWords), i)
		if jobs > 1 {
			name += "-" + strconv.Itoa(k)
		}
		f.Jobs = append(f.Jobs, g.job(name, jobs > 1))
	}
	if templated {
		// Keep declaration order stable: the order names were first used.
		for _, name := range g.varOrder {
			f.Vars = append(f.Vars, Var{Name: name, Value: g.vars[name], Local: g.locals[name]})
		}
	}
	return f
}

type gen struct {
	r        *rand.Rand
	vars     map[string]string // nil unless the file is templated
	locals   map[string]bool
	varOrder []string
	ns       string // the namespace of the job being generated
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// pickN returns k distinct items of list in a random order.
func (g *gen) pickN(list []string, k int) []string {
	k = min(k, len(list))
	idx := g.r.Perm(len(list))[:k]
	out := make([]string, k)
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

func (g *gen) hex64() string {
	const digits = "0123456789abcdef"
	var b [64]byte
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b[:])
}

// templ makes n use the variable name in HCL and CUE when the file is
// templated: for the whole string, or for the part after prefix.
func (g *gen) templ(n *Node, name, prefix string, local bool) *Node {
	if g.vars == nil || !strings.HasPrefix(n.Text, prefix) {
		return n
	}
	value := n.Text[len(prefix):]
	if _, ok := g.vars[name]; !ok {
		g.vars[name] = value
		if g.locals == nil {
			g.locals = map[string]bool{}
		}
		g.locals[name] = local
		g.varOrder = append(g.varOrder, name)
	} else if g.vars[name] != value {
		return n // the name holds another value in this file: keep the literal
	}
	n.Var, n.VarPrefix, n.VarLocal = name, prefix, g.locals[name]
	return n
}

func (g *gen) job(name string, small bool) *Node {
	j := obj()
	if g.chance(0.1) {
		j.add("api_version", str("muster/v1"))
	}
	j.add("name", str(name))
	g.ns = "default"
	if g.chance(0.5) {
		g.ns = g.pick(namespaces)
		j.add("namespace", g.templ(str(g.ns), "namespace", "", true))
	}
	typ := weighted(g, []string{"batch", "service", "ops", "daemon"}, []int{35, 35, 15, 15})
	if typ != "batch" || g.chance(0.6) {
		j.add("type", str(typ))
	}
	if g.chance(0.6) {
		j.add("description", str(g.pick(descriptions)))
	}
	if g.chance(0.8) {
		j.add("labels", g.labels(1+g.r.IntN(5)))
	}
	if g.chance(0.3) {
		m := obj()
		for _, k := range g.pickN(metaKeys, 1+g.r.IntN(3)) {
			m.add(k, str(metaValue(g, k)))
		}
		j.add("meta", m)
	}
	if g.chance(0.4) {
		j.add("priority", integer(strconv.Itoa(g.r.IntN(101))))
	}
	if (typ == "batch" || typ == "service") && g.chance(0.6) {
		j.add("count", integer(strconv.Itoa(1+g.r.IntN(20))))
	}
	if g.chance(0.25) {
		j.add("restart_policy", str(g.pick([]string{"on-failure", "always", "never"})))
	}
	if g.chance(0.7) {
		if s := g.selector(); len(s.Members) > 0 {
			j.addc("selector", s, g.maybeComment(0.2, selectorComments))
		}
	}
	j.add("task", g.task(small))
	if !small && g.chance(0.6) || small && g.chance(0.2) {
		j.add("rollout", g.rollout(typ))
	}
	if g.chance(0.4) {
		t := obj()
		for _, k := range g.pickN([]string{"execution", "queue", "total"}, 1+g.r.IntN(3)) {
			t.add(k, g.duration())
		}
		j.add("timeouts", t)
	}
	return j
}

func (g *gen) maybeComment(p float64, list []string) string {
	if g.chance(p) {
		return g.pick(list)
	}
	return ""
}

func weighted(g *gen, items []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := g.r.IntN(total)
	for i, w := range weights {
		if x < w {
			return items[i]
		}
		x -= w
	}
	return items[len(items)-1]
}

func (g *gen) labels(k int) *Node {
	l := obj()
	for _, key := range g.pickN(labelKeys, k) {
		v := str(g.pick(labelValues[key]))
		if key == "team" {
			g.templ(v, "team", "", true)
		}
		l.add(key, v)
	}
	return l
}

func (g *gen) selector() *Node {
	s := obj()
	if g.chance(0.5) {
		ml := obj()
		for _, key := range g.pickN(nodeLabelKeys, 1+g.r.IntN(3)) {
			ml.add(key, str(g.pick(nodeLabelValues[key])))
		}
		s.add("match_labels", ml)
	}
	if g.chance(0.5) {
		s.add("match_expressions", strs(g.pickN(expressions, 1+g.r.IntN(3))...))
	}
	if g.chance(0.15) {
		var ids []string
		for range 1 + g.r.IntN(4) {
			ids = append(ids, fmt.Sprintf("node-%02d", g.r.IntN(40)))
		}
		s.add("match_ids", strs(ids...))
	}
	return s
}

func (g *gen) task(small bool) *Node {
	t := obj()
	engine := weighted(g, []string{"docker", "exec", "wasm"}, []int{50, 30, 20})
	t.add("engine", str(engine))
	switch engine {
	case "docker":
		repo, tag := g.pick(images), g.pick(tags)
		img := str(repo + ":" + tag)
		if g.chance(0.1) {
			img.Text += "@sha256:" + g.hex64()
		} else {
			g.templ(img, "image_tag", repo+":", false)
		}
		t.add("image", img)
		if g.chance(0.2) {
			t.add("entrypoint", strs("/bin/sh", "-c"))
		}
		if g.chance(0.6) {
			t.add("cmd", strs(dockerCmds[g.r.IntN(len(dockerCmds))]...))
		}
	case "exec":
		t.add("cmd", strs(execCmds[g.r.IntN(len(execCmds))]...))
	case "wasm":
		switch g.r.IntN(3) {
		case 0:
			t.add("image", str("/opt/modules/"+g.pick(nameWords)+".wasm"))
		case 1:
			t.add("image", str("https://modules.internal.example.com/"+g.pick(nameWords)+"/v"+strconv.Itoa(1+g.r.IntN(9))+".wasm"))
		default:
			t.add("image", str("sha256:"+g.hex64()))
		}
		if g.chance(0.4) {
			t.add("cmd", strs("--input", "/in/data.json", "--mode", g.pick([]string{"fast", "full", "dry-run"})))
		}
	}
	if g.chance(0.6) {
		env := obj()
		for _, k := range g.pickN(envKeys, 1+g.r.IntN(6)) {
			v := str(g.pick(envValues))
			if k == "LOG_LEVEL" {
				v = str(g.pick([]string{"debug", "info", "warn", "error"}))
				g.templ(v, "log_level", "", false)
			}
			env.add(k, v)
		}
		t.add("env", env)
	}
	if g.chance(0.3) {
		t.add("workdir", str(g.pick([]string{"/srv/app", "/work", "/var/lib/job", "/data"})))
	}
	if engine != "wasm" && g.chance(0.4) || engine == "wasm" && g.chance(0.1) {
		t.add("network", str(g.pick([]string{"none", "bridge", "host"})))
	}
	if g.chance(0.8) {
		r := obj()
		if g.chance(0.85) {
			if g.chance(0.3) {
				r.add("cpus", str(g.pick([]string{"250m", "500m", "1500m", "0.5", "2"})))
			} else {
				r.add("cpus", float(g.pick([]string{"0.25", "0.5", "1", "1.5", "2", "4", "8"})))
			}
		}
		if g.chance(0.85) || len(r.Members) == 0 {
			r.add("memory", str(g.pick([]string{"64M", "128M", "256M", "512M", "768Mi", "1G", "1536M", "2G", "4Gi", "8G"})))
		}
		t.addc("resources", r, g.maybeComment(0.2, resourceComments))
	}
	if !small && g.chance(0.4) {
		in := list()
		for i, target := range g.pickN(inputTargets, 1+g.r.IntN(4)) {
			in.List = append(in.List, obj(mem("source", str(g.source(i))), mem("target", str(target))))
		}
		t.add("inputs", in)
	}
	if !small && g.chance(0.3) {
		out := list()
		for _, p := range g.pickN(outputPaths, 1+g.r.IntN(3)) {
			out.List = append(out.List, obj(mem("path", str(p))))
		}
		t.add("outputs", out)
	}
	return t
}

func (g *gen) source(i int) string {
	switch g.r.IntN(4) {
	case 0:
		return "file:///data/" + g.pick(nameWords) + "/" + g.pick([]string{"input.csv", "config.json", "model.bin", "seed.txt"})
	case 1:
		return "https://artifacts.example.com/" + g.pick(nameWords) + "/" + strconv.Itoa(100+g.r.IntN(900)) + ".tar.gz"
	case 2:
		return "sha256:" + g.hex64()
	}
	// A job reads only outputs of its own namespace; the pick still draws,
	// so that the rest of the corpus stays as it was.
	_ = g.pick(namespaces)
	s := "job:" + g.ns + "/" + g.pick(nameWords) + "-" + strconv.Itoa(g.r.IntN(1000)) + "@sha256:" + g.hex64()
	if g.chance(0.5) {
		s += "#/out/" + g.pick([]string{"report.json", "result.csv", "data"})
	}
	return s
}

func (g *gen) rollout(typ string) *Node {
	r := obj()
	strategies := []string{"immediate", "rolling", "canary"}
	weights := []int{50, 30, 20}
	if typ == "service" || typ == "daemon" {
		weights = []int{5, 55, 40}
	}
	strategy := weighted(g, strategies, weights)
	r.add("strategy", str(strategy))
	if g.chance(0.5) {
		r.add("max_parallel", integer(strconv.Itoa(1+g.r.IntN(100))))
	}
	if strategy == "canary" {
		switch g.r.IntN(3) {
		case 0:
			r.add("canary_count", integer(strconv.Itoa(1+g.r.IntN(5))))
		case 1:
			r.add("canary_percent", integer(strconv.Itoa(1+g.r.IntN(50))))
		}
		if g.chance(0.5) {
			r.add("auto_promote", boolean(g.chance(0.5)))
		}
	}
	if g.chance(0.5) {
		h := obj()
		for _, k := range g.pickN([]string{"deadline", "min_healthy_time", "interval", "failure_threshold", "success_threshold", "max_error_rate"}, 1+g.r.IntN(6)) {
			switch k {
			case "failure_threshold", "success_threshold":
				h.add(k, integer(strconv.Itoa(1+g.r.IntN(10))))
			case "max_error_rate":
				h.add(k, float(g.pick([]string{"0", "0.01", "0.05", "0.1", "0.25", "0.5"})))
			default:
				h.add(k, g.duration())
			}
		}
		if typ == "service" || typ == "daemon" {
			feasible(h)
		}
		r.add("health_check", h)
	}
	if g.chance(0.3) {
		r.add("max_failed_nodes", integer(strconv.Itoa(g.r.IntN(50))))
	}
	if g.chance(0.2) {
		r.add("max_failed_nodes_percent", float(g.pick([]string{"0", "5", "12.5", "25", "50", "100"})))
	}
	if g.chance(0.1) {
		r.add("no_auto_rollback", boolean(true))
	}
	return r
}

// feasible raises the deadline of the health check h, where it is too
// short, to max(min_healthy_time, success_threshold × interval), as the spec
// requires of service and daemon jobs (the defaults fill what h leaves out).
func feasible(h *Node) {
	seconds := func(key string, def time.Duration) time.Duration {
		n := h.Get(key)
		if n == nil {
			return def
		}
		if n.Kind == Int {
			s, _ := strconv.Atoi(n.Text)
			return time.Duration(s) * time.Second
		}
		d, _ := time.ParseDuration(n.Text)
		return d
	}
	threshold := 2
	if n := h.Get("success_threshold"); n != nil {
		threshold, _ = strconv.Atoi(n.Text)
	}
	need := max(seconds("min_healthy_time", 30*time.Second), time.Duration(threshold)*seconds("interval", 10*time.Second))
	if seconds("deadline", 5*time.Minute) >= need {
		return
	}
	for i := range h.Members {
		if h.Members[i].Key == "deadline" {
			h.Members[i].Val = str(need.String())
			return
		}
	}
	h.add("deadline", str(need.String()))
}

func (g *gen) duration() *Node {
	if g.chance(0.15) {
		return integer(strconv.Itoa(g.r.IntN(7200)))
	}
	return str(g.pick([]string{"10s", "30s", "45s", "90s", "2m", "5m", "10m", "15m", "1h", "1h30m", "2h", "6h", "24h", "500ms"}))
}

func metaValue(g *gen, k string) string {
	switch k {
	case "owner":
		return g.pick([]string{"alice@example.com", "bob@example.com", "sre-team@example.com"})
	case "ticket":
		return "OPS-" + strconv.Itoa(1000+g.r.IntN(9000))
	case "runbook":
		return "https://wiki.example.com/runbooks/" + g.pick(nameWords)
	case "git_sha":
		return g.hex64()[:40]
	}
	return g.pick([]string{"nightly", "manual", "ci", "migration"})
}

func escapeCUE(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func escapeHCL(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", "$${", "%{", "%%{").Replace(s)
}

var (
	nameWords    = []string{"web", "api", "worker", "report", "backup", "indexer", "ingest", "billing", "search", "metrics", "cleanup", "etl", "mailer", "thumbnailer", "scanner", "gateway", "cache-warm", "log-ship", "sync", "auditor"}
	namespaces   = []string{"default", "prod", "staging", "data", "payments", "infra", "ml", "batch-jobs"}
	descriptions = []string{
		"Serves the public web front end.",
		"Nightly report over the previous day's orders, mailed to finance.",
		"Rotates and ships logs from every node to the archive.",
		"Keeps the search index warm after deploys.",
		"Backs up the primary database to the object store; retries on failure.",
		"ETL step: reads raw events, writes hourly aggregates.",
		"Scans images for known vulnerabilities and files tickets.",
		"Periodic cleanup of temporary files older than a week.",
		"Renders thumbnails for newly uploaded media — runs on GPU nodes when available.",
		"Canary-released API gateway for the mobile apps.",
	}
	headerComments   = []string{"Owned by the platform team. Changes need a review from #sre.", "Generated from the service catalog; edit there.", "See the runbook before changing the rollout.", "Job spec muster/v1."}
	selectorComments = []string{"only nodes in the primary region", "keep off spot instances", "pinned after incident OPS-4121"}
	resourceComments = []string{"sized from last month's p99", "memory-bound: keep headroom", "do not lower without a load test"}
	metaKeys         = []string{"owner", "ticket", "runbook", "git_sha", "trigger"}
	labelKeys        = []string{"team", "tier", "env", "app.kubernetes.io/name", "app.kubernetes.io/part-of", "cost-center", "release", "example.com/owner"}
	labelValues      = map[string][]string{
		"team":                      {"payments", "search", "platform", "data", "growth"},
		"tier":                      {"frontend", "backend", "batch", "infra"},
		"env":                       {"prod", "staging", "dev"},
		"app.kubernetes.io/name":    {"web", "api", "worker", "reporter"},
		"app.kubernetes.io/part-of": {"shop", "analytics", "core"},
		"cost-center":               {"cc-1001", "cc-2040", "cc-3300"},
		"release":                   {"v1.4.2", "2024.06", "stable", "canary", ""},
		"example.com/owner":         {"alice", "bob", "sre"},
	}
	nodeLabelKeys   = []string{"region", "zone", "disk", "arch", "gpu", "topology.kubernetes.io/zone", "node.example.com/pool"}
	nodeLabelValues = map[string][]string{
		"region":                      {"us-east", "us-west", "eu-central"},
		"zone":                        {"a", "b", "c"},
		"disk":                        {"ssd", "hdd", "nvme"},
		"arch":                        {"amd64", "arm64"},
		"gpu":                         {"true", "false", "a100"},
		"topology.kubernetes.io/zone": {"us-east-1a", "us-east-1b", "eu-central-1a"},
		"node.example.com/pool":       {"general", "highmem", "batch"},
	}
	expressions = []string{
		"region in (us-east,us-west)", "region in (us-west, us-east, eu-central)", "zone notin (c)", "env=prod", "env == prod",
		"disk != hdd", "gpu", "!spot", "arch=amd64", "topology.kubernetes.io/zone in (us-east-1a,us-east-1b)",
		"node.example.com/pool notin (batch, spot)", "!node.example.com/draining", "kernel!=4.19",
	}
	images = []string{"registry.local/web", "registry.local:5000/team/api", "ghcr.io/example/worker", "docker.io/library/nginx", "busybox", "registry.internal.example.com/data/etl-runner", "quay.io/prometheus/node-exporter", "registry.local/payments/billing"}
	tags   = []string{"1.4", "1.4.2", "2.0.0-rc.1", "latest", "2024-06-01", "v3", "stable"}
	// dockerCmds and execCmds stay free of "${" and "%{", which HCL would
	// read as templates.
	dockerCmds = [][]string{
		{"serve", "--port", "8080"},
		{"worker", "--queue", "default", "--concurrency", "4"},
		{"report", "--since", "24h", "--format", "csv"},
		{"sh", "-c", "exec /app/run --config /etc/app/config.yaml"},
		{"migrate", "up"},
	}
	execCmds = [][]string{
		{"/usr/local/bin/backup", "--full", "--target", "s3://backups/db"},
		{"/bin/sh", "-c", "find /tmp -mtime +7 -delete"},
		{"/usr/bin/rsync", "-a", "/var/log/", "/archive/logs/"},
		{"/opt/tools/indexer", "rebuild"},
		{"/usr/bin/env", "python3", "/opt/etl/run.py", "--hour", "last"},
		{"true"},
	}
	envKeys      = []string{"LOG_LEVEL", "PORT", "DATABASE_URL", "FEATURE_FLAGS", "TZ", "GOMAXPROCS", "REGION", "_INTERNAL_MODE", "http_proxy", "CACHE_TTL"}
	envValues    = []string{"info", "8080", "postgres://db.internal:5432/app", "search-v2,fast-checkout", "UTC", "2", "us-east", "1", "", "http://proxy.internal:3128", "300s", "it's \"quoted\""}
	inputTargets = []string{"/in/data.csv", "/in/config.json", "/etc/app/config.yaml", "/models/current.bin", "/data/seed.txt", "/in/archive.tar.gz"}
	outputPaths  = []string{"/out/report.json", "/out/result.csv", "/out/logs/run.log", "/out/metrics.prom"}
)
