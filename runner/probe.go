package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// ProbeResult is what one probe of a running execution found
// (rollout.health_check.probe).
type ProbeResult struct {
	// Kind is the probe's kind: "http", "tcp" or "exec".
	Kind string `json:"kind"`
	// OK says the probe passed: an accepted HTTP status, a TCP connection
	// that opened, a command that exited 0, all within the timeout.
	OK bool `json:"ok"`
	// Message says what the probe found, in words ("GET
	// http://127.0.0.1:20001/health: 500 Internal Server Error").
	Message string `json:"message"`
	// Took is how long the probe ran.
	Took time.Duration `json:"took"`
	// NotRunning says the node runs no such execution (it ended, or was
	// never started there); OK is false then.
	NotRunning bool `json:"not_running,omitempty"`
}

// Bounds of what a probe reads.
const (
	// MaxProbeOutput is how much of an exec probe's output the agent
	// keeps for the message: the first bytes, the rest is read and
	// dropped.
	MaxProbeOutput = 512
	// maxProbeBody is how much of an HTTP probe's answer is read (and
	// dropped) before the connection is closed.
	maxProbeBody = 64 << 10
)

// liveExecution is an execution the agent runs now, as Probe needs it:
// the job the agent runs it for (never a probe spec from elsewhere), its
// host ports, the driver's handle and the texts its messages hide.
type liveExecution struct {
	job    *schema.Job
	ports  map[string]int
	h      Handle
	hidden []string
}

// goLive makes execution e of job j, started (or re-attached) as h,
// probeable until the returned func is called or it ends (finish).
func (a *Agent) goLive(e state.Execution, j *schema.Job, h Handle) (gone func()) {
	x := &liveExecution{job: j, ports: e.Ports, h: h}
	if v, ok := a.hidden.Load(e.ID); ok {
		x.hidden = v.([]string)
	}
	a.live.Store(e.ID, x)
	return func() { a.live.CompareAndDelete(e.ID, x) }
}

// Probe runs the probe of rollout.health_check.probe once against
// execution executionID, as the job the agent runs it for says, within the
// probe's timeout (2s by default):
//
//   - http: GET http://127.0.0.1:<host port><path>, the host port of the
//     named entry of task.ports; it passes on an accepted status
//     (HTTPProbe.Accepts). Redirects are not followed (a 3xx is a status)
//     and at most 64 KiB of the body is read.
//   - tcp: a connection to 127.0.0.1:<host port> opens.
//   - exec: the command exits 0, run inside the task's environment through
//     the driver's handle (Execer); the message holds its exit code and
//     the first lines of its output (at most MaxProbeOutput bytes).
//
// A job without a probe passes while the execution runs. An execution the
// agent does not run (never started here, or ended) gives NotRunning. The
// message never shows the execution's sensitive values. The error is
// ctx's, when ctx ended before the probe could say anything.
func (a *Agent) Probe(ctx context.Context, executionID string) (ProbeResult, error) {
	v, ok := a.live.Load(executionID)
	if !ok {
		return a.notRunning(executionID), nil
	}
	x := v.(*liveExecution)
	p := x.job.Rollout.HealthCheck.Probe
	if p == nil {
		return ProbeResult{OK: true, Message: "running; the job has no probe"}, nil
	}
	timeout := time.Duration(p.Timeout)
	if timeout <= 0 {
		timeout = time.Duration(schema.DefaultProbeTimeout)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	res := ProbeResult{Kind: p.Kind()}
	switch {
	case p.HTTP != nil:
		res.OK, res.Message = x.probeHTTP(pctx, p.HTTP, timeout)
	case p.TCP != nil:
		res.OK, res.Message = x.probeTCP(pctx, p.TCP, timeout)
	case p.Exec != nil:
		res.OK, res.Message = x.probeExec(pctx, p.Exec, timeout)
	default:
		res.Message = "the probe names no kind (http, tcp or exec)"
	}
	res.Took = time.Since(start)
	if !res.OK {
		if err := ctx.Err(); err != nil {
			return ProbeResult{}, fmt.Errorf("probe of execution %s on node %s: %w", executionID, a.NodeID, err)
		}
		if cur, ok := a.live.Load(executionID); !ok || cur != x {
			// It ended while probed: that, not the probe, is the news.
			nr := a.notRunning(executionID)
			nr.Kind, nr.Took = res.Kind, res.Took
			return nr, nil
		}
	}
	res.Message = sensitive.Redact(res.Message, x.hidden)
	return res, nil
}

func (a *Agent) notRunning(id string) ProbeResult {
	return ProbeResult{NotRunning: true, Message: fmt.Sprintf("node %s runs no execution %s", a.NodeID, id)}
}

// hostPort returns the host port of task.ports entry name.
func (x *liveExecution) hostPort(name string) (int, string) {
	port, ok := x.ports[name]
	if !ok || port <= 0 {
		return 0, fmt.Sprintf("ports.%s: the execution has no such host port", name)
	}
	return port, ""
}

// probeClient makes the GETs of HTTP probes: one connection each (a
// probe says whether the task accepts connections now, not whether an old
// one still stands), no proxy, no redirect followed.
var probeClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{}).DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (x *liveExecution) probeHTTP(ctx context.Context, p *schema.HTTPProbe, timeout time.Duration) (bool, string) {
	port, msg := x.hostPort(p.Port)
	if port == 0 {
		return false, msg
	}
	path := p.Path
	if path == "" {
		path = schema.DefaultProbePath
	}
	u := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %v", u, err)
	}
	req.Header.Set("User-Agent", "muster-probe")
	resp, err := probeClient.Do(req)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %s", u, failure(ctx, err, timeout))
	}
	// The status decides; the body is drained (bounded) so that the task
	// sees a whole exchange, and a slow body does not fail a probe whose
	// status came in time.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	// The standard text of the code, not the task's reason phrase, which
	// may say anything at any length.
	msg = strings.TrimSpace(fmt.Sprintf("GET %s: %d %s", u, resp.StatusCode, http.StatusText(resp.StatusCode)))
	if !p.Accepts(resp.StatusCode) {
		return false, msg + " (want " + wanted(p.Status) + ")"
	}
	return true, msg
}

// wanted says which statuses an HTTP probe accepts.
func wanted(status []int) string {
	if len(status) == 0 {
		return "2xx or 3xx"
	}
	s := make([]string, len(status))
	for i, c := range status {
		s[i] = strconv.Itoa(c)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func (x *liveExecution) probeTCP(ctx context.Context, p *schema.TCPProbe, timeout time.Duration) (bool, string) {
	port, msg := x.hostPort(p.Port)
	if port == 0 {
		return false, msg
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, fmt.Sprintf("connect to %s: %s", addr, failure(ctx, err, timeout))
	}
	c.Close()
	return true, "connected to " + addr
}

func (x *liveExecution) probeExec(ctx context.Context, p *schema.ExecProbe, timeout time.Duration) (bool, string) {
	ex, ok := x.h.(Execer)
	if !ok {
		return false, fmt.Sprintf("the %s driver cannot run a command inside its executions", x.job.Task.Engine)
	}
	if len(p.Cmd) == 0 {
		return false, "the exec probe has no cmd"
	}
	var out headWriter
	code, err := ex.Exec(ctx, p.Cmd, &out)
	text := out.text()
	switch {
	case err != nil && ctx.Err() != nil:
		return false, withOutput(fmt.Sprintf("no exit within %s (timeout); killed", timeout), text)
	case err != nil:
		return false, withOutput(err.Error(), text)
	}
	return code == 0, withOutput("exit code "+strconv.Itoa(code), text)
}

func withOutput(msg, text string) string {
	if text == "" {
		return msg
	}
	return msg + ": " + text
}

// failure says why a dial or a request failed: its timeout, or the
// innermost reason ("connection refused").
func failure(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s (timeout)", timeout)
	}
	return innermost(err).Error()
}

// innermost is err without the URL, network operation and system call
// that wrap its reason ("connection refused", "address already in use").
func innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		err = sc.Err
	}
	return err
}

// headWriter keeps the first MaxProbeOutput bytes written to it and drops
// the rest, counting them. It is safe for concurrent writes (stdout and
// stderr of one command).
type headWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	extra int64
}

func (w *headWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if room := MaxProbeOutput - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.extra += int64(len(p) - room)
			p = p[:room]
		}
		w.buf.Write(p)
	} else {
		w.extra += int64(len(p))
	}
	return n, nil
}

// text is the kept output as one line of at most MaxProbeOutput bytes:
// valid UTF-8 with no control characters (tabs and carriage returns are
// spaces, the others "?", so a message shows no escape sequence on a
// terminal), its non-empty lines trimmed and joined with " | ", and " …"
// at the end when output was dropped.
func (w *headWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(strings.ToValidUTF8(w.buf.String(), "\uFFFD"), "\n") {
		if l = strings.TrimSpace(strings.Map(printable, l)); l != "" {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, " | ")
	cut := w.extra > 0
	if len(s) > MaxProbeOutput {
		s, cut = s[:MaxProbeOutput], true
	}
	if cut {
		// Do not end in the middle of a character.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
		s = strings.TrimRight(s, " ") + " …"
	}
	return s
}

// printable maps a control character to "?", a tab or a carriage return
// to a space.
func printable(r rune) rune {
	switch {
	case r == '\t' || r == '\r':
		return ' '
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return '?'
	}
	return r
}
