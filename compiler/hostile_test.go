package compiler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/lang"
)

// The inputs of this file are generated rather than checked in: they are
// large, deep or binary. Each must give a clear error with a position, and
// never panic or hang.

// hostileTimeout bounds one compilation of a hostile input. Real files take
// microseconds; a compilation that needs more is as bad as a hang.
const hostileTimeout = 10 * time.Second

// compileSafely compiles src, turning a panic or a hang into a test failure.
func compileSafely(t *testing.T, name string, src []byte, f Format) Result {
	t.Helper()
	return compileSafelyWith(t, name, src, f, lang.Options{})
}

// compileSafelyWith is compileSafely with variables.
func compileSafelyWith(t *testing.T, name string, src []byte, f Format, opts lang.Options) Result {
	t.Helper()
	type outcome struct {
		res   Result
		panic any
		stack []byte
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{panic: p, stack: debug.Stack()}
			}
		}()
		done <- outcome{res: Compile(name, src, f, opts)}
	}()
	o, _ := wait.For(t, hostileTimeout, name+" to compile", func() (outcome, bool) {
		select {
		case o := <-done:
			return o, true
		default:
			return outcome{}, false
		}
	})
	if o.panic != nil {
		t.Fatalf("%s: compiling panicked: %v\n%s", name, o.panic, o.stack)
	}
	return o.res
}

// wantError checks that res failed with at least one error, every one of
// them with a position in the file, and that no job compiled.
func wantError(t *testing.T, name string, res Result) {
	t.Helper()
	if !res.Diags.HasErrors() {
		t.Errorf("%s: want an error, got none", name)
		return
	}
	if len(res.Jobs) > 0 {
		t.Errorf("%s: want no job, got %d", name, len(res.Jobs))
	}
	for _, d := range res.Diags {
		if d.Range.Filename != name || d.Range.IsZero() {
			t.Errorf("%s: diagnostic without a position in the file: %s", name, d.Error())
		}
		if d.Message == "" {
			t.Errorf("%s: diagnostic without a message", name)
		}
	}
	if len(res.Diags) > 20 {
		t.Errorf("%s: %d diagnostics; one hostile input should give a few clear ones", name, len(res.Diags))
	}
}

func requireParser(t *testing.T, f Format) {
	t.Helper()
	if parsers[f] == nil {
		t.Skipf("the %s frontend is not registered yet", f)
	}
}

// TestFileTooLarge: a file over MaxFileSize is refused before parsing, by
// Compile (bytes in memory) and by CompileFile (which must not read it all).
func TestFileTooLarge(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			requireParser(t, f)
			name := "big." + string(f)
			// A comment line repeated: syntactically valid in YAML, HCL and
			// CUE, and a string inside an array in JSON.
			var src []byte
			switch f {
			case JSON:
				src = append([]byte(`["`), bytes.Repeat([]byte("x"), MaxFileSize)...)
				src = append(src, `"]`...)
			case YAML:
				src = bytes.Repeat([]byte("# padding padding padding padding\n"), MaxFileSize/34+1)
			default:
				src = bytes.Repeat([]byte("// padding padding padding padding\n"), MaxFileSize/35+1)
			}
			res := compileSafely(t, name, src, f)
			wantError(t, name, res)
			if len(res.Diags) != 1 {
				t.Fatalf("want one diagnostic, got:\n%s", res.Diags.Error())
			}
			msg := res.Diags[0].Message
			if !strings.Contains(msg, "4 MiB") || !strings.Contains(msg, "limited") {
				t.Errorf("unclear message: %s", msg)
			}
			if d := res.Diags[0]; d.Range.Start.Line != 1 || d.Range.Start.Column != 1 {
				t.Errorf("want the error at 1:1, got %s", d.Error())
			}

			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, src, 0o644); err != nil {
				t.Fatal(err)
			}
			res = CompileFile(path, "", lang.Options{})
			if !res.Diags.HasErrors() || len(res.Jobs) > 0 {
				t.Fatalf("CompileFile of a %d-byte file: want an error, got %v", len(src), res.Diags)
			}
			if msg := res.Diags[0].Message; !strings.Contains(msg, "4 MiB") {
				t.Errorf("unclear message: %s", msg)
			}
		})
	}
}

// TestFileAtSizeLimit: a file of exactly MaxFileSize bytes is read.
func TestFileAtSizeLimit(t *testing.T) {
	requireParser(t, YAML)
	head := "name: edge\ntask: {engine: exec, cmd: [run]}\n"
	src := []byte(head + strings.Repeat("#", MaxFileSize-len(head)-1) + "\n")
	if len(src) != MaxFileSize {
		t.Fatalf("built %d bytes", len(src))
	}
	res := compileSafely(t, "limit.yaml", src, YAML)
	if len(res.Diags) > 0 || len(res.Jobs) != 1 {
		t.Fatalf("want one job and no diagnostics, got %d jobs:\n%s", len(res.Jobs), res.Diags.Error())
	}
}

// deepInputs returns, per format, inputs nested depth levels deep, in the
// shapes a format allows: maps and lists, in a field of a job and at the
// top.
func deepInputs(f Format, depth int) map[string][]byte {
	rep := strings.Repeat
	switch f {
	case YAML:
		return map[string][]byte{
			"flow-lists":    []byte("name: deep\ntask: " + rep("[", depth) + rep("]", depth) + "\n"),
			"flow-maps":     []byte("name: deep\nlabels: " + rep("{a: ", depth) + "x" + rep("}", depth) + "\n"),
			"block-lists":   []byte("name: deep\ntask:\n" + rep("- ", depth) + "x\n"),
			"document-list": []byte(rep("[", depth) + rep("]", depth) + "\n"),
		}
	case JSON:
		return map[string][]byte{
			"arrays":     []byte(rep("[", depth) + rep("]", depth)),
			"objects":    []byte(`{"name": "deep", "task": ` + rep(`{"a": `, depth) + "1" + rep("}", depth) + "}"),
			"mixed":      []byte(`{"name": "deep", "selector": ` + rep(`[{"a": `, depth/2) + "1" + rep("}]", depth/2) + "}"),
			"unfinished": []byte(rep("[", depth)),
		}
	case HCL:
		return map[string][]byte{
			"blocks":      []byte(`job "deep" {` + "\n" + rep("task {\n", depth) + rep("}\n", depth) + "}\n"),
			"lists":       []byte(`job "deep" {` + "\n  meta = " + rep("[", depth) + rep("]", depth) + "\n}\n"),
			"objects":     []byte(`job "deep" {` + "\n  labels = " + rep("{a = ", depth) + `"x"` + rep("}", depth) + "\n}\n"),
			"parentheses": []byte(`job "deep" {` + "\n  priority = " + rep("(", depth) + "1" + rep(")", depth) + "\n}\n"),
		}
	case CUE:
		return map[string][]byte{
			"structs":     []byte(`name: "deep"` + "\ntask: " + rep("{a: ", depth) + "1" + rep("}", depth) + "\n"),
			"lists":       []byte(`name: "deep"` + "\nlabels: " + rep("[", depth) + rep("]", depth) + "\n"),
			"parentheses": []byte(`name: "deep"` + "\npriority: " + rep("(", depth) + "1" + rep(")", depth) + "\n"),
			"paths":       []byte(`name: "deep"` + "\nmeta: " + rep("a: ", depth) + `"x"` + "\n"),
		}
	}
	return nil
}

// TestDeepNesting: 10,000 levels of nesting in every format give a clear
// error, quickly, without a stack overflow.
func TestDeepNesting(t *testing.T) {
	const depth = 10000
	for _, f := range Formats {
		for shape, src := range deepInputs(f, depth) {
			t.Run(string(f)+"/"+shape, func(t *testing.T) {
				requireParser(t, f)
				name := "deep." + string(f)
				res := compileSafely(t, name, src, f)
				wantError(t, name, res)
				t.Logf("%s", res.Diags.Error())
			})
		}
	}
}

// TestBinaryGarbage: random bytes, and real binary headers, in every format.
func TestBinaryGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	inputs := map[string][]byte{
		"random": garbage,
		"png":    []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"),
		"elf":    append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00"), bytes.Repeat([]byte{0}, 64)...),
		"nul":    []byte("name: web\x00\ntask: {}\n"),
		"utf16":  []byte("\xff\xfen\x00a\x00m\x00e\x00:\x00 \x00w\x00e\x00b\x00\n\x00"),
	}
	for _, f := range Formats {
		for what, src := range inputs {
			t.Run(string(f)+"/"+what, func(t *testing.T) {
				requireParser(t, f)
				name := "garbage." + string(f)
				res := compileSafely(t, name, src, f)
				wantError(t, name, res)
				t.Logf("%s", res.Diags.Error())
			})
		}
	}
}

// TestInvalidUTF8: a byte that is not UTF-8 inside an otherwise valid job is
// reported at its line and column, in every format.
func TestInvalidUTF8(t *testing.T) {
	jobs := map[Format]string{
		YAML: "name: web\ndescription: caf\xe9 au lait\ntask: {engine: exec, cmd: [run]}\n",
		JSON: "{\"name\": \"web\",\n \"description\": \"caf\xe9 au lait\",\n \"task\": {\"engine\": \"exec\", \"cmd\": [\"run\"]}}\n",
		HCL:  "job \"web\" {\n  description = \"caf\xe9 au lait\"\n  task {\n    engine = \"exec\"\n    cmd = [\"run\"]\n  }\n}\n",
		CUE:  "name: \"web\"\ndescription: \"caf\xe9 au lait\"\ntask: {engine: \"exec\", cmd: [\"run\"]}\n",
	}
	// The column of the bad byte on line 2, counting characters.
	cols := map[Format]int{YAML: 17, JSON: 21, HCL: 21, CUE: 18}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			requireParser(t, f)
			name := "utf8." + string(f)
			res := compileSafely(t, name, []byte(jobs[f]), f)
			wantError(t, name, res)
			t.Logf("%s", res.Diags.Error())
			d := res.Diags[0]
			if !strings.Contains(d.Message, "UTF-8") {
				t.Errorf("the message does not say the file is not UTF-8: %s", d.Error())
			}
			if d.Range.Start.Line != 2 {
				t.Errorf("want the error on line 2, got %s", d.Error())
			}
			if d.Range.Start.Column != cols[f] {
				t.Errorf("want the error at column %d, the bad byte; got %s", cols[f], d.Error())
			}
		})
	}
}

// TestManyErrors: a file with one error in each of many jobs reports all of
// them, each at its own line, in file order.
func TestManyErrors(t *testing.T) {
	requireParser(t, YAML)
	var b strings.Builder
	const n = 200
	for i := range n {
		fmt.Fprintf(&b, "---\nname: job-%d\npriority: %d\ntask: {engine: exec, cmd: [run]}\n", i, 101+i)
	}
	res := compileSafely(t, "many.yaml", []byte(b.String()), YAML)
	if len(res.Diags) != n || len(res.Jobs) != 0 {
		t.Fatalf("want %d diagnostics and no job, got %d and %d jobs", n, len(res.Diags), len(res.Jobs))
	}
	for i, d := range res.Diags {
		if want := 3 + 4*i; d.Range.Start.Line != want || d.Path != "priority" {
			t.Fatalf("diagnostic %d: want line %d (priority), got %s", i, want, d.Error())
		}
	}
}
