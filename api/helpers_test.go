package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/state"
)

// fakeControl is a Control over a real store: Rollout emits the events of a
// short rollout to the subscribers of Events; ReadLog serves logs.
type fakeControl struct {
	b Backend

	mu       sync.Mutex
	subs     map[*subscriber]bool
	rollouts []string // "ns/name@version promote=bool"
	promoted []string
	logs     map[string][]byte // "ns/name/id/stream"
}

type subscriber struct {
	ns, name string
	ch       chan Event
}

func newFakeControl(b Backend) *fakeControl {
	return &fakeControl{b: b, subs: map[*subscriber]bool{}, logs: map[string][]byte{}}
}

func (f *fakeControl) Info(ctx context.Context) (Info, error) {
	return Info{APIVersion: Version, Mode: "dev", NATSURL: "nats://127.0.0.1:4222", Nodes: []string{"local"}, PID: 42}, nil
}

func (f *fakeControl) Rollout(ctx context.Context, ns, name string, version int, promote bool) error {
	if _, err := f.b.Job(ctx, ns, name); err != nil {
		return err
	}
	f.mu.Lock()
	f.rollouts = append(f.rollouts, fmt.Sprintf("%s/%s@%d promote=%v", ns, name, version, promote))
	f.mu.Unlock()
	job := ns + "/" + name
	for _, ev := range []Event{
		{Job: job, Version: version, Kind: "rollout_started"},
		{Job: job, Version: version, Kind: "wave_started", Wave: 1},
		{Job: job, Version: version, Kind: "execution", Wave: 1, Node: "n1", Execution: "e1", State: string(state.ComputeRunning)},
		{Job: job, Version: version, Kind: "completed", State: string(state.StateRunning), Message: "done"},
	} {
		ev.Time = time.Now().UTC()
		f.emit(ns, name, ev)
	}
	return nil
}

func (f *fakeControl) Promote(ctx context.Context, ns, name string) error {
	if _, err := f.b.Job(ctx, ns, name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.promoted = append(f.promoted, ns+"/"+name)
	return nil
}

func (f *fakeControl) Stop(ctx context.Context, ns, name string) (int, error) {
	if _, err := f.b.Job(ctx, ns, name); err != nil {
		return 0, err
	}
	execs, err := f.b.Executions(ctx, ns, name)
	return len(execs), err
}

func (f *fakeControl) Events(ctx context.Context, ns, name string) (<-chan Event, error) {
	s := &subscriber{ns: ns, name: name, ch: make(chan Event, 100)}
	f.mu.Lock()
	f.subs[s] = true
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		delete(f.subs, s)
		close(s.ch)
		f.mu.Unlock()
	}()
	return s.ch, nil
}

// calls returns the recorded rollouts and promotions.
func (f *fakeControl) calls() (rollouts, promoted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.rollouts), slices.Clone(f.promoted)
}

func (f *fakeControl) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// emit sends ev to every subscriber of job ns/name.
func (f *fakeControl) emit(ns, name string, ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		if s.name == "" || s.ns == ns && s.name == name {
			s.ch <- ev
		}
	}
}

func (f *fakeControl) ReadLog(ctx context.Context, ns, name, id, stream string, offset int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.logs[ns+"/"+name+"/"+id+"/"+stream]
	if !ok {
		return nil, fmt.Errorf("execution %s/%s/%s: no node serving it answered: %w", ns, name, id, state.ErrNotFound)
	}
	if offset >= int64(len(b)) {
		return []byte{}, nil
	}
	return b[offset:], nil
}

// harness is a server over a real store and a fake control, and a client
// of it.
type harness struct {
	store  *state.Store
	ctl    *fakeControl
	srv    *httptest.Server
	client *Client
}

// newHarness starts a server requiring token (none when "") on a fresh
// store, seen through wrap when it is not nil, and a client sending the
// same token.
func newHarness(t *testing.T, token string, wrap func(*state.Store) Backend) *harness {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	var b Backend = st
	if wrap != nil {
		b = wrap(st)
	}
	h := &harness{store: st, ctl: newFakeControl(b)}
	h.srv = httptest.NewServer(NewServer(b, h.ctl, token))
	t.Cleanup(h.srv.Close)
	h.client = NewClient(h.srv.URL, token)
	t.Cleanup(func() { h.client.Close() })
	return h
}

// raw sends a request without the client and returns the status, the
// error code of the body ("" if none) and the body.
func (h *harness) raw(t *testing.T, method, path, token, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	e := readError(&http.Response{StatusCode: resp.StatusCode, Status: resp.Status, Body: io.NopCloser(strings.NewReader(string(b)))})
	return resp.StatusCode, e.Code, string(b)
}

// ctxT returns a context that ends with the test or after 30 seconds.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// spec is the canonical spec of the job default/name, version i.
// storeJobs records n running jobs default/web-<i> in st, one version
// each, and returns their names.
func storeJobs(tb testing.TB, st *state.Store, n int) []string {
	tb.Helper()
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("web-%d", i)
		hash, err := st.PutSpec(context.Background(), spec(names[i], i))
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := st.CommitVersion(context.Background(), "default", names[i], hash, 0, state.StateRunning); err != nil {
			tb.Fatal(err)
		}
	}
	return names
}

func spec(name string, i int) []byte {
	return canonicalOf(fmt.Sprintf(`{"name":%q,"description":"version %d","task":{"engine":"exec","cmd":["true"]}}`, name, i))
}

// canonicalOf compiles one job written in JSON and returns its canonical
// bytes, as `muster compile -o json` prints them.
func canonicalOf(src string) []byte {
	res := compiler.Compile("job.json", []byte(src), compiler.JSON, lang.Options{})
	if res.Diags.HasErrors() || len(res.Jobs) != 1 {
		panic(fmt.Sprintf("test job %s: %v", src, res.Diags))
	}
	return res.Jobs[0].Spec.Canonical()
}

// commit stores a spec and commits it as a new version of default/name.
func commit(t *testing.T, c *Client, name string, i int, base uint64) state.JobStatus {
	t.Helper()
	ctx := ctxT(t)
	h, err := c.PutSpec(ctx, spec(name, i))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.CommitVersion(ctx, "default", name, h, base, state.StateRunning)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fakeControl) Launch(ctx context.Context, ns, name string) (state.Launch, error) {
	js, err := f.b.Job(ctx, ns, name)
	if err != nil {
		return state.Launch{}, err
	}
	return state.Launch{Namespace: ns, Name: name, ID: "m1", Version: js.Version, Reason: state.LaunchManual, State: state.LaunchRunning}, nil
}
