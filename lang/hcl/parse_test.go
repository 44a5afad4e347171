package hcl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

type parseCase struct {
	name  string
	src   string
	opts  lang.Options
	jobs  []string // dump of each returned job
	diags []string // "line:col: severity: message (path)", in order
}

func runCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jobs, diags := Parse("t.hcl", []byte(tc.src), tc.opts)
			var got []string
			for _, j := range jobs {
				got = append(got, dump(j))
			}
			if strings.Join(got, "\n") != strings.Join(tc.jobs, "\n") {
				t.Errorf("jobs:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(tc.jobs, "\n      "))
			}
			sameAsSlow(t, tc.name, []byte(tc.src), tc.opts)
			dl := diagLines(diags)
			if strings.Join(dl, "\n") != strings.Join(tc.diags, "\n") {
				t.Errorf("diagnostics:\n got\n  %s\n want\n  %s", strings.Join(dl, "\n  "), strings.Join(tc.diags, "\n  "))
			}
		})
	}
}

func TestWalk(t *testing.T) {
	runCases(t, []parseCase{
		{
			name: "spec example",
			src: `variable "image" { default = "registry.local/web:1.4" }
job "web" {
  type = "service"
  count = 3
  labels = { team = "payments" }
  selector { match_labels = { region = "eu" } }
  task {
    engine = "docker"
    image = var.image
    resources { memory = "512M" }
    input {
      source = "https://example.com/a.txt"
      target = "/in/a.txt"
    }
  }
  rollout { strategy = "canary" }
}
`,
			jobs: []string{`{name:"web",type:"service",count:3,labels:{team:"payments"},selector:{match_labels:{region:"eu"}},` +
				`task:{engine:"docker",image:"registry.local/web:1.4",resources:{memory:"512M"},inputs:[{source:"https://example.com/a.txt",target:"/in/a.txt"}]},` +
				`rollout:{strategy:"canary"}}`},
		},
		{
			name: "source order of attributes and blocks",
			src: `job "a" {
  task {
    input {
      source = "s1"
      target = "/t1"
    }
    engine = "exec"
    output { path = "/o1" }
    input {
      target = "/t2"
      source = "s2"
    }
    output { path = "/o2" }
    cmd = ["sh", "-c", "x"]
  }
  namespace = "ns"
}
`,
			jobs: []string{`{name:"a",task:{inputs:[{source:"s1",target:"/t1"},{target:"/t2",source:"s2"}],engine:"exec",outputs:[{path:"/o1"},{path:"/o2"}],cmd:["sh","-c","x"]},namespace:"ns"}`},
		},
		{
			name: "ports and a probe",
			src: `job "api" {
  task {
    port {
      name = "http"
      to   = 8080
    }
    port {
      name = "admin"
      port = 9000
    }
  }
  rollout {
    health_check {
      probe {
        http {
          port   = "http"
          path   = "/healthz"
          status = [200, 204]
        }
        timeout = "1s"
      }
    }
  }
}
`,
			jobs: []string{`{name:"api",task:{ports:[{name:"http",to:8080},{name:"admin",port:9000}]},` +
				`rollout:{health_check:{probe:{http:{port:"http",path:"/healthz",status:[200,204]},timeout:"1s"}}}}`},
		},
		{
			name: "tcp and exec probes",
			src:  "job \"a\" {\n  rollout {\n    health_check {\n      probe {\n        tcp { port = \"dns\" }\n        exec { cmd = [\"check\"] }\n      }\n    }\n  }\n}\n",
			jobs: []string{`{name:"a",rollout:{health_check:{probe:{tcp:{port:"dns"},exec:{cmd:["check"]}}}}}`},
		},
		{
			name: "a schedule",
			src:  "job \"a\" {\n  schedule {\n    cron             = \"15 3 * * *\"\n    time_zone        = \"Europe/Berlin\"\n    prohibit_overlap = false\n  }\n}\n",
			jobs: []string{`{name:"a",schedule:{cron:"15 3 * * *",time_zone:"Europe/Berlin",prohibit_overlap:false}}`},
		},
		{
			name: "several jobs and scalars",
			src: `job "a" {
  priority = 70
  auto = true
  nothing = null
  big = 12345678901234567890123
  rate = 0.1
  e = 1e3
  neg = -5
}
job b {
  description = "x"
}
`,
			jobs: []string{
				`{name:"a",priority:70,auto:true,nothing:null,big:12345678901234567890123,rate:0.1,e:1e3,neg:-5}`,
				`{name:"b",description:"x"}`,
			},
		},
		{
			name: "one-line blocks of one argument",
			src:  "job \"a\" {\n  task {engine = \"exec\"}\n  timeouts { queue = \"1m\" } # c\n  selector { /* c */\n    match_ids = [\"n1\"]\n  }\n}\n",
			jobs: []string{`{name:"a",task:{engine:"exec"},timeouts:{queue:"1m"},selector:{match_ids:["n1"]}}`},
		},
		{
			name: "unknown blocks and attributes pass through",
			src:  "job \"a\" {\n  colour = \"red\"\n  task {\n    resourcez {\n      cpus = 1\n    }\n  }\n}\n",
			jobs: []string{`{name:"a",colour:"red",task:{resourcez:{cpus:1}}}`},
		},
		{
			name: "locals in any order, functions and templates",
			src: `locals {
  image = "${local.registry}/web:${lower(var.tag)}"
}
variable "tag" {
  default = "V1"
}
locals {
  registry = "reg.local"
  envs     = { for k in ["a", "b"] : upper(k) => k }
  ids      = concat(["n1"], [for i in range(2) : format("n%d", i + 2)])
}
job "a" {
  task {
    image = local.image
    env   = local.envs
    cmd   = split(",", "a,b")
  }
  selector { match_ids = local.ids }
  meta = merge({ a = "1" }, { b = jsonencode({ x = [1, 2] }) })
  n = max(3, length("abcd"), try(tonumber("x"), 1))
  c = can(regex("^[a-z]+$", "abc"))
  r = regex_replace("a-b-c", "-", "_")
}
`,
			jobs: []string{`{name:"a",task:{image:"reg.local/web:v1",env:{A:"a",B:"b"},cmd:["a","b"]},selector:{match_ids:["n1","n2","n3"]},` +
				`meta:{a:"1",b:"{\"x\":[1,2]}"},n:4,c:true,r:"a_b_c"}`},
		},
	})
}

func TestStructureErrors(t *testing.T) {
	runCases(t, []parseCase{
		{
			name: "top level",
			src:  "jobs \"x\" {}\nfoo = 1\nvars \"y\" {}\nlocal {\n}\nzzz {}\njob \"ok\" {}\n",
			jobs: []string{`{name:"ok"}`},
			diags: []string{
				`2:1: error: unexpected attribute "foo" at the top level: a file holds job "NAME" { }, variable "NAME" { } and locals { } blocks`,
				`1:1: error: unknown block type "jobs"; did you mean job?`,
				`3:1: error: unknown block type "vars"; did you mean variable?`,
				`4:1: error: unknown block type "local"; did you mean locals?`,
				`6:1: error: unknown block type "zzz": a file holds job, variable and locals blocks`,
			},
		},
		{
			name: "job labels",
			src:  "job {\n}\njob \"a\" \"b\" {\n}\n",
			diags: []string{
				`1:1: error: a job block needs one label, its name: job "web" { ... } (name)`,
				`3:9: error: a job block takes one label, its name; remove the others`,
			},
		},
		{
			name: "block and attribute forms",
			src: `job "web" {
  name = "x"
  selector = { match_labels = { a = "b" } }
  labels { env = "x" }
  cmd { }
  task "t" {
    engine = "docker"
    inputs = [{ source = "s", target = "/t" }]
    input = { source = "x" }
    outputs { path = "/o" }
    env {
      A = "1"
    }
  }
  task {
  }
  priority { }
}
`,
			diags: []string{
				`2:3: error: the job name is the block label: write job "NAME" { ... } and remove the name attribute (name)`,
				`3:3: error: selector is a block: write selector { ... } without "=" (selector)`,
				`4:3: error: labels is an attribute, not a block: write labels = { ... } (labels)`,
				`6:8: error: a task block takes no label: write task { ... } (task)`,
				`8:5: error: inputs are written as repeated blocks, one per item: input { ... } input { ... }, not inputs = [...] (task.inputs)`,
				`9:5: error: input is a block: write input { ... } without "=", once per item of inputs (task.input)`,
				`10:5: error: write one output { ... } block per item: the block is output, the list it makes is outputs (task.outputs)`,
				`11:5: error: env is an attribute, not a block: write env = { ... } (task.env)`,
				`15:3: error: only one task block is allowed (the first is at line 6) (task)`,
				`17:3: error: priority is an attribute, not a block: write priority = value (priority)`,
			},
		},
		{
			name: "port and probe forms",
			src: `job "a" {
  task {
    port "http" {
      to = 8080
    }
    ports = []
  }
  rollout {
    health_check {
      probe {
        http = { port = "http" }
        tcp {
          port { }
        }
      }
    }
  }
}
`,
			diags: []string{
				`3:10: error: a port block takes no label: write its name inside, port { name = "http" ... } (task.port)`,
				`6:5: error: ports are written as repeated blocks, one per item: port { ... } port { ... }, not ports = [...] (task.ports)`,
				`6:5: error: ports is set twice (first at line 3) (task.ports)`,
				`11:9: error: http is a block: write http { ... } without "=" (rollout.health_check.probe.http)`,
				`13:11: error: port is an attribute, not a block: write port = value (rollout.health_check.probe.tcp.port)`,
			},
		},
		{
			name: "schedule forms",
			src: `job "a" {
  schedule = { cron = "@daily" }
}

job "b" {
  schedule "nightly" {
    cron = "@daily"
  }
  schedule {
    cron = "@hourly"
  }
}

job "c" {
  schedule {
    cron {
    }
  }
}
`,
			diags: []string{
				`2:3: error: schedule is a block: write schedule { ... } without "=" (schedule)`,
				`6:12: error: a schedule block takes no label: write schedule { ... } (schedule)`,
				`9:3: error: only one schedule block is allowed (the first is at line 6) (schedule)`,
				`16:5: error: cron is an attribute, not a block: write cron = value (schedule.cron)`,
			},
		},
		{
			name: "inputs attribute then input block",
			src:  "job \"a\" {\n  task {\n    inputs = []\n    input {\n      source = \"s\"\n    }\n  }\n}\n",
			diags: []string{
				`3:5: error: inputs are written as repeated blocks, one per item: input { ... } input { ... }, not inputs = [...] (task.inputs)`,
				`4:5: error: inputs is set twice (first at line 3) (task.inputs)`,
			},
		},
		{
			name: "syntax error keeps the other jobs",
			src:  "job \"a\" {\n  count = \n}\njob \"b\" {\n  count = 2\n}\n",
			jobs: []string{`{name:"b",count:2}`},
			diags: []string{
				`2:11: error: Invalid expression: Expected the start of an expression, but found an invalid expression token.`,
			},
		},
		{
			name:  "attribute redefined",
			src:   "job \"a\" {\n  count = 1\n  count = 2\n}\n",
			diags: []string{`3:3: error: Attribute redefined: The argument "count" was already set at t.hcl:2,3-8. Each argument may be set only once.`},
		},
	})
}

func TestEvalErrors(t *testing.T) {
	runCases(t, []parseCase{
		{
			name: "references and functions",
			src: `variable "image" {
  default = "a"
}
locals {
  a = local.b
  b = local.a
  c = local.zz
  self = local.self
}
job "web" {
  task {
    image = var.imgae
  }
}
job "t" {
  count = timestamp()
}
job "u" {
  x = upper(1, 2)
  labels = { env = var.nope }
}
job "v" {
  x = local.a
}
job "w" {
  cmd = ["a", uuid()]
  y = each.key
}
`,
			diags: []string{
				`5:3: error: local.a refers to itself through a cycle: local.a → local.b → local.a`,
				`7:7: error: local.zz is not defined in a locals block`,
				`8:3: error: local.self refers to itself`,
				`12:13: error: there is no variable "imgae"; did you mean var.image? (task.image)`,
				`16:11: error: Call to unknown function: There is no function named "timestamp". muster leaves out time, uuid, random, file and environment functions on purpose: the same file must always give the same job, whose hash is its identity. (count)`,
				`19:16: error: Too many function arguments: Function "upper" expects only 1 argument(s). (x)`,
				`20:20: error: there is no variable "nope": declare it with variable "nope" { } (labels.env)`,
				`26:15: error: Call to unknown function: There is no function named "uuid". muster leaves out time, uuid, random, file and environment functions on purpose: the same file must always give the same job, whose hash is its identity. (cmd[1])`,
				`27:7: error: Unknown variable: There is no variable named "each". (y)`,
			},
		},
		{
			name:  "not finite",
			src:   "job \"a\" {\n  x = log(0, 10)\n}\n",
			diags: []string{`2:7: error: the value is not a finite number (x)`},
		},
		{
			name:  "object key",
			src:   "job \"a\" {\n  labels = { (null) = \"x\" }\n}\n",
			diags: []string{`2:14: error: an object key must not be null (labels)`},
		},
	})
}

func TestVariables(t *testing.T) {
	decl := `variable "n" {
  type = number
}
variable "l" {
  type    = list(string)
  default = ["d"]
}
variable "s" {
  type    = string
  default = "def"
}
variable "any" {
  default = 1
}
variable "o" {
  type    = object({ a = string, b = optional(number, 7) })
  default = { a = "x" }
}
job "a" {
  count = var.n
  cmd   = var.l
  s     = var.s
  any   = var.any
  o     = var.o
}
`
	dir := t.TempDir()
	hclFile := filepath.Join(dir, "v.hcl")
	yamlFile := filepath.Join(dir, "v.yaml")
	must(t, os.WriteFile(hclFile, []byte("n = 5\ns = \"from-hcl\"\nundeclared = 1\n"), 0o600))
	must(t, os.WriteFile(yamlFile, []byte("s: from-yaml\nl: [y1, y2]\n"), 0o600))
	runCases(t, []parseCase{
		{
			name: "text values by type",
			src:  decl,
			opts: lang.Options{Vars: map[string]string{"n": "3", "l": `["a", "b"]`, "s": `["not", "parsed"]`, "any": "[1]"}},
			jobs: []string{`{name:"a",count:3,cmd:["a","b"],s:"[\"not\", \"parsed\"]",any:"[1]",o:{a:"x",b:7}}`},
		},
		{
			name: "precedence env < files < flags",
			src:  decl,
			opts: lang.Options{
				Env:      map[string]string{"n": "1", "s": "from-env", "any": "env"},
				VarFiles: []string{hclFile, yamlFile},
				Vars:     map[string]string{"any": "flag"},
			},
			jobs:  []string{`{name:"a",count:5,cmd:["y1","y2"],s:"from-yaml",any:"flag",o:{a:"x",b:7}}`},
			diags: []string{`3:1: warning: the var file sets "undeclared", a variable t.hcl does not declare`},
		},
		{
			name: "missing and bad values",
			src:  decl,
			opts: lang.Options{Vars: map[string]string{"l": `["a"`, "o": `{ b = 1 }`, "zz": "1"}, Env: map[string]string{"n2": "x"}},
			diags: []string{
				` warning: --var zz sets a variable this file does not declare`,
				`1:10: error: variable "n" has no value: set it with --var n=..., the environment variable MUSTER_VAR_n=... or a var file, or give it a default`,
				`4:10: error: invalid value for variable "l" (from --var): want list(string), written as an HCL literal such as ["a", "b"] or { key = "value" }: Unterminated tuple constructor expression: There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.`,
				`15:10: error: invalid value for variable "o" (from --var): want object({a=string,b=number}): attribute "a" is required`,
			},
		},
		{
			name: "number text that is not a number",
			src:  "variable \"n\" {\n  type = number\n}\njob \"a\" {\n  count = var.n\n}\n",
			opts: lang.Options{Env: map[string]string{"n": "three"}},
			diags: []string{
				`1:10: error: invalid value for variable "n" (from MUSTER_VAR_n): want number: a number is required`,
			},
		},
		{
			name: "declarations",
			src: `variable "a" {
  default = var.b
  typo = 1
  type = lisst(string)
}
variable "a" {
}
variable {
}
variable "x" "y" {
  default = 1
  type = string
  sensitive = "maybe"
  valid {
  }
  validation {
    condition = true
  }
}
`,
			diags: []string{
				`2:13: error: Variables not allowed: Variables may not be used here.`,
				`3:3: error: unknown attribute "typo" in a variable block; did you mean type?`,
				`4:10: error: Invalid type specification: Keyword "lisst" is not a valid type constructor.`,
				`6:10: error: variable "a" is declared twice (first at line 1)`,
				`8:1: error: a variable block needs one label, its name: variable "image" { ... }`,
				`10:14: error: a variable block takes one label, its name; remove the others`,
				`13:15: error: sensitive must be a bool`,
				`14:3: error: unknown block "valid" in a variable block; only validation blocks are allowed`,
				`16:3: error: a validation block needs an error_message`,
			},
		},
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidation(t *testing.T) {
	src := `variable "region" {
  default = "us"
  validation {
    condition     = contains(["eu", "us"], var.region)
    error_message = "region must be eu or us, not ${var.region}"
  }
}
variable "token" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.token) >= 8
    error_message = "token ${var.token} is too short"
  }
}
variable "bad" {
  default = 1
  validation {
    condition     = var.bad
    error_message = "x"
  }
  validation {
    condition     = null
    error_message = "x"
  }
}
job "a" {
  r = var.region
}
job "b" {
  t = var.token
}
job "c" {
  description = upper(var.token)
  count       = tonumber(var.token)
}
`
	runCases(t, []parseCase{
		{
			name: "pass",
			src:  src,
			opts: lang.Options{Vars: map[string]string{"token": "s3cr3t-value"}},
			jobs: []string{`{name:"a",r:"us"}`, `{name:"b",t:"s3cr3t-value"}`},
			diags: []string{
				`19:21: error: the condition of a validation of variable "bad" must be true or false: bool required, but have number`,
				`23:21: error: the condition of a validation of variable "bad" is null; it must be true or false`,
				`35:26: error: Invalid function argument: Invalid value for "v" parameter: cannot convert "(sensitive value)" to number; given string must be a decimal representation of a number. (count)`,
			},
		},
		{
			name: "fail",
			src:  src,
			opts: lang.Options{Vars: map[string]string{"token": "short", "region": "mars"}},
			diags: []string{
				`4:21: error: invalid value for variable "region" (from --var): region must be eu or us, not mars`,
				`12:21: error: invalid value for variable "token" (from --var): (the error message is hidden because it uses the sensitive variable "token")`,
				`19:21: error: the condition of a validation of variable "bad" must be true or false: bool required, but have number`,
				`23:21: error: the condition of a validation of variable "bad" is null; it must be true or false`,
			},
		},
	})
}

func TestRanges(t *testing.T) {
	src := "job \"web\" {\n  labels = { env = \"prod\", \"a/b\" = \"x\" }\n  task {\n    cmd = [\"sh\",\n      \"-c\"]\n    input {\n      target = \"/t\"\n    }\n    env = local.env\n  }\n  description = \"ünïcode\"\n  x = \"é\"\n}\nlocals {\n  env = { A = \"1\" }\n}\n"
	jobs, diags := Parse("t.hcl", []byte(src), lang.Options{})
	if len(diags) != 0 || len(jobs) != 1 {
		t.Fatal(diags)
	}
	j := jobs[0]
	type want struct {
		what                   string
		got                    lang.Range
		line, col, eline, ecol int
	}
	get := func(v *lang.Value, keys ...string) *lang.Field {
		var f *lang.Field
		for _, k := range keys {
			f = v.Get(k)
			if f == nil {
				t.Fatalf("no field %s", k)
			}
			v = f.Value
		}
		return f
	}
	labels := get(j, "labels")
	task := get(j, "task").Value
	cmd := get(task, "cmd").Value
	inputs := get(task, "inputs")
	for _, w := range []want{
		{"job", j.Range, 1, 1, 13, 2},
		{"name", get(j, "name").Value.Range, 1, 5, 1, 10},
		{"labels key", labels.KeyRange, 2, 3, 2, 9},
		{"labels value", labels.Value.Range, 2, 12, 2, 41},
		{"labels.env key", get(labels.Value, "env").KeyRange, 2, 14, 2, 17},
		{"labels.env", get(labels.Value, "env").Value.Range, 2, 20, 2, 26},
		{"labels.a/b key", get(labels.Value, "a/b").KeyRange, 2, 28, 2, 33},
		{"cmd[1]", cmd.List[1].Range, 5, 7, 5, 11},
		{"task block", get(j, "task").Value.Range, 3, 3, 10, 4},
		{"inputs key", inputs.KeyRange, 6, 5, 6, 10},
		{"inputs[0]", inputs.Value.List[0].Range, 6, 5, 8, 6},
		{"inputs[0].target", get(inputs.Value.List[0], "target").Value.Range, 7, 16, 7, 20},
		{"env (computed)", get(task, "env").Value.Fields[0].Value.Range, 9, 11, 9, 20},
		{"x after non-ASCII", get(j, "x").Value.Range, 12, 7, 12, 10},
	} {
		r := w.got
		if r.Filename != "t.hcl" || r.Start.Line != w.line || r.Start.Column != w.col || r.End.Line != w.eline || r.End.Column != w.ecol {
			t.Errorf("%s: range %d:%d-%d:%d, want %d:%d-%d:%d", w.what, r.Start.Line, r.Start.Column, r.End.Line, r.End.Column, w.line, w.col, w.eline, w.ecol)
		}
	}
	if b := get(j, "x").Value.Range.Start.Byte; src[b:b+3] != "\"é" {
		t.Errorf("byte offset %d points at %q", b, src[b:b+3])
	}
}

func TestLimits(t *testing.T) {
	runCases(t, []parseCase{
		{
			name: "range",
			src:  "job \"a\" {\n  ids = range(1025)\n  ok = length(range(0, 2048, 2))\n}\n",
			diags: []string{
				`2:9: error: Error in function call: Call to function "range" failed: more than 1024 values; use a smaller range or a larger step. (ids)`,
			},
		},
		{
			name: "format width",
			src:  "job \"a\" {\n  a = format(\"%-1000s|\", \"x\")\n  b = format(\"port 8080: %5.2f %%1000d\", 1)\n}\n",
			diags: []string{
				`2:7: error: Error in function call: Call to function "format" failed: widths and precisions of 1000 and more are not supported. (a)`,
			},
		},
		{
			name: "nested for",
			src:  "job \"a\" {\n  x = [for a in range(9) : [for b in range(9) : [for c in range(9) : c]]]\n}\n",
			diags: []string{
				`2:49: error: for expressions nested more than 2 deep are not supported: they can take very long to evaluate`,
			},
		},
		{
			name:  "deep nesting",
			src:   "job \"a\" {\n  x = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n}\n",
			diags: []string{`2:70: error: the file is too complex to read: nesting deeper than 64 levels; a job file needs far fewer`},
		},
		{
			name:  "operator chain",
			src:   "job \"a\" {\n  x = " + strings.Repeat("!", 30000) + "true\n}\n",
			diags: []string{`2:20007: error: the file is too complex to read: more than 20000 operators; a job file needs far fewer`},
		},
		{
			name:  "huge number",
			src:   "job \"a\" {\n  x = 1e2500 * 1e2500\n}\n",
			diags: []string{`2:7: error: the value is a number too large or too small to use (x)`},
		},
		{
			name:  "huge literal",
			src:   "job \"a\" {\n  x = \"${1e99999}\"\n}\n",
			diags: []string{`2:10: error: this number is beyond 2^±65536, too large or too small to use`},
		},
		{
			name: "growing numbers",
			src:  "locals {\n  a = 1e9000 * 1e9000\n  b = local.a * local.a\n  c = tonumber(\"1e99999\")\n}\njob \"a\" {\n  x = \"${local.b}\"\n}\n",
			diags: []string{
				`3:7: error: Operation failed: Error during operation: the result is a number beyond 2^±65536, too large or too small to use.`,
				`4:7: error: Error in function call: Call to function "tonumber" failed: the result is a number beyond 2^±65536, too large or too small to use.`,
			},
		},
		{
			name:  "huge variable",
			src:   "variable \"n\" {\n  type = number\n}\njob \"a\" {\n  x = var.n\n}\n",
			opts:  lang.Options{Vars: map[string]string{"n": "1e99999"}},
			diags: []string{`1:10: error: invalid value for variable "n" (from --var): a number beyond 2^±65536, too large or too small to use`},
		},
	})
}

func TestSensitiveShort(t *testing.T) {
	runCases(t, []parseCase{{
		name: "short secret quoted",
		src:  "variable \"pin\" {\n  sensitive = true\n}\njob \"a\" {\n  x = tonumber(var.pin)\n  abc = 1\n}\n",
		opts: lang.Options{Vars: map[string]string{"pin": "abc"}},
		diags: []string{
			`5:16: error: Invalid function argument: Invalid value for "v" parameter: cannot convert "(sensitive value)" to number; given string must be a decimal representation of a number. (x)`,
		},
	}})
}

func TestSensitiveMarks(t *testing.T) {
	src := `variable "token" {
  type      = string
  sensitive = true
}
locals {
  upper = upper(var.token)
}
job "web" {
  labels = { token = var.token, plain = "x" }
  env    = { A = local.upper }
  match  = ["token=${var.token}"]
  all    = { a = var.token }
}
job "keyed" {
  keyed  = { (var.token) = "v" }
}
`
	jobs, diags := Parse("t.hcl", []byte(src), lang.Options{Vars: map[string]string{"token": "s3cr3t"}})
	for _, d := range diags {
		if strings.Contains(d.Message, "s3cr3t") || strings.Contains(d.Message, "S3CR3T") {
			t.Errorf("message shows the secret: %s", d.Error())
		}
	}
	if want := []string{`15:14: error: a sensitive value cannot be an object key: keys are never hidden (keyed)`}; strings.Join(diagLines(diags), "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics %v, want %v", diagLines(diags), want)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	} else {
		j := jobs[0]
		for _, c := range []struct {
			path []string
			want bool
		}{
			{[]string{"labels", "token"}, true},
			{[]string{"labels", "plain"}, false},
			{[]string{"env", "A"}, true},
			{[]string{"all", "a"}, true},
		} {
			v := j
			for _, k := range c.path {
				v = v.Get(k).Value
			}
			if v.Sensitive != c.want {
				t.Errorf("%v: Sensitive = %v", c.path, v.Sensitive)
			}
		}
		if m := j.Get("match").Value.List[0]; !m.Sensitive {
			t.Error("template with a sensitive part is not Sensitive")
		}
	}
}
