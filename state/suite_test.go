package state

import (
	"context"
	"github.com/nats-io/nats.go"
	"testing"
	"time"
)

// backend makes stores for the suite: fresh (empty) one per test, plus
// further connections to the same server.
type backend struct {
	name string
	// fresh returns an empty store; listen asks for one that other
	// connections can reach.
	fresh func(t *testing.T, listen bool) *Store
	// connect returns another store on the server behind s.
	connect func(t *testing.T, s *Store) *Store
}

// suite is every store test that runs the same on every backend.
var suite = []struct {
	name string
	run  func(t *testing.T, b backend)
}{
	{"Specs", testSpecs},
	{"SensitivePaths", testSensitivePaths},
	{"ResolveSpec", testResolveSpec},
	{"Jobs", testJobs},
	{"JobErrors", testJobErrors},
	{"UpdateStatus", testUpdateStatus},
	{"UpdateStatusConcurrent", testUpdateStatusConcurrent},
	{"Nodes", testNodes},
	{"Executions", testExecutions},
	{"WatchExecutions", testWatchExecutions},
	{"Documents", testDocuments},
	{"ConcurrentCommits", testConcurrentCommits},
}

func runSuite(t *testing.T, b backend) {
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) { c.run(t, b) })
	}
}

// embedded is the backend of stores opened on a fresh directory each.
var embedded = backend{
	name: "embedded",
	fresh: func(t *testing.T, listen bool) *Store {
		opts := Options{}
		if listen {
			opts.Listen = "127.0.0.1:0"
		}
		return openT(t, t.TempDir(), opts)
	},
	connect: func(t *testing.T, s *Store) *Store { return connectT(t, s.ClientURL()) },
}

func TestEmbedded(t *testing.T) { runSuite(t, embedded) }

// testToken is the bootstrap token of the stores tests open with a
// listener, which connectT presents: the embedded server lets nobody in
// without one.
const testToken = "test-bootstrap-token"

func openT(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	if opts.Listen != "" && opts.Token == "" {
		opts.Token = testToken
	}
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func connectT(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Connect(context.Background(), url, nats.Token(testToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ctxT is a context bounded well inside the test timeout.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
