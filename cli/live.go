package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/state"
)

// liveRefresh is how often the live view redraws its bars.
const liveRefresh = 150 * time.Millisecond

// liveBarWidth is the width the bar filler of a wave keeps when the node
// states beside it are long; the states are cut to what is left.
const liveBarWidth = 20

// liveSpinner are the frames of the spinner beside the wave in progress.
var liveSpinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// canLive reports whether progress written to w may be drawn as a live
// view: w is a terminal, and the environment (read through getenv) asks
// for no plain output with NO_COLOR, TERM=dumb or CI.
func canLive(w io.Writer, getenv func(string) string) bool {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) {
		return false
	}
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb" && getenv("CI") == ""
}

// live draws rollout events on a terminal with mpb: one bar per wave of
// each rollout, counting the executions that ended out of those that
// started, with the state of every node of the wave beside it: for a
// running execution not yet healthy, its health checks passed and time run
// against the job's thresholds, and the first line its task printed (read
// from the task output written to the view). Messages
// that end a rollout, and events it does not draw, are printed as lines
// above the bars, where they stay; so are the lines written to it as an
// io.Writer (task output).
//
// A live is made by newLive and must be closed; after close it prints
// events as plain lines and writes lines straight to its output. Its
// methods are safe for concurrent use.
type live struct {
	out     io.Writer
	p       *mpb.Progress
	refresh chan any       // drives mpb's redraws (mpb.WithManualRefresh)
	gone    chan any       // closed by mpb when it shut down (mpb.WithShutdownNotifier)
	stop    chan struct{}  // closed by close to stop the ticker
	ticker  sync.WaitGroup // the ticker goroutine

	mu      sync.Mutex // guards the fields below; never taken by mpb's goroutines
	closed  bool
	waves   map[waveKey]*waveView
	partial []byte // the unfinished last line written to the live view
	// byExec finds the wave of an execution, for its output lines.
	byExec map[string]*waveView
}

// waveKey names one wave of one rollout.
type waveKey struct {
	job     string
	version int
	wave    int
}

// waveView is the bar of one wave and what its decorators show.
type waveView struct {
	bar  *mpb.Bar
	done bool // the bar completed or aborted: events no longer reach it

	mu      sync.Mutex // guards the fields below, which mpb's decorators read while drawing
	nodes   []string   // in the order they were first seen
	states  map[string]string
	execs   map[string]bool // execution (or node, when it has none) -> settled
	current map[string]string
	settled int
	// health is the latest health progress of each execution (by id).
	health map[string]state.HealthProgress
	// first is the first line each execution's task printed (by id).
	first map[string]string
}

// newLive starts a live view drawing to out. opts are added after the
// view's own options (output, manual refresh), so tests can set a width
// or force a terminal.
func newLive(out io.Writer, opts ...mpb.ContainerOption) *live {
	l := &live{
		out:     out,
		refresh: make(chan any),
		gone:    make(chan any),
		stop:    make(chan struct{}),
		waves:   map[waveKey]*waveView{},
		byExec:  map[string]*waveView{},
	}
	l.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(out), mpb.WithManualRefresh(l.refresh), mpb.WithShutdownNotifier(l.gone)}, opts...)...)
	l.ticker.Add(1)
	go l.tick()
	return l
}

// tick asks mpb to redraw every liveRefresh until stop is closed. The view
// drives redraws itself, whatever its output, so that lines written above
// the bars are flushed even where mpb would not refresh on its own.
func (l *live) tick() {
	defer l.ticker.Done()
	t := time.NewTicker(liveRefresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			select {
			case l.refresh <- now:
			case <-l.stop:
				return
			case <-l.gone:
				return
			}
		}
	}
}

// event draws ev: it adds a bar on wave_started, moves it on executions,
// and finishes the bars of the rollout on every other kind, printing its
// message as a line above them.
func (l *live) event(ev apply.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		if ev.Health == nil {
			fmt.Fprint(l.out, plainLine(ev))
		}
		return
	}
	switch ev.Kind {
	case apply.RolloutStarted:
		l.finish(ev.Job, -1, false)
		l.line(plainLine(ev))
	case apply.WaveStarted:
		l.finish(ev.Job, ev.Version, false)
		l.addWave(ev)
	case apply.ExecutionEvent:
		v := l.waves[waveKey{ev.Job, ev.Version, ev.Wave}]
		if v == nil || v.done {
			// Not part of a wave in progress (an execution re-attached or
			// lost before the waves): there is no bar to move, and its
			// health progress has nowhere to show.
			if ev.Health == nil {
				l.line(plainLine(ev))
			}
			return
		}
		if ev.Execution != "" {
			l.byExec[ev.Execution] = v
		}
		if v.update(ev) {
			l.line(plainLine(ev))
		}
	case apply.ProbeEvent:
		// A probe's outcome changed, or it failed: a line; the waves go
		// on.
		l.line(plainLine(ev))
	default:
		// completed, canary_paused, rollout_failed, rolled_back, and kinds
		// of jobs that keep running: a message to keep, after which the
		// waves drawn so far are over.
		l.line(plainLine(ev))
		l.finish(ev.Job, -1, ev.Kind == apply.RolloutFailed || ev.Kind == apply.RolledBack)
	}
}

// addWave adds the bar of the wave ev starts, below those already drawn.
func (l *live) addWave(ev apply.Event) {
	v := &waveView{states: map[string]string{}, execs: map[string]bool{}, current: map[string]string{},
		health: map[string]state.HealthProgress{}, first: map[string]string{}}
	name := fmt.Sprintf("%s v%d %s", ev.Job, ev.Version, waveName(ev.Wave))
	bar, err := l.p.Add(0, mpb.BarStyle().Build(),
		mpb.BarWidth(liveBarWidth),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.Any(v.counts, decor.WCSyncSpaceR),
			decor.Any(v.nodeStates()),
		),
	)
	if err != nil {
		// The container stopped (it cannot before close): print instead.
		l.line(plainLine(ev))
		return
	}
	v.bar = bar
	l.waves[waveKey{ev.Job, ev.Version, ev.Wave}] = v
}

// finish ends the bars of job that are still moving (of every version when
// version is -1), leaving them drawn: complete when every execution
// settled and no node is left failed, aborted otherwise. failed says the
// rollout failed, so that a wave that started nothing is not shown as done.
func (l *live) finish(job string, version int, failed bool) {
	for k, v := range l.waves {
		if k.job == job && (version < 0 || k.version == version) && !v.done {
			v.end(failed)
		}
	}
}

// line prints s (whole lines) above the bars.
func (l *live) line(s string) {
	if _, err := l.p.Write([]byte(s)); err != nil {
		fmt.Fprint(l.out, s)
	}
}

// Write prints the whole lines of b above the bars, keeping an unfinished
// last line until the rest of it is written. It is where task output goes
// while the view is drawn (see progressWriter). It never fails.
func (l *live) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	i := bytes.LastIndexByte(l.partial, '\n')
	if i < 0 {
		return len(b), nil
	}
	lines := string(l.partial[:i+1])
	l.partial = append(l.partial[:0], l.partial[i+1:]...)
	if l.closed {
		io.WriteString(l.out, lines)
	} else {
		l.noteFirstLines(lines)
		l.line(lines)
	}
	return len(b), nil
}

// noteFirstLines keeps, for each execution of a wave drawn that had
// printed nothing yet, the first of lines (task output, "  <id> | text" or
// "  <id> ! text") it printed, to show beside its node.
func (l *live) noteFirstLines(lines string) {
	for _, line := range strings.Split(strings.TrimSuffix(lines, "\n"), "\n") {
		id, text, ok := outputLine(line)
		if !ok {
			continue
		}
		if v := l.byExec[id]; v != nil {
			v.noteFirst(id, text)
		}
	}
}

// outputLine splits a line of task output as apply prints it,
// "  <id> | text" (stdout) or "  <id> ! text" (stderr).
func outputLine(line string) (id, text string, ok bool) {
	rest, ok := strings.CutPrefix(line, "  ")
	if !ok {
		return "", "", false
	}
	i := strings.IndexByte(rest, ' ')
	if i <= 0 || len(rest) < i+3 || rest[i+2] != ' ' || rest[i+1] != '|' && rest[i+1] != '!' {
		return "", "", false
	}
	return rest[:i], rest[i+3:], true
}

// firstLineMax is how many characters of an execution's first output
// line the view keeps.
const firstLineMax = 80

// terminalEscape matches the escape sequences of ECMA-48 a task may print:
// CSI (colours, cursor moves), OSC (titles, links) and two-character ones.
var terminalEscape = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])`)

// noteFirst keeps text as execution id's first output line, unless it has
// one or text is blank. Escape sequences and other control characters are
// dropped: a task's output must not move the cursor or break the bars.
func (v *waveView) noteFirst(id, text string) {
	text = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, terminalEscape.ReplaceAllString(text, "")))
	if text == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.first[id]; !ok {
		v.first[id] = truncate(text, firstLineMax)
	}
}

// close ends every bar still moving, draws the view a last time and stops
// it, leaving its final state on screen. Later events and writes go to the
// output as plain lines. close may be called more than once.
func (l *live) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if len(l.partial) > 0 {
		l.line(string(l.partial) + "\n")
		l.partial = nil
	}
	for _, v := range l.waves {
		if !v.done {
			v.end(false)
		}
	}
	close(l.stop)
	l.ticker.Wait()
	// One last redraw flushes the lines written since the previous one;
	// mpb handles it before it sees the shutdown that Wait starts.
	select {
	case l.refresh <- time.Now():
	case <-l.gone: // mpb stopped on a drawing error
	}
	l.p.Wait()
}

// update applies an execution event to the wave and moves its bar. It
// reports whether the event is worth a line of its own: an execution that
// ended other than complete.
func (v *waveView) update(ev apply.Event) bool {
	v.mu.Lock()
	key := ev.Execution
	if key == "" {
		key = v.current[ev.Node] // health of the node's latest execution
	}
	if key == "" {
		key = "node " + ev.Node
	}
	if _, seen := v.execs[key]; !seen {
		v.current[ev.Node] = key
	}
	v.execs[key] = state.ComputeState(ev.State).Ended() || ev.State == "healthy"
	if _, seen := v.states[ev.Node]; !seen {
		v.nodes = append(v.nodes, ev.Node)
	}
	v.states[ev.Node] = ev.State
	if ev.Health != nil && ev.Execution != "" {
		v.health[ev.Execution] = *ev.Health
	}
	v.settled = 0
	for _, s := range v.execs {
		if s {
			v.settled++
		}
	}
	started, settled := len(v.execs), v.settled
	v.mu.Unlock()
	v.bar.SetTotal(int64(started), false)
	v.bar.SetCurrent(int64(settled))
	return state.ComputeState(ev.State).Ended() && ev.State != string(state.ComputeComplete)
}

// end completes the wave's bar, or aborts it when the wave did not go
// well, leaving it drawn either way.
func (v *waveView) end(failed bool) {
	v.done = true
	v.mu.Lock()
	ok := v.settled == len(v.execs) && !(failed && len(v.execs) == 0)
	for _, s := range v.states {
		if bad(s) {
			ok = false
		}
	}
	v.mu.Unlock()
	if ok {
		v.bar.SetTotal(-1, true)
	} else {
		v.bar.Abort(false)
	}
}

// counts is the decorator that shows how many executions of the wave
// settled (ended, or became healthy) out of those that started.
func (v *waveView) counts(decor.Statistics) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprintf("%d/%d", v.settled, len(v.execs))
}

// nodeStates returns the decorator that shows a spinner and the state of
// every node while the wave is in progress, and a mark with the nodes
// that did not complete once it is over. It cuts its text so that the bar
// keeps liveBarWidth columns.
func (v *waveView) nodeStates() decor.DecorFunc {
	frame := 0
	return func(s decor.Statistics) string {
		v.mu.Lock()
		defer v.mu.Unlock()
		var b strings.Builder
		switch {
		case s.Aborted:
			b.WriteString("✗")
		case s.Completed:
			b.WriteString("✓")
		default:
			b.WriteString(liveSpinner[frame%len(liveSpinner)])
			frame++
		}
		sep := " "
		for _, n := range v.nodes {
			st := v.states[n]
			if (s.Aborted || s.Completed) && !bad(st) {
				continue
			}
			fmt.Fprintf(&b, "%s%s: %s", sep, n, v.nodeDetail(n, st, !s.Aborted && !s.Completed))
			sep = ", "
		}
		return truncate(b.String(), s.AvailableWidth-liveBarWidth-2)
	}
}

// nodeDetail is what the view shows of node n in state st: the state, and
// while the wave is in progress, of the node's current execution, its
// health progress while it runs and is not healthy yet, and the first line
// its task printed. v.mu is held.
func (v *waveView) nodeDetail(n, st string, moving bool) string {
	id := v.current[n]
	if !moving || id == "" {
		return st
	}
	var b strings.Builder
	b.WriteString(st)
	if h, ok := v.health[id]; ok && st == string(state.ComputeRunning) {
		// Checks beyond the threshold wait for min_healthy_time: 3/3 says so.
		fmt.Fprintf(&b, " (checks %d/%d, %s/%s)", min(h.Passed, h.SuccessThreshold), h.SuccessThreshold, seconds(h.RanSeconds), seconds(h.MinHealthySeconds))
	}
	if line := v.first[id]; line != "" {
		fmt.Fprintf(&b, " \"%s\"", line)
	}
	return b.String()
}

// seconds prints a number of seconds as a short duration: 300ms, 2.5s, 30s,
// 1m30s.
func seconds(f float64) string {
	d := time.Duration(f * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// truncate cuts s to at most n runes, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + "…"
}

// bad reports whether a node left in state st failed its wave.
func bad(st string) bool {
	switch st {
	case string(state.ComputeFailed), string(state.ComputeLost), "unhealthy":
		return true
	}
	return false
}
