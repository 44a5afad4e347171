package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/muster-dev/muster/sensitive"
)

// WriteText prints p for people: a summary line, then per job the action,
// versions and hashes, the diff with +, - and ~, the change class, the
// placement and the warnings.
func WriteText(w io.Writer, p *Plan) {
	var create, update, same int
	for _, j := range p.Jobs {
		switch j.Action {
		case Create:
			create++
		case Update:
			update++
		default:
			same++
		}
	}
	for i := range p.Jobs {
		writeJob(w, &p.Jobs[i])
	}
	fmt.Fprintf(w, "Plan: %d to create, %d to update, %d unchanged.\n", create, update, same)
}

func writeJob(w io.Writer, j *JobPlan) {
	switch j.Action {
	case Create:
		fmt.Fprintf(w, "+ %s: create version 1 (%s)\n", j.Ref(), short(j.ToHash))
	case Update:
		fmt.Fprintf(w, "~ %s: update version %d (%s) -> %d (%s), %s\n", j.Ref(), j.FromVersion, short(j.FromHash),
			j.ToVersion, short(j.ToHash), describeClass(j.ChangeClass))
	default:
		fmt.Fprintf(w, "  %s: no changes (version %d, %s)\n", j.Ref(), j.FromVersion, short(j.FromHash))
	}
	WriteDiff(w, j.Diff)
	pl := &j.Placement
	if j.Action != NoOp {
		fmt.Fprintf(w, "    nodes: %s matched", count(len(pl.MatchedNodes), "node"))
		if len(pl.MatchedNodes) > 0 {
			fmt.Fprintf(w, " (%s)", sample(pl.MatchedNodes))
		}
		fmt.Fprintln(w)
		if n := len(pl.Executions); n > 0 {
			total := 0
			for _, c := range pl.Executions {
				total += c
			}
			fmt.Fprintf(w, "    executions: %d on %s", total, count(n, "node"))
			if pl.Unplaced > 0 {
				fmt.Fprintf(w, "; %d more cannot be placed", pl.Unplaced)
			}
			fmt.Fprintln(w)
		} else if pl.Unplaced > 0 {
			fmt.Fprintf(w, "    executions: none placed; %d cannot be placed\n", pl.Unplaced)
		}
		if len(pl.Canary) > 0 {
			fmt.Fprintf(w, "    canary: %s\n", canaryText(pl))
		}
		for i, wave := range pl.Waves {
			if i == 5 && len(pl.Waves) > 6 {
				fmt.Fprintf(w, "    ... %d more waves\n", len(pl.Waves)-5)
				break
			}
			fmt.Fprintf(w, "    wave %d: %s\n", i+1, sample(wave))
		}
	}
	if s := j.Schedule; s != nil {
		next := make([]string, len(s.Next))
		for i, t := range s.Next {
			next[i] = t.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "    schedule: %q in %s; next launches %s\n", s.Cron, s.TimeZone, strings.Join(next, ", "))
	}
	for _, warn := range j.Warnings {
		fmt.Fprintf(w, "    warning: %s\n", warn)
	}
	fmt.Fprintln(w)
}

// canaryText says what the canary set holds: executions for jobs with a
// count (their canary_count counts executions), whole nodes otherwise.
func canaryText(pl *Placement) string {
	if pl.CanaryExecutions == nil {
		total := len(pl.Canary)
		for _, w := range pl.Waves {
			total += len(w)
		}
		return fmt.Sprintf("%d of %d nodes (%s)", len(pl.Canary), total, sample(pl.Canary))
	}
	n, total := 0, 0
	for _, c := range pl.CanaryExecutions {
		n += c
	}
	for _, c := range pl.Executions {
		total += c
	}
	return fmt.Sprintf("%d of %d executions (%s)", n, total, sample(pl.Canary))
}

// WriteDiff prints changes one per line: "+ path: new", "- path: old" or
// "~ path: old -> new". A sensitive value prints as (sensitive).
func WriteDiff(w io.Writer, diff []Change) {
	for _, c := range diff {
		switch c.Op {
		case Add:
			fmt.Fprintf(w, "    + %s: %s\n", c.Path, shown(c.New, c.NewSensitive))
		case Remove:
			fmt.Fprintf(w, "    - %s: %s\n", c.Path, shown(c.Old, c.OldSensitive))
		default:
			fmt.Fprintf(w, "    ~ %s: %s -> %s\n", c.Path, shown(c.Old, c.OldSensitive), shown(c.New, c.NewSensitive))
		}
	}
}

// shown prints a value of a change: (sensitive), unquoted, for a value
// that is hidden whole.
func shown(v any, hidden bool) string {
	if s, ok := v.(string); ok && hidden && s == sensitive.Marker {
		return s
	}
	return value(v)
}

func describeClass(c ChangeClass) string {
	switch c {
	case ClassMetadata:
		return "metadata only: executions are kept"
	case ClassInPlace:
		return "in-place: executions on nodes that still match are kept"
	case ClassDestructive:
		return "destructive: every execution is replaced"
	}
	return string(c)
}

// short abbreviates a spec hash to sha256: and 12 hex digits.
func short(h string) string {
	if len(h) > len("sha256:")+12 {
		return h[:len("sha256:")+12]
	}
	return h
}

func value(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(b.String())
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}
