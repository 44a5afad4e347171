package docker

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"

	"github.com/muster-dev/muster/schema"
)

func TestPlanMounts(t *testing.T) {
	in := func(ts ...string) (out []schema.Input) {
		for _, t := range ts {
			out = append(out, schema.Input{Source: "sha256:x", Target: t})
		}
		return out
	}
	outp := func(ps ...string) (out []schema.Output) {
		for _, p := range ps {
			out = append(out, schema.Output{Path: p})
		}
		return out
	}
	for _, c := range []struct {
		name    string
		inputs  []schema.Input
		outputs []schema.Output
		want    mountPlan
	}{
		{name: "none"},
		{
			name:    "outer output directory carries the inner ones",
			outputs: outp("/out/a", "/out/sub/b", "/out/sub/deeper/c", "/other/d", "/outer/e"),
			want:    mountPlan{outputDirs: []string{"/other", "/out", "/outer"}},
		},
		{
			name:    "outputs in / are copied out",
			outputs: outp("/z.txt", "/a.txt", "/out/x"),
			want:    mountPlan{outputDirs: []string{"/out"}, copyOut: []string{"/a.txt", "/z.txt"}},
		},
		{
			name:    "inputs read-only, also inside output directories",
			inputs:  in("/in/b", "/in/a", "/out/given"),
			outputs: outp("/out/x"),
			want: mountPlan{outputDirs: []string{"/out"},
				inputs: []inputMount{{target: "/in/a"}, {target: "/in/b"}, {target: "/out/given"}}},
		},
		{
			name:    "an input that is an output is writable",
			inputs:  in("/out/x", "/top", "/data"),
			outputs: outp("/out/x", "/top", "/data/y"),
			want: mountPlan{outputDirs: []string{"/data", "/out"},
				inputs: []inputMount{{target: "/top", rw: true}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := planMounts(c.inputs, c.outputs)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	for _, bad := range [][2][]string{{{"rel"}, nil}, {nil, {"/a/../b"}}, {{"/"}, nil}} {
		if _, err := planMounts(in(bad[0]...), outp(bad[1]...)); err == nil {
			t.Errorf("planMounts(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestPrepareMounts(t *testing.T) {
	root := t.TempDir()
	p, err := planMounts(
		[]schema.Input{{Target: "/in/a"}, {Target: "/top"}},
		[]schema.Output{{Path: "/out/sub/x"}, {Path: "/top"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.prepare(root); err == nil || !strings.Contains(err.Error(), "input /in/a is not in place") {
		t.Fatalf("prepare without inputs: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "in"), 0o755)
	os.WriteFile(filepath.Join(root, "in", "a"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "top"), nil, 0o644)
	ms, err := p.prepare(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []mount.Mount{
		{Type: mount.TypeBind, Source: filepath.Join(root, "in", "a"), Target: "/in/a", ReadOnly: true},
		{Type: mount.TypeBind, Source: filepath.Join(root, "out", "sub"), Target: "/out/sub"},
		{Type: mount.TypeBind, Source: filepath.Join(root, "top"), Target: "/top"},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("mounts\n got %+v\nwant %+v", ms, want)
	}
	if fi, err := os.Stat(filepath.Join(root, "out", "sub")); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("output directory: %v %v", fi.Mode(), err)
	}
	if _, err := (mountPlan{copyOut: []string{"/x"}}).prepare(""); err == nil {
		t.Error("an empty root was accepted for outputs")
	}
}

func TestContainerName(t *testing.T) {
	if n := ContainerName("abc-1.2_3"); n != "muster-abc-1.2_3" {
		t.Errorf("plain id: %s", n)
	}
	a, b := ContainerName("ns/job:1"), ContainerName("ns_job_1")
	if a == b || !strings.HasPrefix(a, "muster-") || len(a) != len("muster-")+32 {
		t.Errorf("hashed names %s %s", a, b)
	}
}
