package compiler

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/lang"
)

// Bounded evaluation
//
// CUE and HCL files are programs: a short file can ask for a comprehension
// over a million-by-million list, a string repeated a million times a
// million times, or locals that double a string forty times. Their
// evaluators have no limits and cannot be interrupted (no context, no
// cancellation), and Go cannot stop a goroutine. Compile bounds every CUE
// or HCL file that is more than plain data (plain.go: data cannot run away)
// in time and memory, per file, in one of two ways (Bound):
//
//   - in this process, the default (inprocess.go): the file evaluates on a
//     goroutine of its own; the caller stops waiting at the time limit, or
//     when a heap watchdog (runtime/metrics, every 10 ms) sees the heap grow
//     by more than the memory limit since the file started, and reports the
//     file. The evaluation itself goes on, left behind, until it ends or
//     the process exits; if it grows the heap by the limit again,
//     Bound.Runaway is told so that the command stops. What this cannot
//     stop is one allocation larger than the machine: the Go runtime ends
//     the process (exit status 2) before any watchdog reads the heap;
//   - in worker processes (Sandbox, MUSTER_EVAL_ISOLATE=1 in the CLI),
//     which can be stopped: a worker is killed at the time limit, exits when
//     its heap passes the memory limit and, on Linux, lowers its
//     RLIMIT_DATA so that one allocation asking for far more fails at once.
//     Nothing is left behind, and a file that asks the Go runtime for a
//     terabyte in one builtin call (CUE's strings.Repeat of a megabyte
//     string a million times), a fatal error no recover catches, kills a
//     worker instead of muster.
//
// In-process is the default because it costs nothing: a goroutine and a
// timer per file, measured within the noise of `muster validate` on 2,000
// files. Workers cost a process start (about 30 ms) and, on the 2-core
// virtual machine of the measurements, 0.1 to 0.5 ms per file (the round
// trip, and the Go runtime's monitor thread waking every 20 µs whenever an
// idle process gets work): a third more CPU for a corpus where one CUE file
// in five computes. They are the choice for files one does not trust.
//
// Either way an interrupted command ends at once: it stops waiting, and
// Close kills the workers. YAML and JSON files do not evaluate: their cost
// is linear in the file (at most MaxFileSize), and the YAML frontend bounds
// what aliases expand to.

// Limits bound the evaluation of one CUE or HCL file. The zero value means
// the defaults.
type Limits struct {
	// Time is the longest one file may evaluate.
	Time time.Duration
	// Memory is the most heap, in bytes, the evaluation of one file may
	// hold.
	Memory int64
}

// The default limits: a real job file evaluates in milliseconds with a few
// megabytes, so they never bite one, and they stop a runaway file before it
// troubles the machine.
const (
	DefaultTime   = 10 * time.Second
	DefaultMemory = 1 << 30
)

// The environment variables of the bounds: the limits (LimitsFromEnv) and
// evaluation in worker processes (IsolateFromEnv).
const (
	TimeLimitEnv   = "MUSTER_EVAL_TIMEOUT"
	MemoryLimitEnv = "MUSTER_EVAL_MEMORY"
	IsolateEnv     = "MUSTER_EVAL_ISOLATE"
)

// IsolateFromEnv reads IsolateEnv through getenv: 1 to evaluate in worker
// processes, 0 or unset not to.
func IsolateFromEnv(getenv func(string) string) (bool, error) {
	switch v := getenv(IsolateEnv); v {
	case "", "0":
		return false, nil
	case "1":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%s: want 1 (evaluate CUE and HCL files in worker processes) or 0", IsolateEnv, v)
	}
}

func (l Limits) orDefaults() Limits {
	if l.Time <= 0 {
		l.Time = DefaultTime
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	return l
}

// LimitsFromEnv reads TimeLimitEnv (a Go duration such as 30s) and
// MemoryLimitEnv (bytes, or a number with a unit: 512MiB, 2GiB, 2G) through
// getenv; unset variables keep the defaults.
func LimitsFromEnv(getenv func(string) string) (Limits, error) {
	l := Limits{}.orDefaults()
	if s := getenv(TimeLimitEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("%s=%s: want a positive duration such as 30s or 2m", TimeLimitEnv, s)
		}
		l.Time = d
	}
	if s := getenv(MemoryLimitEnv); s != "" {
		n, err := parseBytes(s)
		if err != nil {
			return l, fmt.Errorf("%s=%s: %v", MemoryLimitEnv, s, err)
		}
		l.Memory = n
	}
	return l, nil
}

// minMemory is the smallest memory limit: below it a worker cannot start.
const minMemory = 64 << 20

func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30},
		{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, errors.New("want a size such as 2GiB, 512MiB or a number of bytes")
	}
	if n*mult < minMemory {
		return 0, fmt.Errorf("at least %s is needed", bytesText(minMemory))
	}
	return n * mult, nil
}

// bytesText prints n in the largest binary unit that divides it, or
// rounded to a tenth of a GiB or to a MiB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// needsBound reports whether a file of format f runs code that needs a
// bound: CUE and HCL files, unless they are plain data (plain.go).
func needsBound(f Format, src []byte) bool {
	switch f {
	case CUE:
		return !plainCUE(src)
	case HCL:
		return !plainHCL(src)
	}
	return false
}

// Bound says how Compile evaluates the CUE and HCL files that need one
// (those that are not plain data). The zero Bound evaluates them in this
// process within the default limits.
type Bound struct {
	Limits Limits
	// Sandbox, when not nil, evaluates them in its worker processes
	// instead.
	Sandbox *Sandbox
	// Runaway, when not nil, is told when an in-process evaluation left
	// behind at its limit keeps allocating, by its memory limit again: this
	// process cannot take that memory back and should end soon.
	Runaway func(error)
}

// bound is the Bound Compile uses; nil means the zero Bound.
var bound atomic.Pointer[Bound]

// SetBound makes Compile use b until restore is called.
func SetBound(b Bound) (restore func()) {
	prev := bound.Swap(&b)
	return func() { bound.CompareAndSwap(&b, prev) }
}

// evaluate runs the frontend parse of format f on one file, within the
// Bound when the file needs one.
func evaluate(f Format, parse lang.Parser, filename string, src []byte, opts lang.Options) ([]*lang.Value, lang.Diagnostics) {
	if !needsBound(f, src) {
		return parse(filename, src, opts)
	}
	var b Bound
	if p := bound.Load(); p != nil {
		b = *p
	}
	if b.Sandbox != nil {
		return b.Sandbox.evaluate(f, filename, src, opts)
	}
	return evaluateHere(f, parse, filename, src, opts, b)
}

func (f Format) title() string { return strings.ToUpper(string(f)) }

// boundError is the diagnostic of a file whose evaluation did not finish.
func boundError(filename string, f Format, err error, l Limits) lang.Diagnostics {
	lang_ := f.title()
	var msg string
	switch {
	case errors.Is(err, errTime):
		msg = fmt.Sprintf("%s evaluation passed its %v time limit: a job file evaluates in milliseconds; look for comprehensions or for expressions over large lists (%s raises the limit)",
			lang_, l.Time, TimeLimitEnv)
	case errors.Is(err, errMemory):
		msg = fmt.Sprintf("%s evaluation passed its %s memory limit: a job file needs a few megabytes; look for large lists, long strings or repetition (%s raises the limit)",
			lang_, bytesText(l.Memory), MemoryLimitEnv)
	case errors.Is(err, errWireBudget):
		msg = fmt.Sprintf("the file evaluates to more than %d values or %s of text; a job needs far less", maxWireValues, bytesText(maxWireText))
	case errors.Is(err, errStopped):
		msg = fmt.Sprintf("%s evaluation was stopped: muster is stopping", lang_)
	default:
		msg = fmt.Sprintf("%s evaluation failed: %v", lang_, err)
	}
	var ds lang.Diagnostics
	p := lang.Pos{Line: 1, Column: 1}
	ds.Add(lang.Range{Filename: filename, Start: p, End: p}, "", "%s", msg)
	return ds
}
