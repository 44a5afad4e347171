package schema

import (
	"slices"
	"strings"
)

// Kind is the shape of a field's value as a job file writes it.
type Kind string

// The kinds of field. KindObject and KindObjectList hold other fields, whose
// paths continue with "." and "[]." respectively.
const (
	KindString     Kind = "string"
	KindInt        Kind = "int"
	KindNumber     Kind = "number"
	KindBool       Kind = "bool"
	KindDuration   Kind = "duration"         // Go duration string or integer seconds
	KindCPUs       Kind = "number or string" // a number or "500m" millicores
	KindMemory     Kind = "memory"           // "<n>M", "<n>G", "<n>Mi" or "<n>Gi"
	KindStringMap  Kind = "map string→string"
	KindStringList Kind = "list of string"
	KindIntList    Kind = "list of int"
	KindObject     Kind = "object"
	KindObjectList Kind = "list of object"
)

// MaxSafeInt is 2^53, the largest integer a job file may write: larger ones
// are not exact in the JSON numbers of most tools.
const MaxSafeInt = 1 << 53

// Patterns shared by the catalog, the JSON Schema and the validator. All are
// anchored, and valid both as Go (RE2) and ECMAScript regular expressions.
const (
	// NamePattern is a DNS label: job names and namespaces.
	NamePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// LabelKeyPattern is a Kubernetes label key: an optional lowercase DNS
	// subdomain prefix and "/", then a name of at most 63 characters of
	// [A-Za-z0-9._-] that starts and ends alphanumeric.
	LabelKeyPattern = `^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?` + labelName + `$`
	// LabelValuePattern is a Kubernetes label value: empty, or a label name.
	LabelValuePattern = `^(` + labelName + `)?$`
	// EnvKeyPattern is an environment variable name.
	EnvKeyPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
	// DurationPattern is a Go duration string ("90s", "1h30m", "0") or a
	// string of whole seconds. Negative durations do not match.
	DurationPattern = `^\+?[0-9]+$|^\+?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`
	// CPUsPattern is a positive cpu count written as a string: millicores
	// ("500m") or a decimal number ("0.5", "2"). The upper bound of 1024 is
	// checked by the validator only.
	CPUsPattern = `^[0-9]*[1-9][0-9]*m$|^[0-9]*[1-9][0-9]*(\.[0-9]*)?$|^[0-9]*\.[0-9]*[1-9][0-9]*$`
	// MemoryPattern is a memory size of at least 4M in binary units.
	MemoryPattern = `^0*([4-9]|[1-9][0-9]+)(M|Mi)$|^0*[1-9][0-9]*(G|Gi)$`
	// AbsPathPattern is an absolute, clean path: no empty, "." or ".."
	// segment and no trailing slash.
	AbsPathPattern = `^/$|^(/([^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+))+$`
	// InputSourcePattern is where an input comes from: a file on the node,
	// an http(s) URL, a document of the document store, or the outputs of an
	// exact job version (optionally one output path).
	InputSourcePattern = `^(file:///\S+|https?://\S+|sha256:[0-9a-f]{64}|job:[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?@sha256:[0-9a-f]{64}(#/\S*)?|secret:[a-z0-9]([-a-z0-9]*[a-z0-9])?/[A-Za-z0-9_-]{1,128})$`
	// WasmModulePattern is a wasm module: an absolute path on the node, an
	// http(s) URL or a document of the document store.
	WasmModulePattern = `^(/\S+|https?://\S+|sha256:[0-9a-f]{64})$`
	// PortNamePattern is the name of a port: MUSTER_PORT_<NAME> in upper
	// case is a valid environment variable name.
	PortNamePattern = `^[a-z][a-z0-9_]{0,30}$`
	// ProbePathPattern is the path (and optional query) of an http probe:
	// absolute, not "//" (which a client reads as a host), printable ASCII
	// without '#' (a fragment is never sent), other characters as valid
	// percent escapes.
	ProbePathPattern = `^/((?:[!"$&-.0-~]|%[0-9A-Fa-f]{2})(?:[!"$&-~]|%[0-9A-Fa-f]{2})*)?$`
	// CronPattern is the shape of a schedule's cron expression: five fields
	// of digits, names, * , - / and ?, one or more spaces apart, or a
	// descriptor in any case. Which values each field takes is checked by
	// the validator only (package schedule).
	CronPattern = `^ *(@([Hh][Oo][Uu][Rr][Ll][Yy]|[Dd][Aa][Ii][Ll][Yy]|[Ww][Ee][Ee][Kk][Ll][Yy]|[Mm][Oo][Nn][Tt][Hh][Ll][Yy])` +
		`|[0-9A-Za-z*?,/-]+( +[0-9A-Za-z*?,/-]+){4}) *$`
	// TimeZonePattern is the spelling of an IANA time zone name: parts of
	// letters, digits, '_', '-' and '+', each starting with a letter,
	// separated by '/' ("America/Argentina/Buenos_Aires", "Etc/GMT+5").
	// Whether the zone exists, and that it is not Local, is checked by the
	// validator only.
	TimeZonePattern = `^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z][A-Za-z0-9_+-]*)*$`
	// MatchExpressionPattern is one selector expression in any accepted
	// spelling (see package selector).
	MatchExpressionPattern = `^\s*(!\s*` + labelKey + `|` + labelKey +
		`|` + labelKey + `\s*(==?|!=)\s*(` + labelName + `)?` +
		`|` + labelKey + ` \s*(in|notin)\s*\(\s*` + labelName + `\s*(,\s*` + labelName + `\s*)*\))\s*$`

	labelName = `[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`
	labelKey  = `([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?` + labelName
)

// FieldInfo describes one field of docs/spec.md section 2: its shape, default and
// rules. The zero FieldInfo describes nothing; the entries of Fields are the
// only meaningful values.
type FieldInfo struct {
	// Path is the dotted path of the field, as diagnostics print it without
	// list indexes: "task.resources.cpus", "task.inputs[].source".
	Path string
	// Kind is the shape of the value.
	Kind Kind
	// Required fields must be written (in their enclosing object).
	Required bool
	// Default is the canonical value a job gets when the field is not
	// written: string, int, float64, bool, []string{}, map[string]string{}
	// or []any{}; durations and memory as their canonical strings. It is nil
	// for required fields and objects, whose members carry the defaults,
	// and for fields whose default DefaultText says in words.
	Default any
	// DefaultText says in words a default that depends on other fields
	// ("the task's only port"); empty when Default says it.
	DefaultText string
	// AddedAfterV1 marks a field added to muster/v1 after its first
	// release. While it is absent or empty the canonical form leaves it out,
	// with its members, so that every job written before it keeps its bytes
	// and hash (docs/spec.md section 3); its Default is what it means when
	// absent. See AddedAfterV1.
	AddedAfterV1 bool
	// OneOf, for an object, lists the members of which exactly one must be
	// written.
	OneOf []string
	// MinItems is the fewest items a list may hold when it is written; 0
	// means no bound.
	MinItems int
	// TypeDefaults overrides Default for the job types listed.
	TypeDefaults map[JobType]any
	// Enum lists the allowed values of a string field.
	Enum []string
	// Pattern is a regular expression that a string value, each item of a
	// list, or each value of a map must match.
	Pattern string
	// KeyPattern is a regular expression every key of a map must match.
	KeyPattern string
	// ReservedKeys are regular expressions no key of a map may match.
	ReservedKeys []string
	// Min and Max bound a number (inclusive) when non-nil; MinExclusive
	// makes Min exclusive. For KindCPUs they bound the number form, for
	// KindIntList each item.
	Min, Max     *float64
	MinExclusive bool
	// MaxLength bounds a string, or each key of a map, in characters; 0 means
	// no bound. ValueMaxLength bounds each value of a map.
	MaxLength, ValueMaxLength int
	// Types, Engines and Strategies, when non-empty, are the only job types,
	// task engines and rollout strategies the field exists for: writing it
	// elsewhere is an error, and the canonical form leaves it out.
	Types      []JobType
	Engines    []Engine
	Strategies []Strategy
	// RequiredFor lists the engines for which the field must be written and
	// not empty.
	RequiredFor []Engine
	// EnginePattern adds a Pattern that holds only for the engine given.
	EnginePattern map[Engine]string
	// Description is one or two user-facing sentences of meaning.
	Description string
	// Rules says in words what the fields above cannot, such as uniqueness
	// or a relation to another field; empty when there is nothing more.
	Rules string
}

// DefaultFor returns the default of f for a job of type t.
func (f *FieldInfo) DefaultFor(t JobType) any {
	if v, ok := f.TypeDefaults[t]; ok {
		return v
	}
	return f.Default
}

// AppliesTo reports whether f exists for a job of type t whose task runs on
// engine e with rollout strategy s.
func (f *FieldInfo) AppliesTo(t JobType, e Engine, s Strategy) bool {
	return (len(f.Types) == 0 || slices.Contains(f.Types, t)) &&
		(len(f.Engines) == 0 || slices.Contains(f.Engines, e)) &&
		(len(f.Strategies) == 0 || slices.Contains(f.Strategies, s))
}

// Conditions says in words where f exists and where it must be written,
// from Types, Engines, Strategies and RequiredFor, with values as Markdown
// code spans: "Only for the `batch` and `service` job types; writing it for
// another is an error." It is empty for a field that exists everywhere and
// is never required.
func (f *FieldInfo) Conditions() string {
	var s []string
	only := func(what []string, noun, plural string) {
		if len(what) > 0 {
			s = append(s, "Only for the "+words(what)+" "+pick(len(what) == 1, noun, plural)+"; writing it for another is an error.")
		}
	}
	only(names(f.Types), "job type", "job types")
	if slices.Equal(f.Engines, f.RequiredFor) && len(f.Engines) > 0 {
		e := names(f.Engines)
		s = append(s, "Required for the "+words(e)+" "+pick(len(e) == 1, "engine", "engines")+"; writing it for another is an error.")
	} else {
		only(names(f.Engines), "engine", "engines")
		if e := names(f.RequiredFor); len(e) > 0 {
			s = append(s, "Required, and not empty, for the "+words(e)+" "+pick(len(e) == 1, "engine.", "engines."))
		}
	}
	only(names(f.Strategies), "strategy", "strategies")
	return strings.Join(s, " ")
}

// names quotes every value of list as a code span.
func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = "`" + string(v) + "`"
	}
	return out
}

// words joins a, b and c as "a, b and c".
func words(list []string) string {
	if len(list) < 2 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// LookupField returns the catalog entry of a path such as "task.image" or
// "task.inputs[].target".
func LookupField(path string) (*FieldInfo, bool) {
	for i := range Fields {
		if Fields[i].Path == path {
			return &Fields[i], true
		}
	}
	return nil, false
}

// AddedAfterV1 reports whether the field at path, or an object holding it,
// was added to muster/v1 after its first release: a job that does not write
// it has none of it in its canonical form.
func AddedAfterV1(path string) bool {
	for p := path; p != ""; {
		if f, ok := LookupField(p); ok && f.AddedAfterV1 {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = strings.TrimSuffix(p[:i], "[]")
	}
	return false
}

// num returns a pointer to f, for Min and Max.
func num(f float64) *float64 { return &f }

// Fields describes every field of a job once, in the order of
// docs/spec.md section 2, each object before its members. The JSON Schema
// (JSONSchema) and docs/jobspec.md are generated from it, and tests check it
// against the Job type and its defaults. Treat it as read-only.
var Fields = []FieldInfo{
	{
		Path: "api_version", Kind: KindString, Default: APIVersion, Enum: []string{APIVersion},
		Description: "The version of the job spec. It may be left out; when written it must be `muster/v1`.",
	},
	{
		Path: "name", Kind: KindString, Required: true, Pattern: NamePattern, MaxLength: 63,
		Description: "The name of the job, unique inside its namespace.",
		Rules:       "A DNS label: lowercase letters, digits and `-`, starting and ending with a letter or digit.",
	},
	{
		Path: "namespace", Kind: KindString, Default: DefaultNamespace, Pattern: NamePattern, MaxLength: 63,
		Description: "The namespace that groups the job with others.",
		Rules:       "Same rules as `name`.",
	},
	{
		Path: "type", Kind: KindString, Default: string(DefaultType),
		Enum: []string{string(Batch), string(Ops), string(Service), string(Daemon)},
		Description: "The kind of work: `batch` runs `count` times to completion, `ops` runs once on every matching node to completion, " +
			"`service` keeps `count` executions running, `daemon` keeps one execution running on every matching node, including nodes that join later.",
	},
	{
		Path: "description", Kind: KindString, Default: "", MaxLength: 1024,
		Description: "Free text about the job.",
	},
	{
		Path: "labels", Kind: KindStringMap, Default: map[string]string{},
		KeyPattern: LabelKeyPattern, Pattern: LabelValuePattern, ValueMaxLength: 63,
		Description: "Labels of the job itself, as in Kubernetes.",
		Rules:       "Keys are `[prefix/]name`: the name at most 63 characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric, the prefix a lowercase DNS subdomain. Values are empty or follow the rules of a key's name.",
	},
	{
		Path: "meta", Kind: KindStringMap, Default: map[string]string{}, ReservedKeys: []string{`^[Mm][Uu][Ss][Tt][Ee][Rr]\.[Dd][Ee][Vv]/`},
		Description: "Free-form metadata.",
		Rules:       "Keys starting with `muster.dev/`, in any case, are reserved for the system.",
	},
	{
		Path: "priority", Kind: KindInt, Default: DefaultPriority, Min: num(0), Max: num(100),
		Description: "Orders jobs that compete for nodes: a higher priority goes first.",
	},
	{
		Path: "count", Kind: KindInt, Default: DefaultCount, Min: num(1), Max: num(MaxSafeInt),
		Types:       []JobType{Batch, Service},
		Description: "How many executions a `batch` or `service` job runs. `ops` and `daemon` jobs run once on every matching node instead.",
	},
	{
		Path: "restart_policy", Kind: KindString, Default: string(OnFailure),
		TypeDefaults: map[JobType]any{Service: string(Always), Daemon: string(Always)},
		Enum:         []string{string(OnFailure), string(Always), string(Never)},
		Description:  "When an execution that ended is started again: `on-failure` after it fails, `always` whenever it ends, `never` not at all.",
	},
	{
		Path: "selector", Kind: KindObject,
		Description: "The nodes the job may run on. A node must satisfy `match_labels`, `match_expressions` and `match_ids`.",
	},
	{
		Path: "selector.match_labels", Kind: KindStringMap, Default: map[string]string{},
		KeyPattern: LabelKeyPattern, Pattern: LabelValuePattern, ValueMaxLength: 63,
		Description: "Labels a node must have, each with exactly that value.",
		Rules:       "Keys and values follow the rules of labels.",
	},
	{
		Path: "selector.match_expressions", Kind: KindStringList, Default: []string{}, Pattern: MatchExpressionPattern,
		Description: "Expressions over node labels that must all hold.",
		Rules: "Each is `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (exists) or `!key` (absent). " +
			"As in Kubernetes, `!=` and `notin` also match nodes that lack the key.",
	},
	{
		Path: "selector.match_ids", Kind: KindStringList, Default: []string{},
		Description: "When not empty, only the nodes with these ids.",
	},
	{
		Path: "task", Kind: KindObject, Required: true,
		Description: "What every execution of the job runs.",
	},
	{
		Path: "task.engine", Kind: KindString, Required: true,
		Enum:        []string{string(Docker), string(Exec), string(Wasm)},
		Description: "The driver that runs the task: `docker` runs a container, `exec` a program on the node, `wasm` a WebAssembly module.",
	},
	{
		Path: "task.image", Kind: KindString, Engines: []Engine{Docker, Wasm}, RequiredFor: []Engine{Docker, Wasm},
		EnginePattern: map[Engine]string{Wasm: WasmModulePattern},
		Description:   "For `docker` the image reference; for `wasm` the module: an absolute path on the node, an `http(s)://` URL or a `sha256:` document.",
	},
	{
		Path: "task.entrypoint", Kind: KindStringList, Default: []string{}, Engines: []Engine{Docker},
		Description: "Overrides the entrypoint of the docker image.",
	},
	{
		Path: "task.cmd", Kind: KindStringList, Default: []string{}, RequiredFor: []Engine{Exec},
		Description: "The command: for `exec`, `cmd[0]` is the program and the rest its arguments; for `docker` it overrides the image's command; for `wasm` it is the arguments.",
	},
	{
		Path: "task.env", Kind: KindStringMap, Default: map[string]string{},
		KeyPattern: EnvKeyPattern, ReservedKeys: []string{`^[Pp][Aa][Tt][Hh]$`, `^[Mm][Uu][Ss][Tt][Ee][Rr]_`},
		Description: "Environment variables of the task. A value `secret:<namespace>/<name>` (a secret of the job's own namespace) is replaced by the secret's value on the node; the spec keeps the reference.",
		Rules: "`PATH` is not allowed, nor its look-alikes in another case (`path`, `Path`), and the prefix `MUSTER_` is reserved in any case " +
			"(`muster_x` too): muster sets `MUSTER_ROOT`, `MUSTER_JOB_NAME` and the like itself.",
	},
	{
		Path: "task.workdir", Kind: KindString, Default: "", Pattern: `^$|` + AbsPathPattern,
		Description: "The working directory of the task; empty keeps the engine's default.",
		Rules:       "Absolute and clean.",
	},
	{
		Path: "task.network", Kind: KindString, Default: string(DefaultNetwork),
		Enum:        []string{string(NetworkNone), string(NetworkBridge), string(NetworkHost)},
		Description: "The network the task sees: `none`, a `bridge` network, or the node's `host` network.",
	},
	{
		Path: "task.resources", Kind: KindObject,
		Description: "The resource limits of one execution.",
	},
	{
		Path: "task.resources.cpus", Kind: KindCPUs, Default: DefaultCPUs,
		Min: num(0), MinExclusive: true, Max: num(1024), Pattern: CPUsPattern,
		Description: "CPU cores: a number such as `0.5` or `2`, or a string: a decimal such as `\"0.5\"` or millicores such as `\"500m\"` (0.5).",
	},
	{
		Path: "task.resources.memory", Kind: KindMemory, Default: DefaultMemory.String(), Pattern: MemoryPattern,
		Description: "The memory limit: `<n>M`, `<n>G`, `<n>Mi` or `<n>Gi`, all binary units (`M` and `Mi` both mean MiB).",
		Rules:       "At least `4M`.",
	},
	{
		Path: "task.inputs", Kind: KindObjectList, Default: []any{},
		Description: "Files placed inside the execution root before the task starts.",
		Rules:       "Targets are unique.",
	},
	{
		Path: "task.inputs[].source", Kind: KindString, Required: true, Pattern: InputSourcePattern,
		Description: "Where the input comes from: `file:///abs/path` on the node, an `http(s)://` URL, a `sha256:<64 hex>` document, " +
			"`job:<namespace>/<name>@sha256:<hex>[#<output path>]` for the outputs of that exact job version, " +
			"or `secret:<namespace>/<name>` for a secret's value, written to the target readable by its owner only.",
		Rules: "A `job:` or `secret:` source names a job or secret of the job's own namespace: namespaces isolate, and a job may refer only to outputs and secrets of its own namespace.",
	},
	{
		Path: "task.inputs[].target", Kind: KindString, Required: true, Pattern: AbsPathPattern,
		Description: "Where the input is placed, inside the execution root (a container path for `docker`).",
		Rules:       "Absolute and clean, without `..`; unique among the inputs.",
	},
	{
		Path: "task.outputs", Kind: KindObjectList, Default: []any{},
		Description: "Files collected after the run: each one that exists becomes a content-addressed document; a missing file is skipped.",
		Rules:       "Paths are unique.",
	},
	{
		Path: "task.outputs[].path", Kind: KindString, Required: true, Pattern: AbsPathPattern,
		Description: "The path of the output inside the execution root (a container path for `docker`).",
		Rules:       "Absolute and clean; unique among the outputs.",
	},
	{
		Path: "task.ports", Kind: KindObjectList, Default: []any{}, AddedAfterV1: true,
		Types: []JobType{Service, Daemon}, Engines: []Engine{Docker, Exec},
		Description: "The ports an execution listens on. The task finds the host port of each in the environment variable " +
			"`MUSTER_PORT_<NAME>`, the name in upper case (`MUSTER_PORT_HTTP`).",
		Rules: "Names are unique, and so are static ports. A `docker` task publishes ports on the `bridge` or `host` network, not on `none`. " +
			"Two executions of one job cannot share a static port on one node: placement puts them on different nodes, and executions beyond the matching nodes wait. " +
			"Sorted by name in the canonical form.",
	},
	{
		Path: "task.ports[].name", Kind: KindString, Required: true, Pattern: PortNamePattern,
		Description: "The name of the port, by which a probe refers to it.",
		Rules:       "A lowercase letter, then at most 30 lowercase letters, digits or `_`; unique among the ports.",
	},
	{
		Path: "task.ports[].port", Kind: KindInt, Default: 0, Min: num(0), Max: num(MaxPort),
		Description: "A static host port, or `0` for a dynamic one that the node picks from its free range when the execution starts.",
		Rules:       "A static port is unique among the ports. `0` is left out of the canonical form.",
	},
	{
		Path: "task.ports[].to", Kind: KindInt, DefaultText: "the host port", Min: num(1), Max: num(MaxPort),
		Description: "The port the task listens on inside its container, when it differs from the host port.",
		Rules: "Only for a `docker` task on the `bridge` network; writing it for another is an error. " +
			"Equal to a static `port`, it is left out of the canonical form, which that means already.",
	},
	{
		Path: "rollout", Kind: KindObject,
		Description: "How a new version of the job replaces the old one.",
	},
	{
		Path: "rollout.strategy", Kind: KindString, Default: string(Immediate),
		TypeDefaults: map[JobType]any{Service: string(Rolling), Daemon: string(Rolling)},
		Enum:         []string{string(Immediate), string(Rolling), string(Canary)},
		Description:  "`immediate` replaces everything at once, `rolling` replaces in waves, `canary` first runs the new version on a canary set and waits for promotion.",
	},
	{
		Path: "rollout.max_parallel", Kind: KindInt, Default: DefaultMaxParallel, Min: num(1), Max: num(100),
		Description: "The percent of target nodes replaced per wave; a wave holds at least one node.",
		Rules:       "Ignored by the `immediate` strategy.",
	},
	{
		Path: "rollout.canary_count", Kind: KindInt, Default: DefaultCanaryCount, Min: num(0), Max: num(MaxSafeInt),
		Strategies:  []Strategy{Canary},
		Description: "The size of the canary set: executions of a batch or service job (the first ones placed; the rest of their nodes' executions come in a later wave), nodes of an ops or daemon job.",
		Rules:       "At least 1 unless `canary_percent` is set: at most one of the two may be non-zero, and the canonical form writes the unused one as 0.",
	},
	{
		Path: "rollout.canary_percent", Kind: KindInt, Default: 0, Min: num(0), Max: num(100),
		Strategies:  []Strategy{Canary},
		Description: "The canary set as a percent, rounded up, of the executions of a batch or service job, or of the target nodes of an ops or daemon job, instead of `canary_count`.",
		Rules:       "At most one of `canary_count` and `canary_percent` may be non-zero; the canonical form writes the unused one as 0.",
	},
	{
		Path: "rollout.auto_promote", Kind: KindBool, Default: false,
		Description: "Promote a healthy canary without waiting for `muster promote`. A job's first version and a rollback never wait.",
	},
	{
		Path: "rollout.health_check", Kind: KindObject,
		Description: "When an execution of the new version counts as healthy.",
	},
	{
		Path: "rollout.health_check.deadline", Kind: KindDuration, Default: DefaultDeadline.String(),
		Description: "The time an execution has to become healthy.",
		Rules: "For `service` and `daemon` jobs, at least `max(min_healthy_time, success_threshold × interval)`: " +
			"no execution can become healthy sooner, so a shorter deadline would fail every rollout.",
	},
	{
		Path: "rollout.health_check.min_healthy_time", Kind: KindDuration, Default: DefaultMinHealthyTime.String(),
		Description: "An execution running without failure this long counts as healthy.",
	},
	{
		Path: "rollout.health_check.interval", Kind: KindDuration, Default: DefaultInterval.String(),
		Description: "How often health is checked.",
	},
	{
		Path: "rollout.health_check.failure_threshold", Kind: KindInt, Default: DefaultFailureThreshold, Min: num(1), Max: num(MaxSafeInt),
		Description: "The number of failed health checks after which an execution counts as unhealthy.",
	},
	{
		Path: "rollout.health_check.success_threshold", Kind: KindInt, Default: DefaultSuccessThreshold, Min: num(1), Max: num(MaxSafeInt),
		Description: "The number of passed health checks after which an execution counts as healthy.",
	},
	{
		Path: "rollout.health_check.max_error_rate", Kind: KindNumber, Default: DefaultMaxErrorRate, Min: num(0), Max: num(1),
		Description: "The largest fraction of failed health checks with which an execution still counts as healthy.",
	},
	{
		Path: "rollout.health_check.probe", Kind: KindObject, AddedAfterV1: true, Types: []JobType{Service, Daemon},
		OneOf: []string{"http", "tcp", "exec"},
		Description: "What each health check runs against an execution: it passes when the probe succeeds within `timeout`. " +
			"Without a probe, a check passes while the execution runs.",
		Rules: "Exactly one of `http`, `tcp` and `exec`.",
	},
	{
		Path: "rollout.health_check.probe.http", Kind: KindObject,
		Description: "An HTTP GET of `path` on a port of the task, which passes when the answer has an accepted status.",
	},
	{
		Path: "rollout.health_check.probe.http.port", Kind: KindString, DefaultText: "the task's only port", Pattern: PortNamePattern,
		Description: "The name of the entry of `task.ports` to ask.",
		Rules:       "Names an entry of `task.ports`; required when the task has more than one.",
	},
	{
		Path: "rollout.health_check.probe.http.path", Kind: KindString, Default: DefaultProbePath, Pattern: ProbePathPattern,
		Description: "The path of the request, with an optional query (`/healthz?full=1`).",
		Rules: "Absolute, without a scheme, a host or a fragment (`#`): printable ASCII without spaces, " +
			"other characters percent-encoded (`%20`).",
	},
	{
		Path: "rollout.health_check.probe.http.status", Kind: KindIntList, Default: []any{}, Min: num(100), Max: num(599),
		Description: "The status codes that pass; empty accepts any 2xx or 3xx.",
		Rules:       "Sorted and de-duplicated in the canonical form.",
	},
	{
		Path: "rollout.health_check.probe.tcp", Kind: KindObject,
		Description: "A TCP connection to a port of the task, which passes when it opens.",
	},
	{
		Path: "rollout.health_check.probe.tcp.port", Kind: KindString, DefaultText: "the task's only port", Pattern: PortNamePattern,
		Description: "The name of the entry of `task.ports` to connect to.",
		Rules:       "Names an entry of `task.ports`; required when the task has more than one.",
	},
	{
		Path: "rollout.health_check.probe.exec", Kind: KindObject, Engines: []Engine{Docker, Exec},
		Description: "A command run inside the task's environment (in its container for `docker`), which passes when it exits 0.",
	},
	{
		Path: "rollout.health_check.probe.exec.cmd", Kind: KindStringList, Required: true, MinItems: 1,
		Description: "The command: `cmd[0]` is the program and the rest its arguments.",
		Rules:       "Not empty, and `cmd[0]` not empty.",
	},
	{
		Path: "rollout.health_check.probe.timeout", Kind: KindDuration, Default: DefaultProbeTimeout.String(),
		Description: "The longest one probe may take: one that takes longer fails.",
		Rules:       "More than `0s`, and less than `interval`, so that a probe ends before the next check starts.",
	},
	{
		Path: "rollout.max_failed_nodes", Kind: KindInt, Default: DefaultMaxFailedNodes, Min: num(0), Max: num(MaxSafeInt),
		Description: "The number of failed nodes after which the rollout fails.",
	},
	{
		Path: "rollout.max_failed_nodes_percent", Kind: KindNumber, Default: DefaultMaxFailedPercent, Min: num(0), Max: num(100),
		Description: "The percent of failed target nodes after which the rollout fails.",
	},
	{
		Path: "rollout.no_auto_rollback", Kind: KindBool, Default: false,
		Description: "Keep a failed version in place instead of rolling back to the last stable one.",
	},
	{
		Path: "timeouts", Kind: KindObject,
		Description: "Time limits of the job; `0s` means none.",
	},
	{
		Path: "timeouts.execution", Kind: KindDuration, Default: Duration(0).String(),
		Description: "The longest one execution may run.",
	},
	{
		Path: "timeouts.queue", Kind: KindDuration, Default: Duration(0).String(),
		Description: "The longest the job may wait to be placed.",
	},
	{
		Path: "timeouts.total", Kind: KindDuration, Default: Duration(0).String(),
		Description: "The longest the job may take in all, from submission to its end.",
	},
	{
		Path: "schedule", Kind: KindObject, AddedAfterV1: true, Types: []JobType{Batch, Ops},
		Description: "Makes the job periodic: the leading control plane launches the job's current version at each time `cron` names, " +
			"read on the clock of `time_zone`.",
		Rules: "Each wall-clock time launches once across daylight-saving changes: a time the clocks skip " +
			"(02:30 when they jump from 02:00 to 03:00) launches at the jump, and a time they repeat launches only the first time.",
	},
	{
		Path: "schedule.cron", Kind: KindString, Required: true, Pattern: CronPattern,
		Description: "When to launch: five fields, `minute hour day-of-month month day-of-week` (`15 3 * * *` is 03:15 every day), " +
			"or one of `@hourly`, `@daily`, `@weekly` and `@monthly`.",
		Rules: "A field is `*`, a number, a range (`1-5`), a step (`*/20`, `0-30/10`) or a list of them (`1,15`); `?` is `*`. " +
			"Minutes are 0-59, hours 0-23, days of the month 1-31, months 1-12 or `jan`-`dec`, days of the week 0-6 (0 is Sunday) or `sun`-`sat`, " +
			"names in any case. When both day fields are restricted, a day that matches either launches. " +
			"No seconds, no `@every`, no `TZ=` prefix (set `time_zone`), and no date that never comes (`0 0 30 2 *`). " +
			"The canonical form writes one space between fields, all in lower case.",
	},
	{
		Path: "schedule.time_zone", Kind: KindString, Default: DefaultTimeZone, Pattern: TimeZonePattern,
		Description: "The time zone on whose clock `cron` is read: an IANA name such as `Europe/Berlin` or `America/New_York`.",
		Rules:       "A zone of the IANA time zone database, spelled as it spells it (names are case-sensitive). Not `Local`: launch times must not depend on the machine.",
	},
	{
		Path: "schedule.prohibit_overlap", Kind: KindBool, Default: true,
		Description: "Skip a launch while the job's previous launch still runs; the skip is recorded. With `false`, a launch runs beside the previous one.",
	},
}
