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
// cancellation), and Go cannot stop a goroutine. So a Sandbox evaluates
// such files in worker processes, which can be stopped:
//
//   - time: the parent waits Limits.Time for a file, then kills the worker
//     (the next file gets a new one);
//   - memory: the worker watches its heap (runtime/metrics) every 10 ms and
//     exits when it passes Limits.Memory, and on Linux it lowers its
//     RLIMIT_DATA (which counts the Go heap) to the limit plus a margin, so
//     that one allocation asking for far more fails at once instead of
//     paging in gigabytes first. The parent reports either as the memory
//     limit of the file;
//   - cancellation: Close kills and reaps every worker at once, so an
//     interrupted command ends while a file is still evaluating, and no
//     process or goroutine outlives it.
//
// Evaluating in-process, in a goroutine with a watchdog, was the
// alternative. It can stop waiting for a file but not stop the work, which
// keeps a core and its memory until the process exits; a process-wide
// heap watchdog cannot tell which of the files in evaluation allocates,
// nor take back what an abandoned one holds; and one builtin call (CUE's
// strings.Repeat of a megabyte string a million times) asks the Go runtime
// for a terabyte, a fatal error that no recover catches: muster would
// crash. A worker that dies takes its memory with it, and muster reports
// the file.
//
// A worker costs a process start (about 30 ms, only when a file needs it,
// and a second one only when files wait) and a round trip per file that
// encodes its trees (wire.go): about 0.1 ms, a tenth of a CUE file's
// evaluation, measured on a 2-core virtual machine where a context switch
// is dear. Plain data files (plain.go) cannot run away and stay
// in-process, at no cost; so do YAML and JSON files, whose cost is linear
// in the file (at most MaxFileSize) and whose aliases the YAML frontend
// bounds.

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

// The environment variables that raise (or lower) the limits; LimitsFromEnv
// reads them.
const (
	TimeLimitEnv   = "MUSTER_EVAL_TIMEOUT"
	MemoryLimitEnv = "MUSTER_EVAL_MEMORY"
)

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

// bytesText prints n in the largest binary unit that divides it.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
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

// sandbox is the Sandbox Compile evaluates CUE and HCL files in, or nil.
var sandbox atomic.Pointer[Sandbox]

// UseSandbox makes Compile evaluate CUE and HCL files in s (nil: in this
// process, without bounds, as library users and tests that trust their
// files do) until restore is called.
func UseSandbox(s *Sandbox) (restore func()) {
	prev := sandbox.Swap(s)
	return func() { sandbox.CompareAndSwap(s, prev) }
}

// evaluate runs the frontend parse of format f on one file: in the sandbox
// when there is one and the file needs a bound, else in this process.
func evaluate(f Format, parse lang.Parser, filename string, src []byte, opts lang.Options) ([]*lang.Value, lang.Diagnostics) {
	if s := sandbox.Load(); s != nil && needsBound(f, src) {
		return s.evaluate(f, filename, src, opts)
	}
	return parse(filename, src, opts)
}

// boundError is the diagnostic of a file whose evaluation did not finish.
func boundError(filename string, f Format, err error, l Limits) lang.Diagnostics {
	lang_ := strings.ToUpper(string(f))
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
