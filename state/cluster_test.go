package state

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/wait"
)

// clusterStore connects to the cluster with buckets of the test's own.
func clusterStore(t *testing.T, c *natsCluster, prefix string) *Store {
	t.Helper()
	s, err := Connect(context.Background(), c.urls(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.prefix = prefix
	return s
}

// clusterCtx is a context bounded well inside the test timeout, longer
// than ctxT: a cluster elects leaders in seconds.
func clusterCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// attemptCtx bounds one attempt of a read or write that is retried while
// the cluster elects a leader: a request the servers drop meanwhile is
// never answered.
func attemptCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Second)
}

// wantReplicas fails t unless every stream of s exists with n replicas
// configured and n servers holding a copy.
func wantReplicas(t *testing.T, s *Store, info ClusterInfo, n int) {
	t.Helper()
	var names []string
	for _, st := range info.Streams {
		names = append(names, st.Name)
		if st.Replicas != n || len(st.Peers) != n {
			t.Errorf("stream %s: %d replicas on %v, want %d", st.Name, st.Replicas, st.Peers, n)
		}
	}
	if !slices.Equal(names, s.streamNames()) {
		t.Errorf("streams %v, want %v", names, s.streamNames())
	}
}

func TestReplicasCluster(t *testing.T) {
	c := startCluster(t, 3)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *natsCluster)
	}{
		{"Detect", testReplicasDetect},
		{"Raise", testReplicasRaise},
		{"NeverLower", testReplicasNeverLower},
		{"TooMany", testReplicasTooMany},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, c) })
	}
}

// testReplicasDetect: on three JetStream servers every stream gets three
// copies, one on each.
func testReplicasDetect(t *testing.T, c *natsCluster) {
	s := clusterStore(t, c, testPrefix())
	info, err := s.UseReplicas(clusterCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(info)
	if info.Name != c.name || info.Replicas != 3 || info.JetStreamServers != 3 {
		t.Errorf("cluster %q, %d replicas, %d JetStream servers; want %q, 3, 3", info.Name, info.Replicas, info.JetStreamServers, c.name)
	}
	if want := []string{"n1", "n2", "n3"}; !slices.Equal(info.Peers, want) {
		t.Errorf("peers %v, want %v", info.Peers, want)
	}
	if len(info.Servers) != 3 {
		t.Errorf("servers %v, want 3", info.Servers)
	}
	wantReplicas(t, s, info, 3)
}

// testReplicasRaise: streams made with one copy are raised to three, keep
// their data and every other setting of their configuration.
func testReplicasRaise(t *testing.T, c *natsCluster) {
	ctx := clusterCtx(t)
	prefix := testPrefix()
	old := clusterStore(t, c, prefix)
	if err := old.raiseAll(ctx, 1); err != nil {
		t.Fatal(err)
	}
	h := putSpecs(t, old, "raise", 1)[0]
	if _, err := old.CommitVersion(ctx, "default", "raise", h, 0, StateDeploying); err != nil {
		t.Fatal(err)
	}
	info, err := old.Cluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantReplicas(t, old, info, 1)
	// A setting made on the stream itself, as no KeyValueConfig has it.
	jobs := "KV_" + prefix + bucketJobs
	st, err := old.js.Stream(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.AllowMsgTTL = true
	if _, err := old.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	s := clusterStore(t, c, prefix)
	if info, err = s.UseReplicas(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t.Log(info)
	// UseReplicas waits a while for the new copies; a slow machine may
	// need longer.
	info, _ = wait.For(t, time.Minute, "three current copies of every stream", func() (ClusterInfo, bool) {
		info, err := s.Cluster(ctx)
		ok := err == nil && len(info.Streams) > 0
		for _, st := range info.Streams {
			ok = ok && st.Current == 3
		}
		return info, ok
	})
	wantReplicas(t, s, info, 3)
	if st, err = s.js.Stream(ctx, jobs); err != nil || !st.CachedInfo().Config.AllowMsgTTL {
		t.Errorf("raising %s lost AllowMsgTTL (err %v)", jobs, err)
	}
	if j, err := s.Job(ctx, "default", "raise"); err != nil || j.Hash != h {
		t.Errorf("Job after raising = %+v, %v; want hash %s", j, err, h)
	}
}

// testReplicasNeverLower: neither a store asking for fewer copies nor one
// that never asked lowers the streams of three.
func testReplicasNeverLower(t *testing.T, c *natsCluster) {
	ctx := clusterCtx(t)
	prefix := testPrefix()
	if _, err := clusterStore(t, c, prefix).UseReplicas(ctx, 3); err != nil {
		t.Fatal(err)
	}
	one := clusterStore(t, c, prefix)
	info, err := one.UseReplicas(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantReplicas(t, one, info, 3)
	if got := info.String(); !strings.Contains(got, "not lowered") {
		t.Errorf("String() = %q, want it to say the streams were not lowered", got)
	}
	// A store that never asked updates the events stream on first use.
	plain := clusterStore(t, c, prefix)
	if err := plain.AppendEvent(ctx, Event{Job: "default/web", Kind: EventQueued}); err != nil {
		t.Fatal(err)
	}
	if info, err = plain.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	wantReplicas(t, plain, info, 3)
}

// testReplicasTooMany: more replicas than servers, or than JetStream
// allows, is refused with a clear error and changes nothing.
func testReplicasTooMany(t *testing.T, c *natsCluster) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{5, `only 3 JetStream servers`},
		{4, `only 3 JetStream servers`},
		{6, "want 0"},
		{-1, "want 0"},
	} {
		s := clusterStore(t, c, testPrefix())
		_, err := s.UseReplicas(clusterCtx(t), tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("UseReplicas(%d) = %v, want an error saying %q", tc.n, err, tc.want)
			continue
		}
		t.Log(err)
		if info, err := s.Cluster(clusterCtx(t)); err != nil || len(info.Streams) != 0 {
			t.Errorf("after a refused UseReplicas(%d): streams %v (%v), want none", tc.n, info.Streams, err)
		}
	}
}

// TestReplicasSingleServer: a JetStream server outside a cluster keeps
// one copy, and more are refused.
func TestReplicasSingleServer(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Listen: "127.0.0.1:0"})
	ext := connectT(t, s.ClientURL())
	ctx := ctxT(t)
	info, err := ext.UseReplicas(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(info)
	if info.Replicas != 1 || info.JetStreamServers != 1 || info.Name != "" {
		t.Errorf("single server: %+v, want 1 replica, 1 JetStream server, no cluster", info)
	}
	var names []string
	for _, st := range info.Streams {
		names = append(names, st.Name)
		if st.Replicas != 1 || st.Current != 1 {
			t.Errorf("stream %s: %d replicas, %d current; want 1, 1", st.Name, st.Replicas, st.Current)
		}
	}
	if !slices.Equal(names, ext.streamNames()) {
		t.Errorf("streams %v, want %v", names, ext.streamNames())
	}
	if _, err := ext.UseReplicas(ctx, 2); err == nil || !strings.Contains(err.Error(), "only 1 JetStream server") {
		t.Errorf("UseReplicas(2) on one server = %v, want it refused", err)
	}
}

// TestReplicasLeaderLoss: with three copies, losing the server that leads
// the jobs stream loses nothing: what was written is read back, and
// writes go on once another server leads.
func TestReplicasLeaderLoss(t *testing.T) {
	c := startCluster(t, 3)
	ctx := clusterCtx(t)
	prefix := testPrefix()
	s := clusterStore(t, c, prefix)
	if _, err := s.UseReplicas(ctx, 0); err != nil {
		t.Fatal(err)
	}
	h := putSpecs(t, s, "web", 2)
	first, err := s.CommitVersion(ctx, "default", "web", h[0], 0, StateDeploying)
	if err != nil {
		t.Fatal(err)
	}
	jobs := "KV_" + prefix + bucketJobs
	leader, _ := wait.For(t, wait.Default, "a leader of "+jobs+" with every copy current", func() (StreamReplicas, bool) {
		st, err := s.js.Stream(ctx, jobs)
		if err != nil {
			return StreamReplicas{}, false
		}
		sr := streamReplicas(st.CachedInfo())
		return sr, sr.Leader != "" && sr.Current == 3
	})
	// A client connected to the leader: it has to reconnect as well.
	s = leaderStore(t, c, leader.Leader, prefix)
	t.Logf("shutting down %s, the leader of %s, which the store is connected to", leader.Leader, jobs)
	c.shutdown(t, leader.Leader)

	got, waited := wait.For(t, time.Minute, "a read of the job after losing "+leader.Leader, func() (any, bool) {
		actx, cancel := attemptCtx(ctx)
		defer cancel()
		j, err := s.Job(actx, "default", "web")
		if err != nil {
			return err, false
		}
		return j, true
	})
	if j := got.(JobStatus); j.Hash != h[0] || j.Revision != first.Revision {
		t.Fatalf("Job after losing the leader = %+v, want hash %s at revision %d", j, h[0], first.Revision)
	}
	t.Logf("read after %s", waited)
	if b, err := s.Spec(ctx, h[0]); err != nil || len(b) == 0 {
		t.Errorf("Spec after losing the leader = %d bytes, %v", len(b), err)
	}
	next, waited := wait.For(t, time.Minute, "a write after losing "+leader.Leader, func() (any, bool) {
		actx, cancel := attemptCtx(ctx)
		defer cancel()
		j, err := s.CommitVersion(actx, "default", "web", h[1], first.Revision, StateDeploying)
		if err != nil {
			// A commit whose answer was lost may have been made.
			if j, rerr := s.Job(actx, "default", "web"); rerr == nil && j.Hash == h[1] {
				return j, true
			}
			return err, false
		}
		return j, true
	})
	t.Logf("wrote after %s", waited)
	if j, err := s.Job(ctx, "default", "web"); err != nil || j.Version != 2 || j.Revision != next.(JobStatus).Revision {
		t.Errorf("Job after the write = %+v, %v; want version 2 at revision %d", j, err, next.(JobStatus).Revision)
	}
	sr, _ := wait.For(t, wait.Default, "a new leader of "+jobs, func() (StreamReplicas, bool) {
		st, err := s.js.Stream(ctx, jobs)
		if err != nil {
			return StreamReplicas{}, false
		}
		sr := streamReplicas(st.CachedInfo())
		return sr, sr.Leader != "" && sr.Leader != leader.Leader
	})
	t.Logf("%s now led by %s, %d of 3 copies current", jobs, sr.Leader, sr.Current)
}

// leaderStore connects to the server called leader first, and to the
// others when it goes.
func leaderStore(t *testing.T, c *natsCluster, leader, prefix string) *Store {
	t.Helper()
	var urls []string
	for _, srv := range c.servers {
		if srv.Name() == leader {
			urls = append([]string{srv.ClientURL()}, urls...)
		} else {
			urls = append(urls, srv.ClientURL())
		}
	}
	s, err := Connect(context.Background(), strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.prefix = prefix
	if got := s.Conn().ConnectedServerName(); got != leader {
		t.Fatalf("connected to %s, want %s", got, leader)
	}
	return s
}
