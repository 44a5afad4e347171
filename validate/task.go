package validate

import (
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

var (
	// imagePattern follows the Docker reference grammar: optional registry
	// host[:port], lowercase path components, an optional tag and digest.
	imagePattern = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`)
)

// task decodes the task map v; missing fields are reported at key, the
// "task" key itself, which is where a reader looks for them.
func (d *decoder) task(v *lang.Value, key lang.Range, t *schema.Task) {
	fs, ok := d.fields(v, "task", taskFields)
	if !ok {
		return
	}
	d.jobTask, d.portsOK = t, true
	engineKnown := false
	if f := fs["engine"]; f != nil && present(f.Value) {
		s, ok := d.enum(f.Value, "task.engine", "docker", "exec", "wasm")
		t.Engine, engineKnown = schema.Engine(s), ok
	} else {
		d.errorf(key, "task.engine", `task needs an engine: "docker", "exec" or "wasm"`)
	}
	d.engineKnown = engineKnown

	image := fs["image"]
	switch {
	case image != nil && present(image.Value):
		if engineKnown && t.Engine == schema.Exec {
			d.errorf(image.KeyRange, "task.image", "an exec task runs task.cmd on the node and takes no image")
		} else if s, ok := d.str(image.Value, "task.image"); ok {
			t.Image = s
			if engineKnown {
				d.checkImage(image.Value, t.Engine)
			}
		}
	case engineKnown && t.Engine == schema.Docker:
		d.errorf(key, "task.image", "a docker task needs an image, such as \"registry.local/web:1.4\"")
	case engineKnown && t.Engine == schema.Wasm:
		d.errorf(key, "task.image", "a wasm task needs its module in task.image: an absolute path on the node, an http(s):// URL or a sha256: document")
	}

	if f := fs["entrypoint"]; f != nil && present(f.Value) {
		if engineKnown && t.Engine != schema.Docker {
			d.errorf(f.KeyRange, "task.entrypoint", "entrypoint applies only to docker tasks; put the program in task.cmd")
		} else {
			t.Entrypoint, _, _ = d.strings(f.Value, "task.entrypoint", multiLine)
		}
	}
	if f := fs["cmd"]; f != nil && present(f.Value) {
		t.Cmd, _, _ = d.strings(f.Value, "task.cmd", multiLine)
		if engineKnown && t.Engine == schema.Exec && f.Value.Kind == lang.List && len(f.Value.List) == 0 {
			d.errorf(f.Value.Range, "task.cmd", "an exec task needs a command: task.cmd[0] is the program to run")
		} else if engineKnown && t.Engine == schema.Exec && len(t.Cmd) > 0 && t.Cmd[0] == "" && f.Value.List[0].Kind == lang.String {
			d.errorf(f.Value.List[0].Range, "task.cmd[0]", "task.cmd[0] is the program to run and must not be empty")
		}
	} else if engineKnown && t.Engine == schema.Exec {
		d.errorf(key, "task.cmd", "an exec task needs a command: task.cmd[0] is the program to run")
	}
	if f := fs["env"]; f != nil && present(f.Value) {
		t.Env = d.stringMap(f.Value, "task.env", multiLine, d.envEntry)
	}
	if f := fs["workdir"]; f != nil && present(f.Value) {
		if s, ok := d.str(f.Value, "task.workdir"); ok {
			if s != "" {
				d.absPath(f.Value, "task.workdir", s)
			}
			t.Workdir = s
		}
	}
	networkKnown := true
	if f := fs["network"]; f != nil && present(f.Value) {
		s, ok := d.enum(f.Value, "task.network", "none", "bridge", "host")
		t.Network, networkKnown = schema.Network(s), ok
	}
	if f := fs["resources"]; f != nil && present(f.Value) {
		d.resources(f.Value, &t.Resources)
	}
	if f := fs["inputs"]; f != nil && present(f.Value) {
		t.Inputs = d.inputs(f.Value)
	}
	if f := fs["outputs"]; f != nil && present(f.Value) {
		t.Outputs = d.outputs(f.Value)
	}
	if f := fs["ports"]; f != nil && present(f.Value) {
		t.Ports = d.ports(f, t, engineKnown, networkKnown)
	}
}

// envEntry checks an environment variable: its name (envKey) and, when
// its value refers to a secret, the reference.
func (d *decoder) envEntry(f *lang.Field, val string, p string) {
	d.envKey(f, val, p)
	if strings.HasPrefix(val, schema.SecretRefPrefix) {
		d.secretRef(f.Value, p, val)
	}
}

// secretRef checks a reference to a secret: well formed, and of the job's
// own namespace, whose secrets are the only ones its executions may get.
func (d *decoder) secretRef(v *lang.Value, p, s string) {
	ref, _, err := schema.ParseSecretRef(s)
	if err != nil {
		d.errorf(v.Range, p, "%s: %v", p, err)
		return
	}
	if d.namespace != "" && ref.Namespace != d.namespace {
		d.errorf(v.Range, p, "%s refers to a secret of the namespace %q: a job may use only secrets of its own namespace (%s)", p, ref.Namespace, d.namespace)
	}
}

// envKey checks the name of an environment variable. PATH is refused in
// every spelling (a "path" or "Path" beside the node's PATH is a look-alike
// that some programs and every reader would take for it), and so is the
// prefix MUSTER_, whatever its case.
func (d *decoder) envKey(f *lang.Field, _ string, p string) {
	switch {
	case !isEnvKey(f.Key):
		d.errorf(f.KeyRange, p, "environment variable name %q is invalid: use letters, digits and '_', not starting with a digit", f.Key)
	case f.Key == "PATH":
		d.errorf(f.KeyRange, p, "PATH cannot be set: the node decides where programs are found")
	case strings.EqualFold(f.Key, "PATH"):
		d.errorf(f.KeyRange, p, "environment variable %q cannot be set: it looks like PATH, which the node decides", f.Key)
	case strings.HasPrefix(f.Key, "MUSTER_"):
		d.errorf(f.KeyRange, p, "environment variable %q: the prefix MUSTER_ is reserved for the variables muster sets", f.Key)
	case hasPrefixFold(f.Key, "MUSTER_"):
		d.errorf(f.KeyRange, p, "environment variable %q: the prefix MUSTER_ is reserved, in any case, for the variables muster sets", f.Key)
	}
}

func (d *decoder) checkImage(v *lang.Value, e schema.Engine) {
	s := v.Str
	switch e {
	case schema.Docker:
		if !imagePattern.MatchString(s) {
			d.errorf(v.Range, "task.image", "task.image %q is not a valid image reference, such as \"registry.local:5000/team/web:1.4\"", s)
		}
	case schema.Wasm:
		switch {
		case strings.HasPrefix(s, "/"):
			d.absPath(v, "task.image", s)
		case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
			d.httpURL(v, "task.image", s)
		case strings.HasPrefix(s, "sha256:"):
			d.docHash(v, "task.image", s)
		default:
			d.errorf(v.Range, "task.image", "task.image %q: a wasm module is an absolute path on the node, an http(s):// URL or a sha256: document", s)
		}
	}
}

// absPath checks that p is absolute and clean.
func (d *decoder) absPath(v *lang.Value, fpath, p string) bool {
	switch {
	case !path.IsAbs(p):
		d.errorf(v.Range, fpath, "%s %q must be an absolute path (starting with /)", fpath, p)
	case containsDotDot(p):
		d.errorf(v.Range, fpath, "%s %q must not contain ..", fpath, p)
	case path.Clean(p) != p:
		d.errorf(v.Range, fpath, "%s %q is not clean; write %q", fpath, p, path.Clean(p))
	default:
		return true
	}
	return false
}

func containsDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

func (d *decoder) httpURL(v *lang.Value, fpath, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		d.errorf(v.Range, fpath, "%s %q is not a valid http(s) URL", fpath, s)
	}
}

func (d *decoder) docHash(v *lang.Value, fpath, s string) {
	if !isHex64(strings.TrimPrefix(s, "sha256:")) {
		d.errorf(v.Range, fpath, "%s %q: a document hash is sha256: and 64 lowercase hex digits", fpath, s)
	}
}

func (d *decoder) resources(v *lang.Value, r *schema.Resources) {
	fs, ok := d.fields(v, "task.resources", resourcesFields)
	if !ok {
		return
	}
	if f := fs["cpus"]; f != nil && present(f.Value) {
		const p = "task.resources.cpus"
		var cpus float64
		switch f.Value.Kind {
		case lang.Number:
			c, ok := d.number(f.Value, p, -1e300, 1e300)
			if !ok {
				return
			}
			cpus = c
		case lang.String:
			c, err := schema.ParseCPUs(f.Value.Str)
			if err != nil {
				d.errorf(f.Value.Range, p, "%s: %v", p, err)
				return
			}
			cpus = c
		default:
			d.errorf(f.Value.Range, p, "%s must be a number such as 0.5 or a string such as \"500m\", not %s", p, f.Value.Describe())
			return
		}
		if cpus <= 0 || cpus > 1024 {
			d.errorf(f.Value.Range, p, "%s is %s; it must be more than 0 and at most 1024", p, strconv.FormatFloat(cpus, 'f', -1, 64))
		}
		r.CPUs = cpus
	}
	if f := fs["memory"]; f != nil && present(f.Value) {
		const p = "task.resources.memory"
		if f.Value.Kind != lang.String {
			d.errorf(f.Value.Range, p, "%s must be a string such as \"512M\" or \"2G\", not %s", p, f.Value.Describe())
			return
		}
		m, err := schema.ParseMemory(f.Value.Str)
		if err != nil {
			d.errorf(f.Value.Range, p, "%s: %v", p, err)
			return
		}
		if m < schema.MinMemory {
			d.errorf(f.Value.Range, p, "%s is %s; at least %s is needed", p, f.Value.Str, schema.MinMemory)
		}
		r.Memory = m
	}
}

func (d *decoder) list(v *lang.Value, path, what string) []*lang.Value {
	if v.Kind != lang.List {
		d.errorf(v.Range, path, "%s must be a list of %s, not %s", path, what, v.Describe())
		return nil
	}
	return v.List
}

func (d *decoder) inputs(v *lang.Value) []schema.Input {
	items := d.list(v, "task.inputs", "{source, target} maps")
	out := make([]schema.Input, 0, len(items))
	seen := map[string]int{}
	for i, item := range items {
		p := index("task.inputs", i)
		fs, ok := d.fields(item, p, inputFields)
		if !ok {
			continue
		}
		var in schema.Input
		if f := fs["source"]; f != nil && present(f.Value) {
			if s, ok := d.str(f.Value, p+".source"); ok {
				in.Source = s
				d.source(f.Value, p+".source", s)
			}
		} else {
			d.errorf(item.Range, p+".source", "%s needs a source", p)
		}
		if f := fs["target"]; f != nil && present(f.Value) {
			if s, ok := d.str(f.Value, p+".target"); ok && d.absPath(f.Value, p+".target", s) {
				if line, dup := seen[s]; dup {
					d.errorf(f.Value.Range, p+".target", "input target %q is used twice (first at line %d); each input needs its own target", s, line)
				}
				seen[s] = f.Value.Range.Start.Line
				in.Target = s
			}
		} else {
			d.errorf(item.Range, p+".target", "%s needs a target path inside the execution root", p)
		}
		out = append(out, in)
	}
	return out
}

func (d *decoder) source(v *lang.Value, p, s string) {
	switch {
	case strings.HasPrefix(s, "file://"):
		rest := strings.TrimPrefix(s, "file://")
		switch {
		case !strings.HasPrefix(rest, "/") || rest == "/":
			d.errorf(v.Range, p, "%s %q: a file source is file:// and the absolute path of a file, as in file:///data/in.csv", p, s)
		case containsDotDot(rest):
			d.errorf(v.Range, p, "%s %q: the path must not contain ..", p, s)
		case path.Clean(rest) != rest:
			d.errorf(v.Range, p, "%s %q: the path is not clean; write %q", p, s, "file://"+path.Clean(rest))
		}
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		d.httpURL(v, p, s)
	case strings.HasPrefix(s, "sha256:"):
		d.docHash(v, p, s)
	case strings.HasPrefix(s, "job:"):
		d.jobRef(v, p, s)
	case strings.HasPrefix(s, schema.SecretRefPrefix):
		d.secretRef(v, p, s)
	default:
		d.errorf(v.Range, p, "%s %q: a source is file:///abs/path, an http(s):// URL, sha256:<64 hex> or job:<namespace>/<name>@sha256:<64 hex>[#<output path>]", p, s)
	}
}

func (d *decoder) jobRef(v *lang.Value, p, s string) {
	ref, frag, hasFrag := strings.Cut(strings.TrimPrefix(s, "job:"), "#")
	nsName, hash, ok := strings.Cut(ref, "@")
	ns, name, ok2 := strings.Cut(nsName, "/")
	bad := !ok || !ok2 || !isDNSLabel(ns) || len(ns) > 63 || !isDNSLabel(name) || len(name) > 63 ||
		!strings.HasPrefix(hash, "sha256:") || !isHex64(strings.TrimPrefix(hash, "sha256:"))
	if bad {
		d.errorf(v.Range, p, "%s %q: a job source is job:<namespace>/<name>@sha256:<64 hex>, optionally followed by #<output path>", p, s)
		return
	}
	if hasFrag {
		if !strings.HasPrefix(frag, "/") || containsDotDot(frag) || path.Clean(frag) != frag {
			d.errorf(v.Range, p, "%s %q: the output path after # must be absolute and clean", p, s)
		}
	}
	// Namespaces isolate: the outputs of another namespace's jobs are not
	// this job's to read.
	if d.namespace != "" && ns != d.namespace {
		d.errorf(v.Range, p, "%s refers to the namespace %q: a job may refer only to outputs of its own namespace (%s)", p, ns, d.namespace)
	}
}

func (d *decoder) outputs(v *lang.Value) []schema.Output {
	items := d.list(v, "task.outputs", "{path} maps")
	out := make([]schema.Output, 0, len(items))
	seen := map[string]int{}
	for i, item := range items {
		p := index("task.outputs", i)
		fs, ok := d.fields(item, p, outputFields)
		if !ok {
			continue
		}
		f := fs["path"]
		if f == nil || !present(f.Value) {
			d.errorf(item.Range, p+".path", "%s needs a path inside the execution root", p)
			continue
		}
		if s, ok := d.str(f.Value, p+".path"); ok && d.absPath(f.Value, p+".path", s) {
			if line, dup := seen[s]; dup {
				d.errorf(f.Value.Range, p+".path", "output path %q is listed twice (first at line %d)", s, line)
			}
			seen[s] = f.Value.Range.Start.Line
			out = append(out, schema.Output{Path: s})
		}
	}
	return out
}
