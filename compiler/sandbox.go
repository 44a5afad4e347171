package compiler

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/lang"
)

// WorkerEnv in a process's environment makes muster's main serve
// evaluations (ServeWorker) instead of running a command. Its value is the
// protocol version.
const WorkerEnv = "MUSTER_EVAL_WORKER"

const workerProtocol = "1"

// IsWorker reports whether this process was started as a worker.
func IsWorker() bool { return os.Getenv(WorkerEnv) == workerProtocol }

// Sandbox evaluates CUE and HCL files in worker processes within Limits
// (see "Bounded evaluation" in bound.go). It is safe for concurrent use:
// each call takes an idle worker, sends it the file and reads the answer on
// the calling goroutine. Workers start when needed, up to n: the first at
// once, another only when a file has waited growAfter for an idle one, so
// that a few quick files do not pay for starting processes they would not
// use.
//
// Close must be called: it kills the workers.
type Sandbox struct {
	exe     string
	limits  Limits
	n       int
	idle    chan *worker
	stopped chan struct{} // closed by Close
	mu      sync.Mutex
	closed  bool
	count   int                  // workers started or starting
	live    map[*worker]struct{} // started and not reaped
}

// growAfter is how long a file waits for an idle worker before the
// sandbox starts another (when it may).
const growAfter = 2 * time.Millisecond

// NewSandbox returns a sandbox of at most n workers, each the executable
// exe started with WorkerEnv set (and "muster" as its argv[0]). exe must
// call ServeWorker when IsWorker, as muster's main does.
func NewSandbox(exe string, limits Limits, n int) *Sandbox {
	n = max(n, 1)
	return &Sandbox{exe: exe, limits: limits.orDefaults(), n: n, idle: make(chan *worker, n),
		stopped: make(chan struct{}), live: map[*worker]struct{}{}}
}

// Close kills every worker and reaps it: evaluations in progress end with
// an error that says so, and later ones fail at once. When Close returns,
// no worker process is left. It may be called more than once.
func (s *Sandbox) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stopped)
	}
	live := make([]*worker, 0, len(s.live))
	for w := range s.live {
		live = append(live, w)
	}
	s.mu.Unlock()
	for _, w := range live {
		w.kill()
	}
	for _, w := range live {
		w.wait()
	}
	for {
		select {
		case w := <-s.idle:
			s.drop(w)
		default:
			return
		}
	}
}

// errStopped is the evaluation error after Close.
var errStopped = errors.New("stopped")

func (s *Sandbox) evaluate(f Format, filename string, src []byte, opts lang.Options) ([]*lang.Value, lang.Diagnostics) {
	w, err := s.acquire()
	if err != nil {
		return nil, boundError(filename, f, err, s.limits)
	}
	resp, err := w.call(&request{Format: f, File: filename, Src: src, Opts: opts, Limits: s.limits}, s.limits.Time)
	if err != nil {
		err = s.explain(w, err)
		s.drop(w)
		return nil, boundError(filename, f, err, s.limits)
	}
	s.release(w)
	return resp.Trees, resp.Diags
}

// acquire returns an idle worker, or a new one when the sandbox may start
// one.
func (s *Sandbox) acquire() (*worker, error) {
	waited := false
	for {
		select {
		case w := <-s.idle:
			return w, nil
		case <-s.stopped:
			return nil, errStopped
		default:
		}
		if w, err, decided := s.tryStart(waited); decided {
			return w, err
		}
		var grow <-chan time.Time
		if !waited {
			t := time.NewTimer(growAfter)
			grow = t.C
			defer t.Stop()
		}
		select {
		case w := <-s.idle:
			return w, nil
		case <-s.stopped:
			return nil, errStopped
		case <-grow:
			waited = true
		}
	}
}

// tryStart starts a worker when there is room for one and none runs yet
// or the caller waited growAfter; decided is false when it may not.
func (s *Sandbox) tryStart(waited bool) (w *worker, err error, decided bool) {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, errStopped, true
	case s.count >= s.n || s.count > 0 && !waited:
		s.mu.Unlock()
		return nil, nil, false
	}
	s.count++
	s.mu.Unlock()
	w, err = startWorker(s.exe)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.closed {
		w.kill()
		w.wait()
		err = errStopped
	}
	if err != nil {
		s.count--
		return nil, err, true
	}
	s.live[w] = struct{}{}
	return w, nil, true
}

// release makes w idle again, or ends it after Close.
func (s *Sandbox) release(w *worker) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.idle <- w // never blocks: there are at most n workers
	}
	s.mu.Unlock()
	if closed {
		s.drop(w)
	}
}

// drop kills w, reaps it and makes room for another.
func (s *Sandbox) drop(w *worker) {
	w.kill()
	w.wait()
	s.mu.Lock()
	if _, ok := s.live[w]; ok {
		delete(s.live, w)
		s.count--
	}
	s.mu.Unlock()
}

// explain turns the error of a call into the error of the file.
func (s *Sandbox) explain(w *worker, err error) error {
	switch {
	case isClosed(s.stopped):
		return errStopped // Close killed it
	case errors.Is(err, errTime), errors.Is(err, errWireBudget):
		return err
	}
	return w.died()
}

// worker is one worker process, used by one dispatcher.
type worker struct {
	cmd    *exec.Cmd
	in     *bufio.Writer
	out    *bufio.Reader
	files  []*os.File // the parent's ends of the pipes
	stderr *headBuffer
	waited sync.Once
	state  error // what cmd.Wait returned
}

// startWorker starts a worker on pipes of its own, so that the parent's
// ends can be closed when it is reaped.
func startWorker(exe string) (*worker, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Args[0] = "muster"
	cmd.Env = append(os.Environ(), WorkerEnv+"="+workerProtocol)
	cmd.Stdin, cmd.Stdout = inR, outW
	w := &worker{cmd: cmd, in: bufio.NewWriterSize(inW, 64<<10), out: bufio.NewReaderSize(outR, 64<<10),
		files: []*os.File{inW, outR}, stderr: &headBuffer{max: 4 << 10}}
	cmd.Stderr = w.stderr
	err = cmd.Start()
	inR.Close() // the worker's ends: once it is gone, reading gives EOF
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("cannot start an evaluation worker (%s): %v", exe, err)
	}
	return w, nil
}

func (w *worker) kill() { w.cmd.Process.Kill() }

// wait reaps the process once and returns how it ended.
func (w *worker) wait() error {
	w.waited.Do(func() {
		w.state = w.cmd.Wait()
		for _, f := range w.files {
			f.Close()
		}
	})
	return w.state
}

// Errors of a worker's run, besides errStopped.
var (
	errTime   = errors.New("time")
	errMemory = errors.New("memory")
)

// call sends q and reads the answer, killing the worker when limit passes
// first. An error means the worker is no longer usable.
func (w *worker) call(q *request, limit time.Duration) (*response, error) {
	var late atomic.Bool
	timer := time.AfterFunc(limit, func() {
		late.Store(true)
		w.kill()
	})
	encodeRequest(w.in, q)
	err := w.in.Flush()
	var resp *response
	if err == nil {
		resp, err = readResponse(w.out)
	}
	if !timer.Stop() || late.Load() {
		return nil, errTime
	}
	return resp, err
}

// Exit codes of a worker that stops itself.
const (
	exitWorkerMemory = 3
	exitWorkerTime   = 4
)

// died explains a worker that stopped answering: its memory limit (its own
// watchdog, or the Go runtime out of memory under RLIMIT_DATA), its time
// limit, or a crash.
func (w *worker) died() error {
	w.kill() // in case it is alive but broke the protocol
	err := w.wait()
	var exit *exec.ExitError
	code := -1
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	stderr := w.stderr.String()
	switch {
	case code == exitWorkerMemory || outOfMemory(stderr):
		return errMemory
	case code == exitWorkerTime:
		return errTime
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	if first == "" {
		first = fmt.Sprint(err)
	}
	return fmt.Errorf("the evaluator stopped unexpectedly (please report it): %s", first)
}

// outOfMemory reports whether a worker's stderr says that an allocation
// failed: the Go runtime's "out of memory", or its "cannot allocate
// memory" when mapping more heap fails with ENOMEM, the race detector's
// own allocator under the same RLIMIT_DATA, or a new thread whose stack
// the limit refused (pthread_create fails with EAGAIN).
func outOfMemory(stderr string) bool {
	for _, says := range []string{"out of memory", "cannot allocate memory", "failed to allocate",
		"pthread_create failed: Resource temporarily unavailable"} {
		if strings.Contains(stderr, says) {
			return true
		}
	}
	return false
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}
